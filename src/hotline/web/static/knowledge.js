// The knowledge page: search (Chinese or English) with the matched words highlighted, read an
// article (its text is put in as text, never as HTML, so an article cannot run script), vote
// "was this helpful", and related articles (by its title, then from its category).
'use strict';
(() => {
  const {t, call, el, text} = Hotline;
  const page = el('knowledge-page');
  if (!page) return;
  const form = el('kb-search');
  let current = null;

  const showError = (error) => {
    text('kb-error', error ? String(error.message || error) : '');
    el('kb-error').hidden = !error;
  };

  // Text with its [start, end) marks wrapped in <mark>, built from text nodes only.
  function marked(value, marks) {
    const span = document.createElement('span');
    let at = 0;
    for (const [start, end] of marks) {
      span.append(value.slice(at, start));
      const mark = document.createElement('mark');
      mark.textContent = value.slice(start, end);
      span.append(mark);
      at = end;
    }
    span.append(value.slice(at));
    return span;
  }

  function resultItem(hit) {
    const item = document.createElement('li');
    item.dataset.article = String(hit.article_id);
    const link = document.createElement('a');
    link.href = `/knowledge?article=${hit.article_id}`;
    link.className = 'kb-hit';
    link.append(marked(hit.title, hit.title_marks));
    link.addEventListener('click', (event) => { event.preventDefault(); open(hit.article_id); });
    const snippet = document.createElement('p');
    snippet.className = 'small muted kb-snippet';
    if (hit.cut_before) snippet.append('… ');
    snippet.append(marked(hit.snippet, hit.snippet_marks));
    if (hit.cut_after) snippet.append(' …');
    item.append(link, snippet);
    return item;
  }

  async function search() {
    showError(null);
    const params = new URLSearchParams({limit: '20'});
    for (const [key, value] of new FormData(form)) if (String(value).trim()) params.set(key, String(value).trim());
    if (!params.get('q')) return;
    try {
      const hits = await call('GET', `/api/kb/search?${params}`);
      el('kb-results').replaceChildren(...hits.map(resultItem));
      el('kb-empty').hidden = hits.length > 0;
      text('kb-count', String(hits.length));
      const url = new URL(location.href);
      url.searchParams.set('q', params.get('q'));
      history.replaceState(null, '', url);
    } catch (error) { showError(error); }
  }

  async function related(article) {
    const others = await call('GET', `/api/kb/articles/${article.id}/related`);
    el('kb-related').replaceChildren(...others.map((h) => {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = `/knowledge?article=${h.article_id}`;
      a.textContent = h.title;
      a.addEventListener('click', (event) => { event.preventDefault(); open(h.article_id); });
      li.append(a);
      return li;
    }));
    el('kb-related-none').hidden = others.length > 0;
  }

  async function open(articleId) {
    showError(null);
    try {
      const article = await call('GET', `/api/kb/articles/${articleId}`);
      current = article;
      el('kb-article').hidden = false;
      el('kb-article').dataset.article = String(article.id);
      text('kb-article-title', article.title);
      text('kb-article-meta', `${t('kb.version')} ${article.version} · ${t('kb.views')} ${article.views} · ${t('kb.helpful_count')} ${article.helpful_yes}/${article.helpful_yes + article.helpful_no}`);
      el('kb-article-tags').replaceChildren(...article.tags.map((tag) => {
        const li = document.createElement('li');
        li.textContent = tag;
        return li;
      }));
      // The server's rendering of the Markdown: raw HTML in an article arrives escaped (shown
      // as text) and only the knowledge base's own images are kept (hotline.kb.markdown).
      el('kb-article-body').innerHTML = article.html;
      el('kb-article-attachments').replaceChildren(...article.attachments.map((a) => {
        const li = document.createElement('li');
        li.textContent = `${a.filename} (${a.media_type})`;
        return li;
      }));
      text('kb-thanks', '');
      const url = new URL(location.href);
      url.searchParams.set('article', String(article.id));
      history.replaceState(null, '', url);
      el('kb-article-title').focus();
      await related(article);
    } catch (error) { showError(error); }
  }

  async function vote(helpful) {
    if (!current) return;
    try {
      await call('POST', `/api/kb/articles/${current.id}/feedback`, {helpful});
      text('kb-thanks', t('kb.thanks'));
    } catch (error) { showError(error); }
  }

  async function loadCategories() {
    const names = await call('GET', '/api/kb/categories');
    el('kb-category').append(...names.map((name) => new Option(name, name)));
  }

  form.addEventListener('submit', (event) => { event.preventDefault(); search(); });
  el('kb-helpful-yes').addEventListener('click', () => vote(true));
  el('kb-helpful-no').addEventListener('click', () => vote(false));
  const start = new URLSearchParams(location.search);
  loadCategories().catch(showError).finally(() => {
    if (start.get('q')) { el('kb-q').value = start.get('q'); search(); }
    if (start.get('article')) open(Number(start.get('article')));
  });
})();
