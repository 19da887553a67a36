// The people pages' actions, each through /api/people/*, then a reload to show what the
// server computed: contests on /team (start, withdraw), coaching (assign and close on /team,
// acknowledge on /me), training (set up a course, record an exam on /team).
'use strict';
(() => {
  const failed = (id, error) => {
    const status = document.getElementById(id);
    status.textContent = error.message;
    status.className = 'error';
  };

  async function send(method, url, body) {
    const response = await fetch(url, {
      method, credentials: 'same-origin',
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

  // One action: send it, reload on success, say why in the section's status line if refused.
  async function act(statusId, method, url, body) {
    try {
      await send(method, url, body);
      location.reload();
    } catch (error) { failed(statusId, error); }
  }

  function onSubmit(formId, statusId, build) {
    const form = document.getElementById(formId);
    if (!form) return;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const [url, body] = build(new FormData(form));
      act(statusId, 'POST', url, body);
    });
  }

  function onClick(selector, statusId, build) {
    document.querySelectorAll(selector).forEach((button) => {
      button.addEventListener('click', () => act(statusId, ...build(button)));
    });
  }

  onSubmit('contest-form', 'contest-status', (data) => ['/api/people/competitions', {
    name: data.get('name'), level: data.get('level'), start: data.get('start'),
    end: data.get('end'), metrics: data.getAll('metrics'), teams: data.getAll('teams'),
    minimum_answered: Number(data.get('minimum_answered') || 0),
  }]);
  onClick('.contest-withdraw', 'contest-status',
    (b) => ['DELETE', `/api/people/competitions/${b.dataset.competition}`]);

  onSubmit('coach-form', 'coach-status', (data) => {
    const body = {agent_id: data.get('agent_id'), note: data.get('note'), due: data.get('due')};
    if (data.get('evaluation_id')) body.evaluation_id = Number(data.get('evaluation_id'));
    if (data.get('metric')) {
      Object.assign(body, {metric: data.get('metric'), start: data.get('start'), end: data.get('end')});
    }
    return ['/api/people/coaching', body];
  });
  onClick('.coach-ack', 'coach-status',
    (b) => ['POST', `/api/people/coaching/${b.dataset.task}/acknowledge`]);
  onClick('.coach-close', 'coach-status', (b) => ['POST', `/api/people/coaching/${b.dataset.task}/close`,
    {outcome: b.closest('tr').querySelector('.coach-outcome').value}]);

  onSubmit('course-form', 'training-status', (data) => ['/api/people/courses', {
    name: data.get('name'), skill: data.get('skill'),
    proficiency: Number(data.get('proficiency')), pass_mark: Number(data.get('pass_mark')),
  }]);
  onSubmit('exam-form', 'training-status', (data) => [
    `/api/people/courses/${data.get('course')}/results`,
    {agent_id: data.get('agent_id'), score: Number(data.get('score'))},
  ]);
})();
