// Shared by the back-office pages: SLA countdowns in business time, dates, the ticket feed.
'use strict';
const Backoffice = (() => {
  const {t} = Hotline;

  // Business seconds left on a clock, ticking down once a second while the clock runs and
  // the calendar is open (the server says which); a paused or stopped clock stands still.
  const clocks = [];
  function countdown(node, clock, loadedAt) {
    clocks.push({node, clock, loadedAt});
    draw(node, clock, loadedAt);
  }
  function left(clock, loadedAt) {
    if (clock.remaining_s == null) return null;
    const passed = clock.ticking ? (Date.now() - loadedAt) / 1000 : 0;
    return clock.remaining_s - passed;
  }
  function draw(node, clock, loadedAt) {
    const seconds = left(clock, loadedAt);
    node.classList.toggle('breached', seconds != null && seconds < 0);
    node.classList.toggle('warning', clock.state === 'warning');
    if (clock.state === 'paused') { node.textContent = `⏸ ${t('bo.paused')} · ${Hotline.duration(seconds)}`; return; }
    if (clock.state === 'met' || clock.state === 'missed' || clock.state === 'not_started') {
      node.textContent = t(`bo.clock_state.${clock.state}`); return;
    }
    if (seconds == null) { node.textContent = '–'; return; }
    const text = seconds < 0 ? `−${Hotline.duration(-seconds)} ${t('bo.overdue')}` : Hotline.duration(seconds);
    node.textContent = clock.ticking ? text : `${text} · ${t('bo.after_hours')}`;
  }
  function resetClocks() { clocks.length = 0; }
  setInterval(() => clocks.forEach(({node, clock, loadedAt}) => draw(node, clock, loadedAt)), 1000);

  const when = (iso) => (iso ? new Date(iso).toLocaleString() : '–');
  // A datetime-local value is the browser's local time; the API wants an instant with a zone.
  const instant = (value) => (value ? new Date(value).toISOString() : null);
  function localValue(date) {
    const pad = (n) => String(n).padStart(2, '0');
    return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
  }
  function cell(row, value, cls) {
    const td = document.createElement('td');
    if (value instanceof Node) td.appendChild(value); else td.textContent = value ?? '';
    if (cls) td.className = cls;
    row.appendChild(td);
    return td;
  }
  function facts(dl, pairs) {
    dl.replaceChildren();
    for (const [label, value] of pairs) {
      const dt = document.createElement('dt'); dt.textContent = label;
      const dd = document.createElement('dd'); dd.textContent = value ?? '–';
      dl.append(dt, dd);
    }
  }
  // Reload when a ticket this page shows changes (supervision screens get the live feed).
  function onTicketsChanged(handler) {
    Hotline.feed((message) => { if (message.type === 'tickets_changed') handler(message.ids); });
  }
  return {countdown, resetClocks, when, instant, localValue, cell, facts, onTicketsChanged};
})();
