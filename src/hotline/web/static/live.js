// Shared helpers for live pages: translations, JSON calls, the live event feed, timers.
'use strict';
const Hotline = (() => {
  const texts = JSON.parse(document.getElementById('i18n')?.textContent || '{}');
  const t = (key) => texts[key] ?? key;

  async function call(method, url, body) {
    const response = await fetch(url, {
      method, headers: body ? {'Content-Type': 'application/json'} : {},
      body: body ? JSON.stringify(body) : undefined, credentials: 'same-origin',
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const problems = (data.problems || []).map((p) => `${p.field}: ${p.problem}`).join('; ');
      const error = new Error(data.message || problems || response.statusText);
      error.reason = data.reason;  // a code the page may say in the user's language
      throw error;
    }
    return data;
  }

  // The live feed: WebSocket first, Server-Sent Events if the socket cannot open; reconnects.
  // Each message carries the event log's position; a reconnection asks for what came after
  // the last one seen (?after=, or EventSource's own Last-Event-ID), so no event is missed or
  // shown twice. A position the log cannot continue answers "reload": the page starts afresh.
  // With the position goes the server run that sent it (?run=): a position a killed server
  // showed but never wrote is answered "reload" by its restart, which numbers it again.
  function feed(onMessage) {
    let failures = 0;
    let position = null;
    let run = null;
    const after = () => (position == null ? '' : `?after=${position}${run ? `&run=${run}` : ''}`);
    function receive(data) {
      const message = JSON.parse(data);
      if (message.type === 'reload') { location.reload(); return; }
      if (message.position != null) { position = message.position; run = message.run ?? null; }
      document.body.dataset.livePosition = position ?? '';
      onMessage(message);
    }
    function viaSse() {
      const source = new EventSource(`/api/events/stream${after()}`);
      source.onmessage = (e) => receive(e.data);
      // Reconnect here rather than by EventSource's own retry, which would send the first
      // URL's run with the new Last-Event-ID.
      source.onerror = () => { source.close(); setTimeout(viaSse, 1000); };
    }
    function viaSocket() {
      const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
      const socket = new WebSocket(`${scheme}://${location.host}/api/events/ws${after()}`);
      let opened = false;
      socket.onopen = () => { opened = true; failures = 0; document.body.dataset.live = 'ws'; };
      socket.onmessage = (e) => receive(e.data);
      socket.onclose = () => {
        failures += 1;
        if (!opened && failures > 2) { document.body.dataset.live = 'sse'; viaSse(); return; }
        setTimeout(viaSocket, Math.min(5000, 500 * failures));
      };
    }
    viaSocket();
  }

  function duration(seconds) {
    if (seconds == null || !isFinite(seconds)) return '–';
    seconds = Math.max(0, Math.round(seconds));
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    const mm = String(m).padStart(2, '0'), ss = String(s).padStart(2, '0');
    return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
  }
  const percent = (x) => (x == null ? '–' : `${(100 * x).toFixed(1)}%`);
  const el = (id) => document.getElementById(id);
  function text(id, value) { const node = el(id); if (node) node.textContent = value ?? ''; }

  // Event-to-screen latency: the server stamps each event (epoch seconds); this page notes
  // when it drew the change. Same-machine clocks in the demo and tests; elsewhere, skew adds.
  const latencies = [];
  function noteLatency(at) {
    if (!at) return;
    const ms = Date.now() - at * 1000;
    latencies.push(ms);
    if (latencies.length > 200) latencies.shift();
    text('latency', `${Math.round(ms)} ms`);
    window.hotlineLatencies = latencies;
  }
  // Crisis mode's banner (crisis_banner.html), redrawn from a board's or a switch's view.
  function drawCrisis(view) {
    const banner = el('crisis-banner');
    if (!banner || !view) return;
    banner.hidden = !view.on;
    banner.dataset.on = view.on ? 'yes' : '';
    text('crisis-reason', view.reason || '');
    const closed = view.closed_queues || [];
    el('crisis-closed').hidden = closed.length === 0;
    text('crisis-closed-queues', closed.map((q) => t(`queue.${q}`) === `queue.${q}` ? q : t(`queue.${q}`)).join(', '));
    document.dispatchEvent(new CustomEvent('hotline:crisis', {detail: view}));
  }
  return {t, call, feed, duration, percent, el, text, noteLatency, drawCrisis};
})();
