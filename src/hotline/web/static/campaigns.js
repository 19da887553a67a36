// The campaigns page: every figure and change goes through the campaigns API, which checks
// the rules (located problems are shown as they come) and audits every change.
'use strict';
(() => {
  const {t, call, el, text} = Hotline;
  const page = el('campaigns-page');
  if (!page) return;
  const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? '');
  const say = (message) => { text('camp-status', message); };
  const showError = (error) => {
    text('camp-error', error ? String(error.message || error) : '');
    el('camp-error').hidden = !error;
  };
  const cell = (row, value) => {
    const td = document.createElement('td');
    td.textContent = value ?? '–';
    row.appendChild(td);
    return td;
  };
  const button = (label, onClick, extra) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'secondary';
    b.textContent = label;
    if (extra) Object.assign(b.dataset, extra);
    b.addEventListener('click', onClick);
    return b;
  };
  const NEXT = {draft: ['running', 'finished'], running: ['paused', 'finished'], paused: ['running', 'finished'], finished: []};
  const LABEL = {running: 'camp.start', paused: 'camp.pause', finished: 'camp.finish'};

  async function move(campaign, state) {
    showError(null);
    try {
      await call('POST', `/api/campaigns/${campaign.id}/state`, {state});
      await load();
    } catch (error) { showError(error); }
  }

  function options(select, campaigns, first) {
    const keep = select.value;
    const items = campaigns.map((c) => {
      const o = document.createElement('option');
      o.value = String(c.id);
      o.textContent = c.name;
      return o;
    });
    select.replaceChildren(...(first ? [first] : []), ...items);
    if ([...select.options].some((o) => o.value === keep)) select.value = keep;
  }

  async function load() {
    const {items} = await call('GET', '/api/campaigns');
    el('camp-table').tBodies[0].replaceChildren(...items.map((c) => {
      const row = document.createElement('tr');
      row.dataset.campaign = String(c.id);
      cell(row, c.name);
      cell(row, t(`camp.kind.${c.kind}`));
      cell(row, t(`camp.mode.${c.mode}`));
      cell(row, t(`camp.state.${c.state}`)).className = 'state';
      cell(row, Object.values(c.figures.records).reduce((a, b) => a + b, 0));
      cell(row, c.figures.attempts);
      cell(row, c.figures.answers);
      cell(row, c.figures.connects);
      cell(row, c.figures.abandons);
      cell(row, c.figures.abandon_budget_left).className = 'budget';
      const live = c.figures.dialler;
      cell(row, live ? fill(t('camp.dialler_state'), {
        ...live,
        budget_used: `${Math.round(live.budget_used * 100)} %`,
        at: new Date(live.at).toLocaleTimeString(),
      }) : '–').className = 'dialler';
      const actions = cell(row, '');
      for (const state of NEXT[c.state]) actions.appendChild(button(t(LABEL[state]), () => move(c, state), {state}));
      return row;
    }));
    el('camp-empty').hidden = items.length > 0;
    options(el('list-campaign'), items.filter((c) => c.state !== 'finished'));
    const center = document.createElement('option');
    center.value = '';
    center.textContent = t('camp.dnc_center');
    options(el('dnc-scope'), items, center);
    await loadDnc();
  }

  async function loadDnc() {
    const scope = el('dnc-scope').value;
    const {items} = await call('GET', `/api/do-not-call${scope ? `?campaign_id=${scope}` : ''}`);
    el('dnc-table').tBodies[0].replaceChildren(...items.map((entry) => {
      const row = document.createElement('tr');
      cell(row, entry.number);
      cell(row, entry.reason);
      cell(row, entry.added_by);
      cell(row, '').appendChild(button(t('camp.dnc_remove'), async () => {
        try { await call('DELETE', `/api/do-not-call/${entry.id}`); await loadDnc(); } catch (error) { showError(error); }
      }));
      return row;
    }));
    el('dnc-empty').hidden = items.length > 0;
  }

  el('camp-create').addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(null);
    const form = Object.fromEntries(new FormData(event.target));
    const holidays = String(form.holidays).split(',').map((d) => d.trim()).filter(Boolean);
    const body = {
      name: form.name, kind: form.kind, mode: form.mode, script: form.script,
      calling_hours: {weekdays: form.weekdays, saturday: form.saturday, sunday: form.sunday, holidays, time_zone: form.time_zone},
      retry: {max_attempts: Number(form.max_attempts), busy: {after_minutes: Number(form.busy)}, no_answer: {after_minutes: Number(form.no_answer)}},
    };
    try {
      await call('POST', '/api/campaigns', body);
      say(t('camp.created'));
      event.target.reset();
      await load();
    } catch (error) { showError(error); }
  });

  el('camp-list-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(null);
    const file = el('list-file').files[0];
    if (!file) return;
    try {
      // Checked whole at once (a bad row is refused here); written in the background.
      let job = await call('POST', `/api/campaigns/${el('list-campaign').value}/list`, {file: file.name, text: await file.text()});
      while (job.state !== 'done' && job.state !== 'failed') {
        say(fill(t('camp.importing'), job));
        await new Promise((resolve) => { setTimeout(resolve, 500); });
        job = await call('GET', `/api/campaigns/list-jobs/${job.job_id}`);
      }
      if (job.state === 'failed') throw new Error(job.result.message || job.state);
      say(fill(t('camp.imported'), job.result));
      await load();
    } catch (error) { showError(error); }
  });

  el('camp-query-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(null);
    const body = Object.fromEntries([...new FormData(event.target)].filter(([, v]) => String(v).trim()));
    try {
      const counts = await call('POST', `/api/campaigns/${el('list-campaign').value}/query-list`, body);
      say(fill(t('camp.imported'), counts));
      await load();
    } catch (error) { showError(error); }
  });

  el('dnc-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(null);
    const form = Object.fromEntries(new FormData(event.target));
    const body = {number: form.number, reason: form.reason};
    if (form.campaign_id) body.campaign_id = Number(form.campaign_id);
    try {
      await call('POST', '/api/do-not-call', body);
      el('dnc-number').value = '';
      await load();
    } catch (error) { showError(error); }
  });
  el('dnc-scope').addEventListener('change', () => loadDnc().catch(showError));

  load().catch(showError);
})();
