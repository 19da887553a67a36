// The recordings page: server-side search with paging, and the shared player (segments from
// the event log). Playback and download go through the recordings API, which audits both.
'use strict';
(() => {
  const {t, call, el, text, duration} = Hotline;
  const page = el('recordings-page');
  if (!page) return;
  const player = HotlinePlayer.mount({audio: 'rec-audio', speed: 'rec-speed', bar: 'rec-segment-bar', list: 'rec-segment-list'});
  const form = el('rec-search');
  const limit = 25;
  let offset = 0;

  const showError = (error) => {
    text('rec-error', error ? String(error.message || error) : '');
    el('rec-error').hidden = !error;
  };
  const cell = (row, value) => {
    const td = document.createElement('td');
    td.textContent = value ?? '–';
    row.appendChild(td);
    return td;
  };

  function play(recording) {
    el('rec-player-card').hidden = false;
    text('rec-contact', recording.contact_id);
    const link = el('rec-download');
    link.hidden = !recording.download;
    if (recording.download) link.href = recording.download;
    player.load(recording).catch(showError);
    el('rec-audio').focus();
  }

  async function search() {
    showError(null);
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (String(value).trim()) params.set(key, String(value).trim());
    params.set('offset', String(offset));
    params.set('limit', String(limit));
    try {
      const found = await call('GET', `/api/recordings?${params}`);
      el('rec-table').tBodies[0].replaceChildren(...found.items.map((r) => {
        const row = document.createElement('tr');
        row.dataset.recording = String(r.id);
        cell(row, new Date(r.recorded_at * 1000).toLocaleString(document.documentElement.lang));
        cell(row, r.contact_id);
        cell(row, r.agent_id);
        cell(row, r.queue);
        cell(row, r.caller);
        cell(row, duration(r.seconds));
        cell(row, r.disposition);
        const button = document.createElement('button');
        button.type = 'button';
        button.className = 'play';
        button.textContent = t('rec.play');
        button.setAttribute('aria-label', `${t('rec.play')} ${r.contact_id}`);
        button.addEventListener('click', () => play(r));
        cell(row, '').appendChild(button);
        return row;
      }));
      el('rec-empty').hidden = found.items.length > 0;
      const last = Math.min(found.total, offset + found.items.length);
      text('rec-total', found.total ? `${offset + 1}–${last} / ${found.total}` : '0');
      el('rec-prev').disabled = offset === 0;
      el('rec-next').disabled = last >= found.total;
    } catch (error) { showError(error); }
  }

  form.addEventListener('submit', (event) => { event.preventDefault(); offset = 0; search(); });
  el('rec-prev').addEventListener('click', () => { offset = Math.max(0, offset - limit); search(); });
  el('rec-next').addEventListener('click', () => { offset += limit; search(); });
  search();
})();
