// The notification bell in every page's top bar: the unread count, the newest notifications
// (in the page's language), marking one or all read. Polls the inbox; opening it refreshes.
'use strict';
(() => {
  const bell = document.getElementById('notice-bell');
  if (!bell) return;
  const panel = document.getElementById('notice-panel');
  const list = document.getElementById('notice-list');
  const count = document.getElementById('notice-count');
  const empty = document.getElementById('notice-empty');
  const texts = JSON.parse(document.getElementById('notice-i18n').textContent);
  const POLL_MS = 15000;

  function render(template, item) {
    const values = {...item.params, ticket: item.ticket_number || ''};
    return (template || item.kind).replace(/\{(\w+)\}/g, (_, key) => values[key] ?? '');
  }

  async function call(method, url) {
    const response = await fetch(url, {method, credentials: 'same-origin'});
    if (!response.ok) throw new Error(response.statusText);
    return response.json();
  }

  function show(inbox) {
    count.textContent = String(inbox.unread);
    bell.classList.toggle('has-unread', inbox.unread > 0);
    list.replaceChildren(...inbox.items.map((item) => {
      const row = document.createElement('li');
      row.className = item.read ? 'read' : 'unread';
      row.dataset.id = String(item.id);
      const line = document.createElement('span');
      line.textContent = render(texts[item.kind], item);
      const when = document.createElement('time');
      when.dateTime = item.created_at;
      when.textContent = new Date(item.created_at).toLocaleString();
      row.append(line, ' ', when);
      if (!item.read) {
        const mark = document.createElement('button');
        mark.type = 'button';
        mark.textContent = texts.mark_read;
        mark.addEventListener('click', () => act(`/api/notifications/${item.id}/read`));
        row.append(' ', mark);
      }
      return row;
    }));
    empty.hidden = inbox.items.length > 0;
  }

  async function refresh() {
    try { show(await call('GET', '/api/notifications?limit=20')); } catch (error) { /* next poll */ }
  }
  async function act(url) {
    try { await call('POST', url); } finally { await refresh(); }
  }

  bell.addEventListener('click', () => {
    const open = panel.hidden;
    panel.hidden = !open;
    bell.setAttribute('aria-expanded', String(open));
    if (open) refresh();
  });
  document.getElementById('notice-read-all').addEventListener('click', () => act('/api/notifications/read'));
  refresh();
  setInterval(refresh, POLL_MS);
})();
