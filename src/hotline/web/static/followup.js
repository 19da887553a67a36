// The 回访 workbench: open follow-up tasks (overdue and due soon highlighted), the chosen
// task's script, click-to-dial through the desk's API, and the answers into the ticket.
'use strict';
(() => {
  const {t, call, el} = Hotline;
  const root = el('followup');
  if (!root) return;
  const agent = root.dataset.agent;
  let current = null;

  function message(text) { el('fu-message').textContent = text || ''; }
  function problem(text) { const node = el('t-error'); node.textContent = text || ''; node.hidden = !text; }

  // Backlog by age as bars (SVG attributes, not inline styles: the pages' CSP forbids those).
  const SVG = 'http://www.w3.org/2000/svg';
  function svg(name, attributes, text) {
    const node = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
    if (text != null) node.textContent = text;
    return node;
  }
  function backlogChart(backlog) {
    const chart = el('fu-backlog');
    const buckets = Object.keys(backlog);
    const most = Math.max(1, ...Object.values(backlog));
    const parts = [];
    buckets.forEach((bucket, i) => {
      const width = Math.round(220 * backlog[bucket] / most);
      const y = 10 + i * 34;
      parts.push(svg('text', {x: 0, y: y + 17, 'font-size': 12}, t('fu.age.' + bucket)));
      parts.push(svg('rect', {x: 90, y, width: Math.max(width, 1), height: 24, fill: '#1d4e89', 'data-bucket': bucket}));
      parts.push(svg('text', {x: 96 + width, y: y + 17, 'font-size': 12}, String(backlog[bucket])));
    });
    chart.replaceChildren(...parts);
    el('fu-backlog-text').textContent = buckets.map((b) => `${t('fu.age.' + b)}: ${backlog[b]}`).join(' · ');
  }
  function outcomes(byProvider, byProduct) {
    const rows = [];
    for (const [label, table] of [[t('fu.provider'), byProvider], [t('fu.product'), byProduct]]) {
      for (const [name, counts] of Object.entries(table)) {
        const tr = document.createElement('tr');
        Backoffice.cell(tr, `${label}: ${name}`);
        for (const state of ['verified', 'not_verified', 'unreached']) Backoffice.cell(tr, String(counts[state]));
        rows.push(tr);
      }
    }
    el('fu-outcomes').replaceChildren(...rows);
  }
  async function figures() {
    try {
      const f = await call('GET', '/api/followup/figures');
      el('fu-figures').textContent = `${t('fu.open')}: ${f.open} · ${t('fu.overdue')}: ${f.overdue} · ${t('fu.on_time')}: ${Hotline.percent(f.on_time_rate)}`;
      backlogChart(f.backlog_by_age);
      outcomes(f.outcomes_by_provider, f.outcomes_by_product);
      el('fu-late').textContent = `${t('fu.late_settlement')}: ${Hotline.percent(f.late_settlement_share)}`;
    } catch (error) { el('fu-figures').textContent = String(error.message || error); }
  }

  async function load() {
    let answer;
    try { answer = await call('GET', '/api/followup/tasks'); }
    catch (error) { message(String(error.message || error)); return; }
    el('fu-rows').replaceChildren(...answer.tasks.map((task) => {
      const tr = document.createElement('tr');
      tr.className = `fu-${task.urgency}` + (current && current.id === task.id ? ' fu-selected' : '');
      tr.dataset.task = task.id;
      Backoffice.cell(tr, `${Backoffice.when(task.due_at)} · ${t('fu.urgency.' + task.urgency)}`);
      const open = document.createElement('button');
      open.type = 'button'; open.className = 'secondary'; open.textContent = task.ticket_number;
      open.onclick = () => show(task.id);
      Backoffice.cell(tr, open);
      Backoffice.cell(tr, task.subject);
      Backoffice.cell(tr, t('fu.priority.' + task.priority));
      Backoffice.cell(tr, task.customer_name || '–');
      return tr;
    }));
    el('fu-none').hidden = answer.tasks.length > 0;
    figures();
  }

  function facts(task) {
    Backoffice.facts(el('t-facts'), [
      [t('ticket.subject'), task.subject],
      [t('fu.ticket_state'), t('ticket.state.' + task.ticket_state)],
      [t('fu.customer'), task.customer_name],
      [t('fu.provider'), task.provider],
      [t('fu.parts'), task.parts.join(', ') || '–'],
      [t('fu.due'), Backoffice.when(task.due_at)],
      [t('fu.attempts'), `${task.attempts} / ${task.max_attempts}`],
    ]);
  }

  async function show(id) {
    problem('');
    el('t-outcome').textContent = '';
    try { current = await call('GET', `/api/followup/tasks/${id}`); }
    catch (error) { message(String(error.message || error)); return; }
    el('fu-task').hidden = false;
    const link = document.createElement('a');
    link.href = `/tickets/${current.ticket_id}`; link.textContent = current.ticket_number;
    el('t-number').replaceChildren(link);
    el('t-urgency').textContent = t('fu.urgency.' + current.urgency);
    facts(current);
    el('t-phone').replaceChildren(...current.phones.map((phone) => {
      const option = document.createElement('option'); option.value = phone; option.textContent = phone; return option;
    }));
    el('t-dial-button').disabled = !agent || current.phones.length === 0;
    el('t-dial-result').textContent = agent ? '' : t('fu.dial_needs_agent');
    for (const node of el('t-script').querySelectorAll('[data-question]')) {
      node.hidden = !current.questions.includes(node.dataset.question) && node.dataset.question !== 'done';
    }
    el('t-script').reset();
    el('t-script').hidden = current.state !== 'open';
    el('t-unreached').hidden = current.state !== 'open';
    load();
  }

  const choice = (name) => {
    const picked = el('t-script').querySelector(`input[name="${name}"]:checked`);
    return picked ? picked.value === 'yes' : null;
  };
  const number = (id) => (el(id).value === '' ? null : Number(el(id).value));

  el('t-dial').onsubmit = async (event) => {
    event.preventDefault();
    if (!current || !agent) return;
    const phone = el('t-phone').value;
    try {
      await call('POST', `/api/live/agents/${encodeURIComponent(agent)}/dial`, {number: phone});
      el('t-dial-result').textContent = `${t('desk.dialling')} ${phone}`;
    } catch (error) { el('t-dial-result').textContent = String(error.message || error); }
  };

  el('t-script').onsubmit = async (event) => {
    event.preventDefault();
    if (!current) return;
    const body = {done: choice('done')};
    const asked = (q) => current.questions.includes(q);
    if (asked('fee')) { body.fee = choice('fee'); if (body.fee) body.fee_amount = number('a-fee-amount'); }
    if (asked('part_matches')) body.part_matches = choice('part');
    if (asked('csat')) body.csat = number('a-csat');
    if (asked('nps')) body.nps = number('a-nps');
    if (asked('comment')) body.comment = el('a-comment').value;
    for (const key of Object.keys(body)) if (body[key] === null) delete body[key];
    try {
      const task = await call('POST', `/api/followup/tasks/${current.id}/answers`, body);
      el('t-outcome').textContent = `${t('fu.saved')}: ${t('fu.state.' + task.state)} · ${t('fu.ticket_state')}: ${t('ticket.state.' + task.ticket_state)}`;
      current = task; el('t-script').hidden = true; el('t-unreached').hidden = true; facts(task);
    } catch (error) { problem(String(error.message || error)); }
    load();
  };

  el('t-unreached').onclick = async () => {
    if (!current) return;
    try {
      const task = await call('POST', `/api/followup/tasks/${current.id}/not-reached`, {});
      el('t-outcome').textContent = `${t('fu.saved')}: ${t('fu.state.' + task.state)}`;
      current = task; facts(task);
      if (task.state !== 'open') el('t-script').hidden = true;
    } catch (error) { problem(String(error.message || error)); }
    load();
  };

  el('fu-sweep').onclick = async () => {
    try {
      const result = await call('POST', '/api/followup/sweep');
      message(`${t('fu.swept')}: ${result.created.length}`);
    } catch (error) { message(String(error.message || error)); }
    load();
  };

  // The 回访 group does not receive the live feed (it carries the floor's queues): poll.
  setInterval(load, 30000);
  load();
})();
