// Supervisor wallboard (实时大屏): queue tiles with threshold colours, alerts and agents,
// redrawn from every wallboard message pushed by the server.
'use strict';
(() => {
  const {t, call, feed, duration, percent, el, text, noteLatency} = Hotline;
  let board = null, offset = 0;
  const serverNow = () => Date.now() / 1000 + offset;

  function cell(row, value, cls) {
    const td = document.createElement('td');
    td.textContent = value;
    if (cls) td.className = cls;
    row.appendChild(td);
  }

  function tile(queue) {
    const div = document.createElement('div');
    div.className = `tile status-${queue.status}`;
    div.dataset.queue = queue.id;
    const sl = (figures) => percent(figures.service_level);
    const threshold = queue.target.threshold_s;
    const within = threshold >= 3600 ? `${+(threshold / 3600).toFixed(1)}h` : `${threshold}s`;
    const target = `${Math.round(queue.target.service_level * 100)}% / ${within}`;
    const states = queue.agents_by_state;
    div.innerHTML = `
      <h3></h3>
      <div class="big-number"><span class="waiting"></span><small>${t('wall.waiting')}</small></div>
      <dl>
        <dt>${t('wall.longest')}</dt><dd class="longest"></dd>
        <dt>${t('wall.sl_interval')}</dt><dd class="sl-interval"></dd>
        <dt>${t('wall.sl_today')}</dt><dd class="sl-today"></dd>
        <dt>${t('wall.target')}</dt><dd>${target}</dd>
        <dt>${t('wall.asa')}</dt><dd class="asa"></dd>
        <dt>${t('wall.abandoned')}</dt><dd class="abandoned"></dd>
      </dl>
      <div class="states"></div>`;
    div.querySelector('h3').textContent = queue.name;
    div.querySelector('.waiting').textContent = queue.waiting;
    div.querySelector('.longest').textContent = duration(queue.longest_wait_s);
    div.querySelector('.sl-interval').textContent = sl(queue.interval);
    div.querySelector('.sl-today').textContent = sl(queue.today);
    div.querySelector('.asa').textContent = queue.today.asa_s == null ? '–' : `${queue.today.asa_s.toFixed(1)} s`;
    div.querySelector('.abandoned').textContent = `${queue.today.abandoned} / ${queue.today.offered}`;
    div.querySelector('.states').replaceChildren(...['available', 'on_contact', 'wrap_up', 'not_ready'].map((state) => {
      const span = document.createElement('span');
      span.className = `count state-${state}`;
      span.title = t(`state.${state}`);
      span.textContent = `${t('state.' + state)} ${states[state]}`;
      return span;
    }));
    div.title = `${t('wall.variant')}: ${queue.target.variant}`;
    return div;
  }

  // The site map: a tile per site (agents by state, waiting, longest wait, SL today).
  function siteTile(site) {
    const div = document.createElement('div');
    div.className = `tile site status-${site.status}`;
    div.dataset.site = site.id;
    div.innerHTML = `
      <h3></h3>
      <div class="big-number"><span class="waiting"></span><small>${t('wall.waiting')}</small></div>
      <dl>
        <dt>${t('wall.longest')}</dt><dd class="longest"></dd>
        <dt>${t('wall.sl_today')}</dt><dd class="sl-today"></dd>
        <dt>${t('wall.offered_today')}</dt><dd class="offered"></dd>
      </dl>
      <div class="states"></div>`;
    div.querySelector('h3').textContent = site.name;
    div.querySelector('.waiting').textContent = site.waiting;
    div.querySelector('.longest').textContent = duration(site.longest_wait_s);
    div.querySelector('.sl-today').textContent = percent(site.today.service_level);
    div.querySelector('.offered').textContent = `${site.today.answered} / ${site.today.offered}`;
    div.querySelector('.states').replaceChildren(...['available', 'on_contact', 'wrap_up', 'not_ready'].map((state) => {
      const span = document.createElement('span');
      span.className = `count state-${state}`;
      span.textContent = `${t('state.' + state)} ${site.agents_by_state[state]}`;
      return span;
    }));
    return div;
  }

  function draw() {
    offset = board.now - Date.now() / 1000;
    Hotline.drawCrisis(board.crisis);
    text('wall-clock', board.local_time.slice(11, 19));
    text('wall-interval', `${board.interval_start.slice(11, 16)} (${board.interval_minutes} min)`);
    const totals = board.totals;
    text('total-waiting', totals.waiting);
    text('total-longest', duration(totals.longest_wait_s));
    text('total-offered', totals.offered_today);
    text('total-answered', totals.answered_today);
    text('total-abandoned', totals.abandoned_today);
    for (const state of ['available', 'on_contact', 'wrap_up', 'not_ready']) {
      text(`total-${state}`, totals.agents_by_state[state]);
    }
    el('tiles').replaceChildren(...board.queues.map(tile));
    const sites = board.sites || [];
    el('site-map').hidden = sites.length === 0;
    el('site-tiles').replaceChildren(...sites.map(siteTile));
    const alerts = el('alerts');
    alerts.replaceChildren();
    for (const alert of board.alerts) {
      const li = document.createElement('li');
      li.className = `alert ${alert.level}`;
      const queue = board.queues.find((q) => q.id === alert.queue);
      let detail = '';
      if (alert.code === 'sl_below_target') detail = `${percent(alert.value)} < ${percent(alert.target)}`;
      if (alert.code === 'long_wait') detail = `${duration(alert.value)} > ${alert.target}s`;
      if (alert.code === 'no_agents') detail = `${alert.value}`;
      li.textContent = `${queue ? queue.name : alert.queue}: ${t('alert.' + alert.code)} ${detail}`;
      alerts.appendChild(li);
    }
    const body = el('agents-table').querySelector('tbody');
    const rows = board.agents.filter((a) => a.state !== 'logged_out').map((agent) => {
      const row = document.createElement('tr');
      row.className = `state-${agent.state}`;
      row.dataset.agent = agent.id;
      row.dataset.since = agent.since;
      cell(row, `${agent.id} ${agent.name}`);
      cell(row, agent.team);
      cell(row, t(`state.${agent.state}`) + (agent.reason ? ` (${t('reason.' + agent.reason)})` : ''), 'state');
      cell(row, duration(serverNow() - agent.since), 'since');
      cell(row, agent.contact ? `${agent.contact_queue ? t('queue.' + agent.contact_queue) : ''} · ${t('stage.' + agent.contact_stage)}` : '');
      return row;
    });
    body.replaceChildren(...rows);
    // Supervisor actions (floor.js) add their controls to the rows just drawn.
    document.dispatchEvent(new CustomEvent('hotline:board', {detail: board}));
  }

  function tick() {
    for (const row of el('agents-table').querySelectorAll('tbody tr')) {
      row.querySelector('.since').textContent = duration(serverNow() - Number(row.dataset.since));
    }
  }
  setInterval(tick, 1000);

  el('btn-big').onclick = () => {
    const wall = el('wallboard');
    wall.classList.toggle('bigscreen');
    if (wall.classList.contains('bigscreen') && document.documentElement.requestFullscreen) {
      document.documentElement.requestFullscreen().catch(() => {});
    } else if (document.fullscreenElement) { document.exitFullscreen(); }
  };

  // Events carry their own time; the latest event drawn by this board measures latency.
  let lastEventAt = null;
  // Overload control (voice): while new calls are refused with 503, say so and how many.
  function drawVoiceLoad(load) {
    const banner = el('voice-overload');
    banner.hidden = !load.overloaded;
    banner.dataset.refused = load.refused_total;
    if (load.overloaded) {
      banner.textContent = `${t('wall.voice_overload')} · ${t('wall.voice_refused')} ${load.refused_now}`;
    }
  }

  feed((message) => {
    if (message.type === 'voice_load') { drawVoiceLoad(message); return; }
    if (message.type === 'crisis') { Hotline.drawCrisis(message); return; }
    if (message.type === 'event') { lastEventAt = message.at; return; }
    if (message.type !== 'wallboard') return;
    board = message;
    draw();
    noteLatency(lastEventAt);
    lastEventAt = null;
  });
  call('GET', '/api/live/wallboard').then((data) => { board = data; draw(); }).catch((error) => {
    text('wall-clock', String(error.message || error));
  });
})();
