// The authors' workspace: list articles by state, write a new one or a new version, read
// every version and compare two, and move the article through review (submit; a reviewer who
// is not its author approves, rejects or retires). A refused field is named under the field.
'use strict';
(() => {
  const {t, el, text} = Hotline;
  const page = el('kb-manage-page');
  if (!page) return;
  const mayReview = page.hasAttribute('data-may-review');
  const form = el('kb-form');
  let current = null;  // the article open in the editor (its history), or null for a new one

  // Like Hotline.call, but keeps the located problems of a 422 for the form.
  async function call(method, url, body) {
    const response = await fetch(url, {
      method, headers: body ? {'Content-Type': 'application/json'} : {},
      body: body ? JSON.stringify(body) : undefined, credentials: 'same-origin',
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error(data.message || (data.problems || []).map((p) => `${p.field}: ${p.problem}`).join('; ') || response.statusText);
      error.problems = data.problems || [];
      throw error;
    }
    return data;
  }

  function clearProblems() {
    for (const node of form.querySelectorAll('[data-problem]')) node.textContent = '';
    for (const node of form.querySelectorAll('[aria-invalid]')) node.removeAttribute('aria-invalid');
    text('kb-editor-error', '');
    el('kb-editor-error').hidden = true;
  }

  // "body.tags.0" → the tags field; a problem with no field of the form goes to the banner.
  function showError(error) {
    let placed = false;
    for (const problem of error.problems || []) {
      const name = String(problem.field || '').split('.').filter((p) => p !== 'body')[0];
      const slot = name && form.querySelector(`[data-problem="${name}"]`);
      if (slot) {
        slot.textContent = problem.problem;
        const input = form.querySelector(`[name="${name}"]`);
        if (input) input.setAttribute('aria-invalid', 'true');
        placed = true;
      }
    }
    if (!placed) {
      text('kb-editor-error', String(error.message || error));
      el('kb-editor-error').hidden = false;
    }
  }

  const cell = (row, value) => {
    const td = document.createElement('td');
    td.textContent = value ?? '–';
    row.appendChild(td);
    return td;
  };
  const stateName = (state) => t(`kb.state_${state}`);

  async function list() {
    const state = el('kb-state').value;
    const articles = await call('GET', `/api/kb/articles${state ? `?state=${state}` : ''}`);
    el('kb-list').tBodies[0].replaceChildren(...articles.map((a) => {
      const row = document.createElement('tr');
      row.dataset.article = String(a.id);
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'link';
      button.textContent = a.title;
      button.addEventListener('click', () => edit(a.id));
      cell(row, '').appendChild(button);
      cell(row, stateName(a.state));
      cell(row, a.category);
      cell(row, a.published_version && a.published_version !== a.current_version ? `${a.current_version} (${t('kb.live')} ${a.published_version})` : String(a.current_version));
      cell(row, a.author);
      cell(row, String(a.views));
      cell(row, String(a.uses));
      cell(row, `${a.helpful_yes} / ${a.helpful_yes + a.helpful_no}`);
      return row;
    }));
    el('kb-list-empty').hidden = articles.length > 0;
  }

  async function loadCategories() {
    const names = await call('GET', '/api/kb/categories');
    el('kb-categories').replaceChildren(...names.map((name) => new Option(name, name)));
  }

  function setMode(isNew) {
    for (const node of form.querySelectorAll('.new-only')) node.hidden = !isNew;
    for (const node of form.querySelectorAll('.edit-only')) node.hidden = isNew;
  }

  function blank() {
    current = null;
    clearProblems();
    form.reset();
    setMode(true);
    el('kb-editor').hidden = false;
    el('kb-history').hidden = true;
    text('kb-editor-title', t('kb.new'));
    text('kb-editor-state', '');
    for (const id of ['kb-submit', 'kb-approve', 'kb-reject', 'kb-retire']) if (el(id)) el(id).hidden = true;
    el('kb-title').focus();
  }

  function workflow(article) {
    const newest = article.versions[article.versions.length - 1];
    const own = [article.author, newest.author].includes(page.dataset.username);
    el('kb-submit').hidden = article.state !== 'draft';
    if (mayReview) {
      el('kb-approve').hidden = article.state !== 'review' || own;
      el('kb-reject').hidden = article.state !== 'review' || own;
      el('kb-retire').hidden = article.state === 'retired';
    }
    el('kb-save').disabled = article.state === 'review' || article.state === 'retired';
  }

  function history(article) {
    el('kb-history').hidden = false;
    el('kb-versions').tBodies[0].replaceChildren(...article.versions.map((v) => {
      const row = document.createElement('tr');
      row.dataset.version = String(v.version);
      cell(row, v.version === article.published_version ? `${v.version} (${t('kb.live')})` : String(v.version));
      cell(row, v.title);
      cell(row, v.author);
      cell(row, v.note);
      cell(row, new Date(v.created_at).toLocaleString(document.documentElement.lang));
      return row;
    }));
    const options = () => article.versions.map((v) => new Option(String(v.version), String(v.version)));
    el('kb-base').replaceChildren(...options());
    el('kb-other').replaceChildren(...options());
    const count = article.versions.length;
    el('kb-base').value = String(Math.max(1, count - 1));
    el('kb-other').value = String(count);
    el('kb-compare-go').disabled = count < 2;
    el('kb-diff-lines').replaceChildren();
    text('kb-diff-title', '');
  }

  async function edit(articleId) {
    clearProblems();
    const article = await call('GET', `/api/kb/articles/${articleId}/versions`);
    current = article;
    const newest = article.versions[article.versions.length - 1];
    form.reset();
    setMode(false);
    el('kb-title').value = newest.title;
    el('kb-body').value = newest.body;
    el('kb-tags').value = article.tags.join(', ');
    el('kb-editor').hidden = false;
    el('kb-editor').dataset.article = String(article.id);
    text('kb-editor-title', newest.title);
    text('kb-editor-state', `${stateName(article.state)} · ${t('kb.version')} ${article.current_version}${article.category ? ` · ${article.category}` : ''}`);
    workflow(article);
    history(article);
  }

  const tags = () => el('kb-tags').value.split(/[,，]/).map((s) => s.trim()).filter(Boolean);
  const day = (id) => (el(id).value ? `${el(id).value}T00:00:00Z` : null);

  async function save(event) {
    event.preventDefault();
    clearProblems();
    try {
      if (current === null) {
        const created = await call('POST', '/api/kb/articles', {
          title: el('kb-title').value, body: el('kb-body').value,
          category: el('kb-form-category').value.trim() || null, tags: tags(),
          valid_from: day('kb-valid-from'), valid_until: day('kb-valid-until'),
        });
        await edit(created.id);
      } else {
        await call('POST', `/api/kb/articles/${current.id}/versions`, {
          title: el('kb-title').value, body: el('kb-body').value, tags: tags(), note: el('kb-note').value,
        });
        await edit(current.id);
      }
      text('kb-editor-state', `${el('kb-editor-state').textContent} · ${t('kb.saved')}`);
      await list();
      await loadCategories();
    } catch (error) { showError(error); }
  }

  async function act(path, body) {
    clearProblems();
    try {
      await call('POST', `/api/kb/articles/${current.id}/${path}`, body);
      await edit(current.id);
      await list();
    } catch (error) { showError(error); }
  }

  async function compare(event) {
    event.preventDefault();
    try {
      const params = new URLSearchParams({base: el('kb-base').value, other: el('kb-other').value});
      const diff = await call('GET', `/api/kb/articles/${current.id}/compare?${params}`);
      text('kb-diff-title', diff.title_before === diff.title_after ? diff.title_after : `${diff.title_before} → ${diff.title_after}`);
      el('kb-diff-lines').replaceChildren(...diff.lines.map((line) => {
        const li = document.createElement('li');
        li.className = `diff-${line.change}`;
        const sign = {same: ' ', added: '+', removed: '−'}[line.change];
        li.textContent = `${sign} ${line.text}`;
        if (line.change !== 'same') li.setAttribute('aria-label', `${t(`kb.line_${line.change}`)}: ${line.text}`);
        return li;
      }));
    } catch (error) { showError(error); }
  }

  // The gap report: questions searched for and not answered, most asked first; "write" opens
  // a new article titled with the question (also reachable as /knowledge/manage?new=…).
  async function gaps() {
    const days = el('kb-gap-days').value;
    const found = await call('GET', `/api/kb/gaps?days=${days}`);
    el('kb-gaps-export').href = `/api/kb/gaps.csv?days=${days}`;
    el('kb-gaps').tBodies[0].replaceChildren(...found.map((gap) => {
      const row = document.createElement('tr');
      cell(row, gap.query).title = gap.asked;
      cell(row, String(gap.searches));
      cell(row, String(gap.unopened));
      cell(row, new Date(gap.last_searched).toLocaleString(document.documentElement.lang));
      const link = document.createElement('a');
      link.href = `/knowledge/manage?${new URLSearchParams({new: gap.asked})}`;
      link.textContent = t('kb.gap_write');
      link.setAttribute('aria-label', `${t('kb.gap_write')}: ${gap.query}`);
      link.addEventListener('click', (event) => { event.preventDefault(); startFrom(gap.asked); });
      cell(row, '').appendChild(link);
      return row;
    }));
    el('kb-gaps-empty').hidden = found.length > 0;
  }

  function startFrom(question) {
    blank();
    el('kb-title').value = question;
    el('kb-body').focus();
  }

  // Markdown as readers will see it, rendered by the server (the same rendering as reading).
  async function preview() {
    const shown = await call('POST', '/api/kb/preview', {body: el('kb-body').value});
    const box = el('kb-preview');
    box.innerHTML = shown.html;  // safe: raw HTML escaped by hotline.kb.markdown
    box.hidden = false;
  }

  // Upload the chosen picture and put its Markdown where the cursor is.
  async function insertImage() {
    const input = el('kb-image');
    const file = input.files[0];
    if (!file) return;
    const slot = el('kb-image-problem');
    slot.textContent = '';
    const data = new FormData();
    data.append('file', file);
    const response = await fetch('/api/kb/images', {method: 'POST', body: data, credentials: 'same-origin'});
    const answer = await response.json().catch(() => ({}));
    input.value = '';
    if (!response.ok) {
      slot.textContent = (answer.problems || []).map((p) => p.problem).join('; ') || answer.message || response.statusText;
      return;
    }
    const body = el('kb-body');
    const at = body.selectionStart ?? body.value.length;
    const before = body.value.slice(0, at);
    const line = before && !before.endsWith('\n') ? '\n' : '';
    body.value = `${before}${line}${answer.markdown}\n${body.value.slice(at)}`;
    body.focus();
    await preview();
  }

  form.addEventListener('submit', save);
  el('kb-preview-go').addEventListener('click', () => preview().catch(showError));
  el('kb-image-go').addEventListener('click', () => el('kb-image').click());
  el('kb-image').addEventListener('change', () => insertImage().catch(showError));
  el('kb-gap-days').addEventListener('change', () => gaps().catch(showError));
  el('kb-new').addEventListener('click', blank);
  el('kb-state').addEventListener('change', () => list().catch(showError));
  el('kb-submit').addEventListener('click', () => act('submit'));
  if (mayReview) {
    el('kb-approve').addEventListener('click', () => act('review', {approve: true, note: el('kb-review-note').value}));
    el('kb-reject').addEventListener('click', () => act('review', {approve: false, note: el('kb-review-note').value}));
    el('kb-retire').addEventListener('click', () => act('retire'));
  }
  el('kb-compare').addEventListener('submit', compare);
  list().catch(showError);
  loadCategories().catch(showError);
  gaps().catch(showError);
  const asked = new URLSearchParams(location.search).get('new');
  if (asked) startFrom(asked);
})();
