// The recording player every page shares (QA workspace, recordings page): an <audio> element,
// a speed choice and the call's segments (IVR, queue, talk, hold, transfer) from the event log
// drawn on a bar; clicking a segment seeks to it. The audio comes from the recordings API,
// which audits every playback; the segments from GET /api/contacts/{id}/segments.
'use strict';
const HotlinePlayer = (() => {
  const {t, call, duration} = Hotline;

  // ids: {audio, speed, bar, list} — the element ids of one player on the page.
  function mount(ids) {
    const audio = document.getElementById(ids.audio);
    const speed = document.getElementById(ids.speed);
    const bar = document.getElementById(ids.bar);
    const list = document.getElementById(ids.list);
    const rate = () => Number(speed.value);
    speed.addEventListener('change', () => { audio.playbackRate = rate(); });
    // A new source resets the rate in some browsers: apply the chosen speed once it loads.
    audio.addEventListener('loadedmetadata', () => { audio.playbackRate = rate(); });

    function draw(segments, seconds) {
      // Only what the recording holds: the IVR and queue before it began are listed, not drawn.
      const shown = segments.filter((s) => (s.end_s > 0 || s.start_s >= 0) && s.start_s < seconds);
      bar.replaceChildren(...shown.map((s) => {
        const button = document.createElement('button');
        button.type = 'button';
        button.className = `seg-${s.kind}`;
        const start = Math.max(0, s.start_s), end = Math.min(seconds, s.end_s);
        button.dataset.start = String(start);
        button.dataset.kind = s.kind;
        button.setAttribute('aria-label', `${t('qa.seg_' + s.kind)} ${duration(start)}`);
        button.title = `${t('qa.seg_' + s.kind)} ${duration(start)}–${duration(end)}`;
        // Positions through the CSSOM: the page's CSP forbids inline style attributes.
        button.style.left = `${(100 * start) / seconds}%`;
        if (end > start) button.style.width = `${(100 * (end - start)) / seconds}%`;
        button.addEventListener('click', () => { audio.currentTime = start; });
        return button;
      }));
      list.replaceChildren(...segments.map((s) => {
        const li = document.createElement('li');
        li.textContent = `${t('qa.seg_' + s.kind)}: ${s.start_s.toFixed(1)} s – ${s.end_s.toFixed(1)} s`;
        return li;
      }));
    }

    // Load a recording (as the recordings API lists it) and mark its contact's segments.
    async function load(recording, contactId = recording.contact_id) {
      audio.src = recording.audio;
      audio.playbackRate = rate();
      const timeline = await call('GET', `/api/contacts/${encodeURIComponent(contactId)}/segments`)
        .catch(() => ({segments: []}));
      draw(timeline.segments, recording.seconds || timeline.seconds || 1);
    }
    return {load, audio};
  }
  return {mount};
})();
