// Coaching tasks on /team (assign one, close an acknowledged one with its outcome) and on /me
// (acknowledge one), through /api/people/coaching; the page reloads to show the new state.
'use strict';
(() => {
  const status = document.getElementById('coach-status');
  const form = document.getElementById('coach-form');

  async function send(url, body) {
    const response = await fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: body ? {'Content-Type': 'application/json'} : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const problems = (data.problems || []).map((p) => `${p.field}: ${p.problem}`).join('; ');
      throw new Error(problems || data.message || response.statusText);
    }
    return data;
  }

  async function act(url, body) {
    try {
      await send(url, body);
      location.reload();
    } catch (error) {
      status.textContent = error.message;
      status.className = 'error';
    }
  }

  if (form) {
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const body = {agent_id: data.get('agent_id'), note: data.get('note'), due: data.get('due')};
      if (data.get('evaluation_id')) body.evaluation_id = Number(data.get('evaluation_id'));
      if (data.get('metric')) {
        Object.assign(body, {metric: data.get('metric'), start: data.get('start'), end: data.get('end')});
      }
      act('/api/people/coaching', body);
    });
  }
  document.querySelectorAll('.coach-ack').forEach((button) => {
    button.addEventListener('click', () => act(`/api/people/coaching/${button.dataset.task}/acknowledge`));
  });
  document.querySelectorAll('.coach-close').forEach((button) => {
    button.addEventListener('click', () => {
      const outcome = button.closest('tr').querySelector('.coach-outcome').value;
      act(`/api/people/coaching/${button.dataset.task}/close`, {outcome});
    });
  });
})();
