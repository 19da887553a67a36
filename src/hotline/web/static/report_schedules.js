// Scheduled reports on the manager page: add one (the API checks every field and names the
// one it refuses), remove one; the page reloads to show the list and the latest runs.
'use strict';
(() => {
  const {t, call, el} = Hotline;
  const form = el('schedule-form');
  if (!form) return;
  const say = (text) => { el('schedule-message').textContent = text || ''; };
  const list = (text) => text.split(',').map((part) => part.trim()).filter(Boolean);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const frequency = data.get('frequency');
    const filters = {};
    for (const pair of list(data.get('filters') || '')) {
      const [name, ...value] = pair.split('=');
      filters[name.trim()] = value.join('=').trim();
    }
    const body = {
      name: data.get('name'), report: data.get('report'), format: data.get('format'),
      frequency, at: data.get('at'), recipients: list(data.get('recipients') || ''), filters,
      weekday: frequency === 'weekly' ? Number(data.get('weekday')) : null,
      day_of_month: frequency === 'monthly' ? Number(data.get('day_of_month')) : null,
    };
    try {
      await call('POST', '/api/reports/schedules', body);
      say(t('sched.added'));
      location.reload();
    } catch (error) { say(String(error.message || error)); }
  });

  for (const button of document.querySelectorAll('.schedule-remove')) {
    button.addEventListener('click', async () => {
      try {
        await call('DELETE', `/api/reports/schedules/${button.dataset.schedule}`);
        location.reload();
      } catch (error) { say(String(error.message || error)); }
    });
  }
})();
