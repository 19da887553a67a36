// The desk's campaign card (preview dialling): take the next record with its script, dial it
// (click-to-dial, screened against the do-not-call lists), skip it, or save the result; the
// campaigns API applies the retry rules and audits each step.
'use strict';
// What the campaign card's two parts share: a text's {name} placeholders filled from values,
// and a record's data (the list file's columns) as the terms of a description list.
const DeskCampaigns = (() => {
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? '');
  function showRecordData(node, data) {
    node.replaceChildren(...Object.entries(data).flatMap(([key, value]) => {
      const dt = document.createElement('dt');
      dt.textContent = key;
      const dd = document.createElement('dd');
      dd.textContent = value;
      return [dt, dd];
    }));
  }
  return {fill, showRecordData};
})();

(() => {
  const {t, call, el, text} = Hotline;
  const {fill, showRecordData} = DeskCampaigns;
  const card = el('camp-card');
  if (!card || !el('camp-next')) return;
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
    showRecordData(el('camp-record-data'), record.data);
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
// A progressive or predictive call the dialler connected to this agent pops here: the
// campaign and its script, the customer behind the dialled number, the follow-up task's
// questions, the earlier attempts; the agent's disposition (and a callback time the customer
// asks for) goes through the preview's result route. The dialler runs in the voice server,
// so the desk asks for its calls every few seconds.
(() => {
  const {t, call, el, text} = Hotline;
  const {fill, showRecordData} = DeskCampaigns;
  const box = el('camp-call');
  const desk = el('desk');
  // Only an agent with an agent id has dialled calls (the API refuses anyone else).
  if (!box || !desk || !desk.dataset.agent) return;
  const POLL_MS = 2000;
  let shown = null;

  const showError = (error) => {
    text('camp-call-error', error ? String(error.message || error) : '');
    el('camp-call-error').hidden = !error;
  };
  const items = (list, rows) => {
    el(list).replaceChildren(...(rows.length ? rows : [t('camp.call_none')]).map((row) => {
      const li = document.createElement('li');
      li.textContent = row;
      return li;
    }));
  };

  function render(current) {
    const changed = (current ? current.contact_id : null) !== (shown ? shown.contact_id : null);
    shown = current;
    box.hidden = !current;
    if (!current || !changed) return;
    showError(null);
    text('camp-call-status', '');
    const customer = current.customers[0];
    text('camp-call-campaign', current.campaign);
    text('camp-call-customer', customer ? `${customer.name}${customer.vip_level ? ' · VIP ' + customer.vip_level : ''}` : (current.record.name || t('desk.unknown')));
    text('camp-call-phone', current.record.phone);
    text('camp-call-attempt', String(current.earlier_attempts.length + 1));
    text('camp-call-script', current.script);
    showRecordData(el('camp-call-data'), current.record.data);
    const followup = current.followup;
    el('camp-call-followup').hidden = !followup;
    if (followup) {
      text('camp-call-ticket', followup.ticket_number);
      items('camp-call-questions', followup.questions.map((q) => t(`fu.q.${q}`)));
    }
    items('camp-call-earlier', current.earlier_attempts.map((a) =>
      `${a.at.slice(0, 16).replace('T', ' ')} · ${t('camp.result.' + a.result)}${a.agent_id ? ' · ' + a.agent_id : ''}`));
    el('camp-call-callback').value = '';
  }

  async function poll() {
    try {
      const calls = await call('GET', '/api/campaign-calls');
      render(calls.items[0] || null);
    } catch (error) { showError(error); }
  }

  el('camp-call-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!shown) return;
    showError(null);
    const body = {result: el('camp-call-result').value, contact_id: shown.contact_id};
    const at = el('camp-call-callback').value;
    if (at) body.callback_at = new Date(at).toISOString();
    try {
      const saved = await call('POST', `/api/campaigns/records/${shown.record.id}/result`, body);
      text('camp-call-status', fill(t('camp.call_saved'), {status: saved.record.status, attempts: saved.record.attempts}));
      shown = null;
      await poll();
    } catch (error) { showError(error); }
  });
  poll();
  setInterval(poll, POLL_MS);
})();
