// The complaint board: every open complaint, its mandatory escalation path, who acts next,
// the deadline; the holder of the next role acknowledges from here. Live.
'use strict';
(() => {
  const {t, call, el} = Hotline;
  const board = el('complaint-board');
  if (!board) return;
  const roles = new Set(board.dataset.roles.split(','));
  const mayAct = (role) => roles.has(role) || roles.has('admin');

  async function load() {
    let rows;
    try { rows = await call('GET', '/api/backoffice/complaints'); }
    catch (error) { el('board-message').textContent = String(error.message || error); return; }
    if (el('only-mine').checked) rows = rows.filter((row) => row.complaint.next_role && mayAct(row.complaint.next_role));
    el('board-rows').replaceChildren(...rows.map((row) => {
      const tr = document.createElement('tr');
      const link = document.createElement('a'); link.href = `/tickets/${row.id}`; link.textContent = row.number;
      Backoffice.cell(tr, link);
      Backoffice.cell(tr, row.subject);
      Backoffice.cell(tr, t(`bo.level.${row.complaint.level}`));
      Backoffice.cell(tr, row.complaint.path.map((role) => (row.complaint.acknowledged.includes(role) ? '✓ ' : '') + t(`role.${role}`)).join(' → '));
      Backoffice.cell(tr, row.complaint.next_role ? t(`role.${row.complaint.next_role}`) : t('bo.path_done'));
      Backoffice.cell(tr, Backoffice.when(row.complaint.deadline) + (row.overdue ? ` · ${t('bo.overdue')}` : ''), row.overdue ? 'sla-left breached' : '');
      const next = row.complaint.next_role;
      if (next && mayAct(next)) {
        const button = document.createElement('button');
        button.type = 'button'; button.textContent = `${t('bo.acknowledge')} (${t('role.' + next)})`;
        button.onclick = async () => {
          try { await call('POST', `/api/tickets/${row.id}/actions`, {action: 'escalate', target: next}); }
          catch (error) { el('board-message').textContent = String(error.message || error); }
          load();
        };
        Backoffice.cell(tr, button);
      } else Backoffice.cell(tr, '');
      return tr;
    }));
    el('board-none').hidden = rows.length > 0;
  }
  el('only-mine').onchange = load;
  Backoffice.onTicketsChanged(load);
  load();
})();
