// The planner's page: save the day's edited shift times into the draft (the whole roster is
// sent back, as PUT /api/wfm/rosters/{id}/shifts replaces it), show each broken rule at its
// row, and publish the draft.
'use strict';
(() => {
  const {t, el} = Hotline;
  const box = el('planning-roster');
  if (!box) return;
  const id = box.dataset.roster;
  const message = (text) => { el('planning-message').textContent = text || ''; };

  function edited() {
    const shifts = JSON.parse(el('roster-data').textContent);
    for (const row of document.querySelectorAll('#planning-shifts tbody tr')) {
      const shift = shifts[Number(row.dataset.index)];
      shift.start = row.querySelector('.shift-start').value;
      shift.end = row.querySelector('.shift-end').value;
    }
    return shifts;
  }

  function showProblems(error) {
    for (const cell of document.querySelectorAll('.shift-problem')) cell.textContent = '';
    const problems = error.problems || [];
    for (const p of problems) {
      const match = /^shifts\[(\d+)\]/.exec(p.field || '');
      const row = match && document.querySelector(`#planning-shifts tr[data-index="${match[1]}"]`);
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

  el('planning-save')?.addEventListener('click', async () => {
    const answer = await send('PUT', `/api/wfm/rosters/${id}/shifts`, {shifts: edited()});
    if (answer) { message(t('planning.saved')); location.reload(); }
  });
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
