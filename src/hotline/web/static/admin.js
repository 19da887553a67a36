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

  async function send(method, url, body) {
    const response = await fetch(url, {
      method, headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    // 409: the change would lock the administrator out; say so in the page's language.
    if (response.status === 409) data.message = t('admin.self_locked');
    return {ok: response.ok, data};
  }
  const problemText = (data) => (data.problems || []).map((p) => `${p.field}: ${p.problem}`).join('; ')
    || data.message || '';

  // Users: change roles, deactivate/reactivate, reset a password (admin only).
  for (const row of document.querySelectorAll('#users-table tr[data-user]')) {
    const name = row.dataset.user;
    const roles = row.querySelector('.user-save-roles');
    if (!roles) continue;
    roles.onclick = async () => {
      const chosen = [...row.querySelector('.user-roles').selectedOptions].map((o) => o.value);
      const {ok, data} = await send('PATCH', `/api/users/${encodeURIComponent(name)}`, {roles: chosen});
      text('user-result', ok ? `${t('admin.user_changed')} ${name} → ${data.roles.join(', ')}` : problemText(data));
      el('user-result').className = ok ? 'ok' : 'bad';
    };
    row.querySelector('.user-active').onclick = async (event) => {
      const active = event.target.dataset.active === 'true';
      const {ok, data} = await send('PATCH', `/api/users/${encodeURIComponent(name)}`, {active});
      text('user-result', ok ? `${t('admin.user_changed')} ${name}` : problemText(data));
      el('user-result').className = ok ? 'ok' : 'bad';
      if (ok) setTimeout(() => location.reload(), 600);
    };
    row.querySelector('.user-reset').onclick = async () => {
      const password = row.querySelector('.user-password').value;
      const response = await fetch(`/api/users/${encodeURIComponent(name)}/password`, {
        method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify({password}),
      });
      const data = response.ok ? {} : await response.json().catch(() => ({}));
      text('user-result', response.ok ? `${t('admin.password_reset_done')} ${name}` : problemText(data));
      el('user-result').className = response.ok ? 'ok' : 'bad';
      row.querySelector('.user-password').value = '';
    };
  }

  // Apply status: each queue and agent of a saved configuration switches at its own safe
  // point (holding no contact); the page says which still wait, and for which contact.
  function waitingText(item) {
    const what = `${t(`admin.wait_${item.kind}`)} ${item.id}`;
    const stage = t(`admin.wait_stage_${item.stage}`);
    if (item.stage === 'overflow') return `${what}: ${stage} ${item.overflow_from}`;
    if (item.stage === 'quiet') return `${what}: ${stage}`;
    return `${what}: ${t('admin.wait_contact')} ${item.contact} ${stage} ${item.agent || ''}`.trim();
  }
  function showStatus(status) {
    const box = el('apply-status');
    if (!box) return;
    const waiting = (status.waiting || []).map(waitingText);
    if (status.owner) box.textContent = status.pending ? t('admin.apply_owner_pending') : (status.saved ? t('admin.apply_owner_done') : '');
    else if (!status.live) box.textContent = status.saved ? t('admin.apply_restart') : '';
    else if (status.pending) {
      box.textContent = t('admin.apply_pending');
      if (waiting.length) box.textContent += ` ${t('admin.apply_waiting')} ${waiting.join('; ')}`;
    }
    else if (status.applied_at) box.textContent = `${t('admin.apply_live')} ${new Date(status.applied_at * 1000).toLocaleTimeString()}`;
    else box.textContent = '';
    box.className = status.pending ? 'warn' : 'muted';
    if (status.pending) setTimeout(refreshStatus, 3000);
  }
  async function refreshStatus() {
    const response = await fetch('/admin/center/status');
    if (response.ok) showStatus(await response.json());
  }
  if (el('apply-status')) refreshStatus();

  // Structured edits: fill each form from the chosen entry, send it, show problems by field.
  const forms = {
    queue: {
      fill(form, option) {
        form.elements.namedItem('service_level').value = option.dataset.sl;
        form.elements.namedItem('threshold_s').value = option.dataset.threshold;
        form.elements.namedItem('wrap_up_s').value = option.dataset.wrap;
      },
      read: (form) => ({service_level: Number(form.elements.namedItem('service_level').value),
                        threshold_s: Number(form.elements.namedItem('threshold_s').value),
                        wrap_up_s: Number(form.elements.namedItem('wrap_up_s').value)}),
    },
    agent: {
      fill(form, option) { form.elements.namedItem('team').value = option.dataset.team; form.elements.namedItem('skills').value = option.dataset.skills; },
      read(form) {
        const skills = {};
        for (const part of form.elements.namedItem('skills').value.split(',').map((x) => x.trim()).filter(Boolean)) {
          const [skill, level] = part.split(':').map((x) => x.trim());
          skills[skill] = Number(level ?? 'x');
        }
        return {team: form.elements.namedItem('team').value || null, skills};
      },
    },
    hours: {
      fill(form, option) {
        for (const part of option.dataset.hours.split(';')) {
          const [day, ranges] = part.split('=');
          form.elements.namedItem(day).value = ranges;
        }
        form.elements.namedItem('holidays').value = option.dataset.holidays;
      },
      read(form) {
        const hours = {};
        for (const day of ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']) {
          hours[day] = form.elements.namedItem(day).value.split(',').map((x) => x.trim()).filter(Boolean);
        }
        const holidays = form.elements.namedItem('holidays').value.split('\n').map((x) => x.trim()).filter(Boolean)
          .map((line) => {
            const words = line.split(/\s+/);
            const ranges = words.filter((w, i) => i > 0 && /^\d{1,2}:\d{2}-\d{1,2}:\d{2}$/.test(w));
            const name = words.slice(1).filter((w) => !ranges.includes(w)).join(' ');
            return {date: words[0], name, hours: ranges};
          });
        return {hours, holidays};
      },
    },
    // The bot has one entry: the form is filled by the page, nothing to choose.
    bot: {
      read(form) {
        const words = form.elements.namedItem('handover_words').value.split(/[\n,，]/).map((x) => x.trim()).filter(Boolean);
        return {
          queues: [...form.querySelectorAll('input[name="queues"]:checked')].map((box) => box.value),
          threshold: Number(form.elements.namedItem('threshold').value),
          max_failed_turns: Number(form.elements.namedItem('max_failed_turns').value),
          handover_words: words,
        };
      },
    },
  };
  for (const form of document.querySelectorAll('form.edit-form')) {
    const kind = forms[form.dataset.kind];
    const chooser = form.elements.namedItem('id');
    if (kind.fill) {
      const pick = () => kind.fill(form, chooser.selectedOptions[0]);
      chooser.onchange = pick;
      pick();
    }
    form.onsubmit = async (event) => {
      event.preventDefault();
      for (const slot of form.querySelectorAll('.field-error')) slot.textContent = '';
      for (const input of form.querySelectorAll('.invalid')) input.classList.remove('invalid');
      const list = form.querySelector('.problems');
      list.replaceChildren();
      const {ok, data} = await post('/admin/center/edit', {
        edit: {kind: form.dataset.kind, id: chooser.value, ...kind.read(form)},
      });
      for (const p of data.problems || []) {
        const slot = p.input && form.querySelector(`.field-error[data-for="${p.input}"]`);
        if (slot) {
          slot.textContent = p.problem;
          slot.className = `field-error ${p.level === 'warning' ? 'warn' : 'bad'}`;
          const input = form.querySelector(`[name="${p.input}"]`);
          if (input && p.level !== 'warning') input.classList.add('invalid');
        } else {
          const li = document.createElement('li');
          li.className = p.level === 'warning' ? 'warn' : 'bad';
          li.textContent = `${p.field || ''} · ${p.problem}`;
          list.appendChild(li);
        }
      }
      if (!ok && !(data.problems || []).length) {
        const li = document.createElement('li');
        li.className = 'bad';
        li.textContent = data.message || data.error || 'error';
        list.appendChild(li);
      }
      if (ok) showStatus({live: !data.restart, saved: true, pending: data.pending, applied_at: data.applied_at, waiting: data.waiting});
    };
  }
})();
