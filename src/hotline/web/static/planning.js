// The planner's page: save the day's edited shift and break times into the draft, add a
// shift or remove one (the whole roster is sent back, as PUT /api/wfm/rosters/{id}/shifts
// replaces it), show each broken rule at its row, and publish the draft.
'use strict';
(() => {
  const {t, el} = Hotline;
  const box = el('planning-roster');
  if (!box) return;
  const id = box.dataset.roster;
  const message = (text) => { el('planning-message').textContent = text || ''; };

  // The roster as the page now says: times and breaks edited, removed shifts left out, a new
  // shift appended; rows[i] is the table row of shift i, where its problems are shown.
  function edited({remove = null, add = false} = {}) {
    const all = JSON.parse(el('roster-data').textContent);
    for (const row of document.querySelectorAll('#planning-shifts tbody tr')) {
      const shift = all[Number(row.dataset.index)];
      shift.start = row.querySelector('.shift-start').value;
      shift.end = row.querySelector('.shift-end').value;
      for (const span of row.querySelectorAll('.break')) {
        const brk = shift.breaks[Number(span.dataset.break)];
        brk.start = span.querySelector('.break-start').value;
        brk.end = span.querySelector('.break-end').value;
      }
    }
    const shifts = [];
    const rows = [];
    all.forEach((shift, i) => {
      if (i === remove) return;
      shifts.push(shift);
      rows.push(document.querySelector(`#planning-shifts tbody tr[data-index="${i}"]`));
    });
    const row = el('planning-new-shift');
    if (add && row) {
      const lunch = [row.querySelector('.new-lunch-start').value, row.querySelector('.new-lunch-end').value];
      shifts.push({
        agent: row.querySelector('.new-agent').value,
        date: JSON.parse(el('roster-day').textContent),
        start: row.querySelector('.new-start').value,
        end: row.querySelector('.new-end').value,
        skill: row.querySelector('.new-skill').value,
        breaks: lunch[0] && lunch[1] ? [{start: lunch[0], end: lunch[1], kind: 'lunch'}] : [],
      });
      rows.push(row);
    }
    return {shifts, rows};
  }

  let shown = [];
  function showProblems(error) {
    for (const cell of document.querySelectorAll('.shift-problem')) cell.textContent = '';
    const problems = error.problems || [];
    for (const p of problems) {
      const match = /^shifts\[(\d+)\]/.exec(p.field || '');
      const row = match && shown[Number(match[1])];
      if (!row) continue;
      const cell = row.querySelector('.shift-problem');
      cell.textContent = cell.textContent ? `${cell.textContent}; ${p.problem}` : p.problem;
    }
    message(problems.map((p) => `${p.field}: ${p.problem}`).join('; ') || error.message);
  }

  async function send(method, url, body) {
    const response = await fetch(url, {
      method, credentials: 'same-origin',
      headers: body ? {'Content-Type': 'application/json'} : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) { showProblems({...data, message: data.message || response.statusText}); return null; }
    return data;
  }

  async function save(change) {
    const {shifts, rows} = edited(change);
    shown = rows;
    const answer = await send('PUT', `/api/wfm/rosters/${id}/shifts`, {shifts});
    if (answer) { message(t('planning.saved')); location.reload(); }
  }
  el('planning-save')?.addEventListener('click', () => save());
  el('planning-add-shift')?.addEventListener('click', () => save({add: true}));
  for (const button of document.querySelectorAll('#planning-shifts .shift-remove')) {
    button.addEventListener('click', () => save({remove: Number(button.closest('tr').dataset.index)}));
  }
  el('planning-publish')?.addEventListener('click', async () => {
    const answer = await send('POST', `/api/wfm/rosters/${id}/publish`);
    if (answer) { message(t('planning.published')); location.reload(); }
  });
})();

// The forecast's overrides: add one (with its reason) or withdraw one; the page reloads to
// draw the forecast and the requirements with it.
(() => {
  const {call, el} = Hotline;
  const form = el('planning-override-form');
  if (!form) return;
  const say = (text) => { el('planning-override-message').textContent = text; };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    try {
      await call('POST', '/api/wfm/overrides', {
        day: data.get('day'), start: data.get('start'), end: data.get('end'),
        percent: Number(data.get('percent')), reason: data.get('reason'),
        queue: data.get('queue') || null,
      });
      location.reload();
    } catch (error) { say(String(error.message || error)); }
  });
  for (const button of document.querySelectorAll('#planning-overrides .override-delete')) {
    button.addEventListener('click', async () => {
      try {
        await call('DELETE', `/api/wfm/overrides/${button.closest('tr').dataset.override}`);
        location.reload();
      } catch (error) { say(String(error.message || error)); }
    });
  }
})();
