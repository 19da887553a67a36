// The desk's campaign card (preview dialling): take the next record with its script, dial it
// (click-to-dial, screened against the do-not-call lists), skip it, or save the result; the
// campaigns API applies the retry rules and audits each step.
'use strict';
(() => {
  const {t, call, el, text} = Hotline;
  const card = el('camp-card');
  if (!card || !el('camp-next')) return;
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? '');
  let record = null;
  let contact = null;

  const say = (message) => text('camp-desk-status', message);
  const showError = (error) => {
    text('camp-desk-error', error ? String(error.message || error) : '');
    el('camp-desk-error').hidden = !error;
  };

  function show(next) {
    record = next.record;
    contact = null;
    el('camp-record').hidden = !record;
    if (!record) { say(t('camp.desk_nothing')); return; }
    say('');
    text('camp-record-name', record.name || '–');
    text('camp-record-phone', record.phone);
    text('camp-record-attempts', String(record.attempts + 1));
    text('camp-script', next.script);
    const data = el('camp-record-data');
    data.replaceChildren(...Object.entries(record.data).flatMap(([key, value]) => {
      const dt = document.createElement('dt');
      dt.textContent = key;
      const dd = document.createElement('dd');
      dd.textContent = value;
      return [dt, dd];
    }));
  }

  el('camp-next').addEventListener('click', async () => {
    showError(null);
    try { show(await call('POST', `/api/campaigns/${el('camp-choose').value}/next`)); } catch (error) { showError(error); }
  });

  el('camp-dial').addEventListener('click', async () => {
    if (!record) return;
    showError(null);
    try {
      const dialled = await call('POST', `/api/campaigns/records/${record.id}/dial`);
      if (dialled.refused) {
        say(fill(t('camp.desk_refused'), {list: dialled.refused}));
        el('camp-record').hidden = true;
        record = null;
        return;
      }
      contact = dialled.contact_id;
      say(fill(t('camp.desk_dialled'), {contact}));
    } catch (error) { showError(error); }
  });

  el('camp-skip').addEventListener('click', async () => {
    if (!record) return;
    showError(null);
    try {
      await call('POST', `/api/campaigns/records/${record.id}/skip`);
      show({record: null, script: ''});
    } catch (error) { showError(error); }
  });

  el('camp-result-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!record) return;
    showError(null);
    const body = {result: el('camp-result').value};
    if (contact) body.contact_id = contact;
    const at = el('camp-callback-at').value;
    if (at) body.callback_at = new Date(at).toISOString();
    try {
      const saved = await call('POST', `/api/campaigns/records/${record.id}/result`, body);
      el('camp-record').hidden = true;
      record = null;
      say(fill(t('camp.desk_saved'), {status: saved.record.status, attempts: saved.record.attempts}));
    } catch (error) { showError(error); }
  });
})();
