// The team page's contests: start one from the form, withdraw one; both through
// /api/people/competitions, then the page reloads to show the standings the server computed.
'use strict';
(() => {
  const form = document.getElementById('contest-form');
  const status = document.getElementById('contest-status');
  if (!form) return;

  async function send(method, url, body) {
    const response = await fetch(url, {
      method, credentials: 'same-origin',
      headers: body ? {'Content-Type': 'application/json'} : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const problems = (data.problems || []).map((p) => `${p.field}: ${p.problem}`).join('; ');
      throw new Error(problems || data.message || data.detail || response.statusText);
    }
    return data;
  }

  function fail(error) {
    status.textContent = error.message;
    status.className = 'error';
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const body = {
      name: data.get('name'), level: data.get('level'), start: data.get('start'),
      end: data.get('end'), metrics: data.getAll('metrics'), teams: data.getAll('teams'),
      minimum_answered: Number(data.get('minimum_answered') || 0),
    };
    try {
      await send('POST', '/api/people/competitions', body);
      status.textContent = form.dataset.created;
      location.reload();
    } catch (error) { fail(error); }
  });

  document.querySelectorAll('.contest-withdraw').forEach((button) => {
    button.addEventListener('click', async () => {
      try {
        await send('DELETE', `/api/people/competitions/${button.dataset.competition}`);
        status.textContent = form.dataset.withdrawn;
        location.reload();
      } catch (error) { fail(error); }
    });
  });
})();
