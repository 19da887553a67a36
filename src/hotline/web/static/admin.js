// Administration: check the center configuration with the validator's rules, save, add users.
'use strict';
(() => {
  const {t, el, text} = Hotline;

  function showProblems(problems) {
    const list = el('config-problems');
    list.replaceChildren();
    for (const p of problems || []) {
      const li = document.createElement('li');
      li.className = p.level === 'warning' ? 'warn' : 'bad';
      li.textContent = `${t('admin.line')} ${p.line ?? '?'} · ${p.field || ''} · ${p.problem}`;
      list.appendChild(li);
    }
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body),
    });
    return {ok: response.ok, data: await response.json().catch(() => ({}))};
  }

  el('btn-validate').onclick = async () => {
    const {data} = await post('/api/config/validate', {text: el('config-text').value});
    const problems = [...(data.errors || []).map((p) => ({...p, level: 'error'})),
                      ...(data.warnings || []).map((p) => ({...p, level: 'warning'}))];
    showProblems(problems);
    text('config-result', data.ok ? t('admin.valid') : t('admin.invalid'));
  };

  const save = el('btn-save');
  if (save) save.onclick = async () => {
    const {ok, data} = await post('/admin/center', {text: el('config-text').value});
    showProblems(data.problems);
    text('config-result', ok ? `${t('admin.saved')} ${data.path}` : t('admin.invalid'));
  };

  // Add a code by editing the configuration text itself (comments and layout stay as they
  // are), then the administrator validates and saves it like any other edit.
  function addToSection(text, section, entry) {
    const lines = text.split('\n');
    const start = lines.findIndex((line) => line.startsWith(`${section}:`));
    if (start < 0) return `${text.replace(/\s*$/, '')}\n${section}:\n  - ${entry}\n`;
    let end = start + 1;
    while (end < lines.length && (lines[end].startsWith(' ') || lines[end].startsWith('-') || lines[end].trim() === '')) end += 1;
    while (end > start + 1 && lines[end - 1].trim() === '') end -= 1;
    // Indent like the entries already there ("- " or "  - "): YAML wants one list style.
    const first = lines.slice(start + 1, end).map((line) => line.match(/^(\s*)- /)).find(Boolean);
    lines.splice(end, 0, `${first ? first[1] : '  '}- ${entry}`);
    return lines.join('\n');
  }
  const codeForm = el('code-form');
  if (codeForm) codeForm.onsubmit = (event) => {
    event.preventDefault();
    const f = new FormData(codeForm);
    const entry = `{id: ${f.get('id')}, name: ${JSON.stringify(String(f.get('name')))}}`;
    el('config-text').value = addToSection(el('config-text').value, f.get('section'), entry);
    el('editor').scrollIntoView();
    el('btn-validate').click();
  };

  const form = el('user-form');
  if (form) form.onsubmit = async (event) => {
    event.preventDefault();
    const f = new FormData(form);
    const {ok, data} = await post('/api/users', {
      username: f.get('username'), password: f.get('password'), roles: [f.get('role')],
      agent_id: f.get('agent_id') || null,
    });
    if (ok) { text('user-result', `${t('admin.user_added')} ${data.username}`); setTimeout(() => location.reload(), 600); }
    else { text('user-result', (data.problems || []).map((p) => `${p.field}: ${p.problem}`).join('; ') || data.message); }
  };
})();
