// The work queue: server-side filters and paging, saved views, SLA countdowns, bulk assign,
// live reload when a ticket changes.
'use strict';
(() => {
  const {t, call, el} = Hotline;
  const form = el('queue-filters');
  if (!form) return;
  const PAGE = 50;
  let offset = 0, total = 0, shown = new Set(), views = [];

  function params() {
    const query = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (value !== '') query.append(key, value);
    return query;
  }
  function applyParams(filters) {
    form.reset();
    for (const [key, value] of Object.entries(filters)) {
      const field = form.elements[key];
      if (!field) continue;
      if (field.type === 'checkbox') field.checked = value === 'true'; else field.value = value;
    }
  }

  async function load() {
    const query = params();
    query.set('offset', offset); query.set('limit', PAGE);
    let page;
    try { page = await call('GET', `/api/backoffice/queue?${query}`); }
    catch (error) { el('queue-message').textContent = String(error.message || error); return; }
    const loadedAt = Date.now();
    total = page.total;
    Backoffice.resetClocks();
    shown = new Set(page.items.map((item) => item.id));
    const rows = page.items.map((item) => {
      const row = document.createElement('tr');
      row.dataset.id = item.id;
      const box = document.createElement('input');
      box.type = 'checkbox'; box.className = 'pick'; box.value = item.id;
      box.setAttribute('aria-label', `${t('bo.select')} ${item.number}`);
      Backoffice.cell(row, box);
      const link = document.createElement('a');
      link.href = `/tickets/${item.id}`; link.textContent = item.number;
      Backoffice.cell(row, link);
      Backoffice.cell(row, t(`ticket.type.${item.type}`) + (item.category ? ` · ${item.category}` : ''));
      Backoffice.cell(row, item.subject);
      Backoffice.cell(row, t(`ticket.state.${item.state}`) + (item.paused ? ` ⏸` : ''));
      Backoffice.cell(row, t(`ticket.priority.${item.priority}`));
      Backoffice.cell(row, item.assignee || '–');
      Backoffice.cell(row, item.provider || '–');
      Backoffice.cell(row, item.region || '–');
      const clock = Backoffice.cell(row, '', 'sla-left');
      Backoffice.countdown(clock, item.resolution, loadedAt);
      return row;
    });
    el('queue-table').tBodies[0].replaceChildren(...rows);
    el('select-all').checked = false;
    const last = Math.min(total, offset + page.items.length);
    // A capped count (the filter matches more) reads "1–50 / 1,000+".
    const counted = total.toLocaleString(document.documentElement.lang) + (page.total_capped ? '+' : '');
    el('queue-count').textContent = total ? `${offset + 1}–${last} / ${counted}` : t('bo.none');
    el('page-prev').disabled = offset === 0;
    el('page-next').disabled = !page.total_capped && offset + PAGE >= total;
    el('queue-message').textContent = '';
  }

  form.onsubmit = (event) => { event.preventDefault(); offset = 0; load(); };
  el('page-prev').onclick = () => { offset = Math.max(0, offset - PAGE); load(); };
  el('page-next').onclick = () => { offset += PAGE; load(); };
  el('select-all').onchange = (event) => {
    document.querySelectorAll('#queue-table .pick').forEach((box) => { box.checked = event.target.checked; });
  };

  async function loadViews(selected) {
    views = await call('GET', '/api/backoffice/views');
    const select = el('view-select');
    const options = views.map((view) => {
      const option = document.createElement('option');
      option.value = view.id; option.textContent = view.name;
      return option;
    });
    const blank = document.createElement('option'); blank.value = ''; blank.textContent = '–';
    select.replaceChildren(blank, ...options);
    if (selected) select.value = String(selected);
  }
  el('view-select').onchange = () => {
    const view = views.find((v) => String(v.id) === el('view-select').value);
    if (!view) return;
    applyParams(view.filters); el('view-name').value = view.name; offset = 0; load();
  };
  el('view-save').onclick = async () => {
    const name = el('view-name').value.trim();
    if (!name) { el('queue-message').textContent = t('bo.view_needs_name'); el('view-name').focus(); return; }
    const filters = Object.fromEntries(params());
    try {
      const saved = await call('POST', '/api/backoffice/views', {name, filters});
      await loadViews(saved.id);
      el('queue-message').textContent = `${t('bo.view_saved')} ${saved.name}`;
    } catch (error) { el('queue-message').textContent = String(error.message || error); }
  };
  el('view-delete').onclick = async () => {
    const id = el('view-select').value;
    if (!id) return;
    await call('DELETE', `/api/backoffice/views/${id}`);
    await loadViews();
  };

  const assign = el('bulk-assign');
  if (assign) assign.onclick = async () => {
    const ids = [...document.querySelectorAll('#queue-table .pick:checked')].map((box) => Number(box.value));
    if (!ids.length) { el('queue-message').textContent = t('bo.select_first'); return; }
    try {
      const result = await call('POST', '/api/backoffice/assign', {ticket_ids: ids, assignee: el('bulk-assignee').value});
      const refused = result.refused.map((r) => `#${r.id}: ${r.problem}`).join('; ');
      await load();
      el('queue-message').textContent = `${t('bo.assigned')} ${result.assigned.length}` + (refused ? ` · ${refused}` : '');
    } catch (error) { el('queue-message').textContent = String(error.message || error); }
  };

  // Live: a change to a ticket on this page, or any change while the list may grow, reloads
  // it (at most every two seconds); screens without the feed refresh every 30 s.
  let pending = null;
  Backoffice.onTicketsChanged(() => {
    if (pending) return;
    pending = setTimeout(() => { pending = null; load(); }, 500);
  });
  setInterval(load, 30000);
  loadViews().catch(() => {});
  load();
})();
