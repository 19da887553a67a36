// Supervisor actions on the wallboard: the contacts waiting (move to a queue or an agent,
// take one oneself) and, on each agent's row, a state change, a forced log-out and, where
// the server takes phone calls, listening in on the agent's call from one's own phone,
// whispering to the agent or barging in (ChanSpy's modes; and who supervises now, how) —
// while one's own session is on, the other two modes' buttons switch it, the phone staying
// connected. Every action is an API call (hotline.web.api.live.floor, .agent_state,
// .listening); the server checks roles.
'use strict';
(() => {
  const {t, call, duration, el} = Hotline;
  const floor = el('floor');
  const ownAgent = floor.dataset.ownAgent;
  const moveQueues = floor.dataset.moveQueues === 'yes';
  const listening = floor.dataset.listen === 'yes';
  const me = floor.dataset.me;
  let listened = new Map();  // agent id -> the session on their call
  const status = el('floor-status');
  let board = null;
  // Controls are kept per agent and per contact and moved into the freshly drawn rows, so a
  // choice being made survives the board redrawing several times a second.
  const agentControls = new Map();
  const contactRows = new Map();

  function say(message, bad) {
    status.textContent = message;
    status.className = bad ? 'alert bad' : 'muted';
  }

  async function act(method, url, body) {
    try {
      await call(method, url, body);
      say(t('floor.done'));
      refreshWaiting();
    } catch (error) {
      say(String(error.message || error), true);
    }
  }

  function button(label, onClick, cls) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.className = cls || 'secondary';
    b.onclick = onClick;
    return b;
  }

  function select(label, optionsTemplate) {
    const s = document.createElement('select');
    s.setAttribute('aria-label', label);
    if (optionsTemplate) s.append(el(optionsTemplate).content.cloneNode(true));
    return s;
  }

  function agentCell(agent) {
    let cell = agentControls.get(agent.id);
    if (!cell) {
      cell = document.createElement('td');
      cell.className = 'floor-actions';
      const state = select(`${t('floor.state_of')} ${agent.id}`, 'state-options');
      cell.append(
        state,
        button(t('floor.set_state'), () => {
          const [value, reason] = state.value.split(':');
          act('POST', `/api/live/agents/${encodeURIComponent(agent.id)}/state`,
            {state: value, reason: reason || null});
        }),
        button(t('floor.force_logout'), () =>
          act('POST', `/api/live/agents/${encodeURIComponent(agent.id)}/force-logout`), 'danger'),
      );
      if (listening) {
        const call = () => {
          const now = board && board.agents.find((a) => a.id === agent.id);
          return now && now.contact ? encodeURIComponent(now.contact) : null;
        };
        const note = document.createElement('span');
        note.className = 'listened muted';
        // No session: start one in the mode. One's own session: switch it to the mode.
        const supervise = (mode) => {
          const b = button(t(`floor.${mode}`), () => {
            const session = listened.get(agent.id);
            const contact = session ? encodeURIComponent(session.contact_id) : call();
            if (contact) {
              act(session ? 'PATCH' : 'POST', `/api/live/calls/${contact}/supervise`, {mode});
            }
          }, `${mode} supervise secondary`);
          b.dataset.mode = mode;
          return b;
        };
        cell.append(
          supervise('listen'),
          supervise('whisper'),
          supervise('barge'),
          button(t('floor.stop_listening'), () => {
            const session = listened.get(agent.id);
            if (session) {
              act('DELETE', `/api/live/calls/${encodeURIComponent(session.contact_id)}/supervise`);
            }
          }, 'stop-listening secondary'),
          note,
        );
      }
      cell.dataset.agent = agent.id;
      agentControls.set(agent.id, cell);
    }
    if (listening) {
      const session = listened.get(agent.id);
      for (const start of cell.querySelectorAll('.supervise')) {
        start.hidden = session
          ? session.supervisor !== me || session.mode === start.dataset.mode
          : agent.contact_stage !== 'talking';
      }
      cell.querySelector('.stop-listening').hidden = !session;
      cell.querySelector('.listened').textContent =
        session ? `${t(`floor.mode.${session.mode}`)}: ${session.supervisor}` : '';
    }
    return cell;
  }

  function availableAgents() {
    if (!board) return [];
    return board.agents.filter((a) => a.state === 'available');
  }

  function contactRow(contact) {
    let row = contactRows.get(contact.contact_id);
    if (!row) {
      row = document.createElement('tr');
      row.dataset.contact = contact.contact_id;
      for (const cls of ['queue', 'position', 'waited', 'customer']) {
        const td = document.createElement('td');
        td.className = cls;
        row.appendChild(td);
      }
      const actions = document.createElement('td');
      actions.className = 'floor-actions';
      const id = encodeURIComponent(contact.contact_id);
      if (moveQueues) {
        const queue = select(`${t('floor.queue_for')} ${contact.contact_id}`, 'queue-options');
        queue.className = 'move-queue';
        actions.append(queue, button(t('floor.move_to_queue'), () =>
          act('POST', `/api/live/contacts/${id}/move`, {queue: queue.value})));
      }
      const agent = select(`${t('floor.agent_for')} ${contact.contact_id}`);
      agent.className = 'move-agent';
      actions.append(agent, button(t('floor.offer_to_agent'), () => {
        if (!agent.value) { say(t('floor.no_agent_available'), true); return; }
        act('POST', `/api/live/contacts/${id}/move`, {agent_id: agent.value});
      }));
      if (ownAgent) {
        actions.append(button(t('floor.pick'), () =>
          act('POST', `/api/live/contacts/${id}/pick`), 'primary'));
      }
      row.appendChild(actions);
      contactRows.set(contact.contact_id, row);
    }
    row.querySelector('.queue').textContent = t(`queue.${contact.queue}`);
    row.querySelector('.position').textContent = contact.position;
    row.querySelector('.waited').textContent = duration(contact.waited_s);
    row.querySelector('.customer').textContent = contact.customer || '–';
    const agent = row.querySelector('.move-agent');
    const chosen = agent.value;
    const choices = availableAgents().map((a) => {
      const option = document.createElement('option');
      option.value = a.id;
      option.textContent = `${a.id} ${a.name}`;
      return option;
    });
    agent.replaceChildren(...choices);
    if (choices.some((o) => o.value === chosen)) agent.value = chosen;
    return row;
  }

  let pending = false, last = 0;
  async function refreshWaiting() {
    // At most about once a second, however often the board is pushed.
    if (pending) return;
    const wait = Math.max(0, 1000 - (Date.now() - last));
    pending = true;
    setTimeout(async () => {
      try {
        if (listening) {
          const sessions = (await call('GET', '/api/live/supervisions')).sessions;
          listened = new Map(sessions.map((s) => [s.agent_id, s]));
          drawAgentControls();  // a session just started or ended shows without a board push
        }
        const data = await call('GET', '/api/live/waiting');
        const rows = data.contacts.map(contactRow);
        const seen = new Set(data.contacts.map((c) => c.contact_id));
        for (const id of [...contactRows.keys()]) if (!seen.has(id)) contactRows.delete(id);
        el('waiting-table').querySelector('tbody').replaceChildren(...rows);
        el('waiting-empty').hidden = rows.length > 0;
      } catch (error) {
        say(String(error.message || error), true);
      } finally {
        pending = false;
        last = Date.now();
      }
    }, wait);
  }

  function drawAgentControls() {
    if (!board) return;
    for (const row of el('agents-table').querySelectorAll('tbody tr')) {
      const agent = board.agents.find((a) => a.id === row.dataset.agent);
      if (agent) row.appendChild(agentCell(agent));
    }
  }

  document.addEventListener('hotline:board', (event) => {
    board = event.detail;
    drawAgentControls();
    refreshWaiting();
  });
})();
