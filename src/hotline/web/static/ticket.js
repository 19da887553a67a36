// The ticket page: details, SLA clocks, what blocks closing, complaint path, fields,
// actions, dispatch to a provider, verification callback, notes and the full history.
'use strict';
(() => {
  const {t, call, el, text} = Hotline;
  const root = el('ticket-page');
  if (!root) return;
  const id = root.dataset.ticket;
  const mayWork = root.dataset.mayWork === 'true';
  const STEPS = {
    new: ['start', 'resolve', 'cancel'],
    open: ['wait_customer', 'resolve', 'cancel'],
    waiting_customer: ['customer_replied', 'cancel'],
    dispatched: ['wait_customer', 'resolve', 'cancel'],
    resolved: ['close', 'reopen'],
    closed: ['reopen'],
  };
  let page = null;

  // A reason closing is blocked, in the page's language: its code's text with the values
  // (a state, a ticket type, the roles still to acknowledge) put in, themselves translated.
  function blockerText(blocker) {
    const v = blocker.values;
    const said = {
      state: v.state && t(`ticket.state.${v.state}`),
      type: v.type && t(`ticket.type.${v.type}`),
      level: v.level,
      missing: v.missing && v.missing.split(',').map((role) => t(`role.${role}`)).join('、'),
    };
    const key = `bo.blocker.${blocker.code}`;
    const template = t(key);
    if (template === key) return blocker.text;  // a reason this page does not know yet
    return template.replace(/\{(\w+)\}/g, (_, name) => said[name] ?? '');
  }

  function showError(error) {
    const node = el('page-error');
    node.textContent = error ? String(error.message || error) : '';
    node.hidden = !error;
  }
  async function run(action) {
    showError(null);
    try { await action(); } catch (error) { showError(error); }
    await load();
  }

  async function load() {
    try { page = await call('GET', `/api/backoffice/tickets/${id}`); }
    catch (error) { showError(error); return; }
    const loadedAt = Date.now();
    const k = page.ticket;
    text('t-number', k.number);
    text('t-subject', k.subject);
    text('t-state', t(`ticket.state.${k.state}`));
    el('t-state').dataset.state = k.state;
    el('t-paused').hidden = !k.paused;
    const product = page.product;
    Backoffice.facts(el('t-facts'), [
      [t('ticket.type'), t(`ticket.type.${k.type}`)],
      [t('ticket.priority'), t(`ticket.priority.${k.priority}`)],
      [t('bo.queue'), k.queue || '–'],
      [t('bo.assignee'), k.assignee || '–'],
      [t('bo.customer'), k.customer_id ? `#${k.customer_id}` : '–'],
      [t('bo.product'), product ? `${product.model} · ${product.serial_number || ''}` : (k.product_model || '–')],
      [t('bo.purchased'), product ? (product.purchased_on || '–') + ' / ' + (product.installed_on || '–') : '–'],
      [t('bo.warranty'), (k.warranty ? t('bo.in_warranty') : t('bo.out_of_warranty')) + (product ? ` · ${product.warranty_reason}` : '')],
      [t('bo.region'), k.region || '–'],
      [t('bo.provider'), page.provider || '–'],
      [t('bo.appointment'), k.appointment_from ? `${Backoffice.when(k.appointment_from)} – ${Backoffice.when(k.appointment_to)}` : '–'],
      [t('bo.accepted'), k.accepted_at ? Backoffice.when(k.accepted_at) : '–'],
      [t('bo.claim'), t(`bo.claim_status.${k.claim_status}`)],
      [t('ticket.description'), k.description || '–'],
    ]);
    Backoffice.resetClocks();
    el('t-clocks').replaceChildren(...page.clocks.map((clock) => {
      const row = document.createElement('tr');
      Backoffice.cell(row, t(`bo.clock.${clock.clock}`));
      Backoffice.cell(row, t(`bo.clock_state.${clock.state}`));
      Backoffice.countdown(Backoffice.cell(row, '', 'sla-left'), clock, loadedAt);
      return row;
    }));
    const finished = ['closed', 'cancelled'].includes(k.state);
    const blockers = finished ? [] : page.blockers;
    el('t-blockers').replaceChildren(...blockers.map((blocker) => {
      const li = document.createElement('li'); li.className = 'warn'; li.textContent = blockerText(blocker); return li;
    }));
    el('t-can-close').hidden = blockers.length > 0;
    text('t-can-close', finished ? t(`ticket.state.${k.state}`) : t('bo.can_close'));
    drawComplaint();
    el('t-related').replaceChildren(...page.related.map((other) => {
      const li = document.createElement('li');
      const link = document.createElement('a'); link.href = `/tickets/${other.id}`; link.textContent = other.number;
      li.append(link, ` · ${other.subject} · ${t('ticket.state.' + other.state)}`);
      return li;
    }));
    drawFields();
    drawHistory();
    drawFiles();
    if (mayWork) drawActions();
  }

  // The ticket's files: each a download link (the download is audited on the server).
  function drawFiles() {
    el('t-files').replaceChildren(...page.attachments.map((file) => {
      const li = document.createElement('li');
      const link = document.createElement('a');
      link.href = `/api/backoffice/attachments/${file.id}`;
      link.textContent = file.filename;
      const size = file.size_bytes < 1024 * 1024 ? `${Math.ceil(file.size_bytes / 1024)} KB` : `${(file.size_bytes / 1048576).toFixed(1)} MB`;
      li.append(link, ` · ${size} · ${file.uploaded_by} · ${new Date(file.uploaded_at).toLocaleString(document.documentElement.lang)}`);
      return li;
    }));
    el('t-no-files').hidden = page.attachments.length > 0;
  }

  function drawComplaint() {
    const complaint = page.complaint;
    el('complaint-card').hidden = !complaint;
    if (!complaint) return;
    Backoffice.facts(el('t-complaint'), [
      [t('bo.level'), t(`bo.level.${complaint.level}`)],
      [t('bo.path'), complaint.path.map((r) => t(`role.${r}`)).join(' → ')],
      [t('bo.acknowledged'), complaint.acknowledged.map((r) => t(`role.${r}`)).join(', ') || '–'],
      [t('bo.next_role'), complaint.next_role ? t(`role.${complaint.next_role}`) : t('bo.path_done')],
      [t('bo.deadline'), Backoffice.when(complaint.deadline)],
    ]);
    const button = el('btn-acknowledge');
    if (button) {
      button.hidden = !complaint.next_role || ['closed', 'cancelled'].includes(page.ticket.state);
      button.textContent = `${t('bo.acknowledge')} (${t('role.' + complaint.next_role)})`;
      button.onclick = () => run(() => call('POST', `/api/tickets/${id}/actions`, {action: 'escalate', target: complaint.next_role}));
    }
  }

  function drawFields() {
    const select = el('f-category');
    const categories = page.fields;
    const current = page.ticket.category;
    const blank = document.createElement('option'); blank.value = ''; blank.textContent = '–';
    select.replaceChildren(blank, ...categories.map((c) => {
      const option = document.createElement('option'); option.value = c.id; option.textContent = c.name || c.id; return option;
    }));
    if (current && !categories.some((c) => c.id === current)) {
      const option = document.createElement('option'); option.value = current; option.textContent = current; select.appendChild(option);
    }
    select.value = current;
    select.disabled = !mayWork;
    drawCustom();
  }
  function drawCustom() {
    const chosen = page.fields.find((c) => c.id === el('f-category').value);
    const values = page.ticket.custom_fields || {};
    const defs = chosen ? chosen.fields : Object.keys(values).map((name) => ({name, label: name, type: 'text'}));
    el('f-custom').replaceChildren(...defs.map((def) => {
      const label = document.createElement('label');
      label.textContent = (def.label || def.name) + (def.required ? ' *' : '');
      let input;
      if (def.type === 'choice') {
        input = document.createElement('select');
        for (const choice of ['', ...def.choices]) {
          const option = document.createElement('option'); option.value = choice; option.textContent = choice || '–'; input.appendChild(option);
        }
      } else {
        input = document.createElement('input');
        input.type = def.type === 'number' ? 'number' : (def.type === 'date' ? 'date' : 'text');
      }
      input.name = def.name; input.dataset.custom = def.name;
      input.value = values[def.name] ?? '';
      input.required = Boolean(def.required); input.disabled = !mayWork;
      label.appendChild(input);
      return label;
    }));
  }
  el('f-category').onchange = drawCustom;
  el('fields-form').onsubmit = (event) => {
    event.preventDefault();
    const custom = {};
    el('f-custom').querySelectorAll('[data-custom]').forEach((input) => { custom[input.dataset.custom] = input.value === '' ? null : input.value; });
    run(() => call('PATCH', `/api/tickets/${id}/fields`, {category: el('f-category').value, custom_fields: custom}));
  };

  // One time-ordered list: the ticket's changes and responses, the contacts it was opened or
  // worked in (with the recording, for roles that may hear it), the survey answers about
  // those contacts and its follow-ups (回访) with their outcomes; newest first.
  function changeItem(entry) {
    const li = document.createElement('li');
    if (entry.internal) li.className = 'internal';
    else if (entry.action === 'update') li.className = 'customer';
    const time = document.createElement('time'); time.dateTime = entry.at; time.textContent = Backoffice.when(entry.at);
    const head = document.createElement('div');
    const kind = entry.internal ? t('bo.internal_note') : t(`bo.action.${entry.action}`);
    head.append(time, ` · ${entry.actor} · ${kind}`);
    if (entry.from_state && entry.from_state !== entry.to_state) head.append(` · ${t('ticket.state.' + entry.from_state)} → ${t('ticket.state.' + entry.to_state)}`);
    li.appendChild(head);
    if (entry.note) { const p = document.createElement('div'); p.textContent = entry.note; li.appendChild(p); }
    const data = entry.data || {};
    const details = [];
    if (data.fault_found) details.push(`${t('bo.fault_found')}: ${data.fault_found}`);
    if (data.parts && data.parts.length) details.push(`${t('bo.parts')}: ${data.parts.join(', ')}`);
    if (data.fixed !== undefined) details.push(data.fixed ? t('bo.fixed') : t('bo.not_fixed'));
    if (data.on_time !== undefined && data.on_time !== null) details.push(data.on_time ? t('bo.on_time') : t('bo.late'));
    if (data.provider && entry.action === 'dispatch') details.push(`${t('bo.provider')}: ${data.provider}` + (data.reassigned_from ? ` (${t('bo.reassigned_from')} ${data.reassigned_from})` : ''));
    if (data.number && ['link', 'merge', 'cancel'].includes(entry.action)) details.push(`${t('bo.other_ticket')}: ${data.number}`);
    if (data.warranty) details.push(`${t('bo.warranty')}: ${data.warranty}`);
    if (data.amount_yuan !== undefined) details.push(`${t('bo.amount')}: ${data.amount_yuan}`);
    if (details.length) { const p = document.createElement('div'); p.className = 'muted small'; p.textContent = details.join(' · '); li.appendChild(p); }
    return li;
  }
  function line(className, at, ...parts) {
    const li = document.createElement('li');
    li.className = className;
    const time = document.createElement('time'); time.dateTime = at; time.textContent = Backoffice.when(at);
    const head = document.createElement('div');
    head.append(time, ...parts.filter(Boolean).map((part) => ` · ${part}`));
    li.appendChild(head);
    return li;
  }
  const said = (answers) => Object.entries(answers).map(([question, answer]) => `${question}: ${answer}`).join('; ');
  function detail(li, words) {
    if (!words) return;
    const p = document.createElement('div'); p.className = 'muted small'; p.textContent = words; li.appendChild(p);
  }
  function contactItem(at, c) {
    const li = line('contact', at, t('bo.tl.contact'), c.channel, c.direction, c.agent_id, c.contact_id);
    detail(li, c.summary);
    for (const recording of c.recordings) {
      const a = document.createElement('a');
      a.href = recording.audio;
      a.textContent = `${t('bo.tl.play')} (${Math.round(recording.seconds)} s)`;
      const p = document.createElement('div'); p.appendChild(a); li.appendChild(p);
    }
    return li;
  }
  function timelineItem(entry) {
    if (entry.kind === 'change') return changeItem(page.history[entry.change]);
    if (entry.kind === 'contact') return contactItem(entry.at, entry.contact);
    if (entry.kind === 'survey') {
      const s = entry.survey;
      const li = line('survey', entry.at, t('bo.tl.survey'), s.survey,
        s.score == null ? '' : `${t('bo.tl.score')} ${s.score} / ${s.scale_max}`);
      detail(li, said(s.answers));
      return li;
    }
    const f = entry.followup;
    if (entry.kind === 'followup') {
      return line('followup', entry.at, `${t('bo.tl.followup')} ${Backoffice.when(f.due_at)}`, f.rule);
    }
    const li = line('followup', entry.at, t('bo.tl.followup_outcome'), t(`fu.state.${f.state}`), f.agent);
    detail(li, said(f.answers));
    return li;
  }
  function drawHistory() {
    el('t-history').replaceChildren(...page.timeline.map(timelineItem).reverse());
  }

  async function drawActions() {
    const k = page.ticket;
    el('t-actions').replaceChildren(...(STEPS[k.state] || []).map((step) => {
      const button = document.createElement('button');
      button.type = 'button'; button.id = `act-${step}`;
      button.className = step === 'cancel' ? 'secondary' : '';
      button.textContent = t(`bo.action.${step}`);
      button.onclick = () => run(() => call('POST', `/api/tickets/${id}/actions`, {action: step}));
      return button;
    }));
    const fieldWork = ['repair', 'installation'].includes(k.type);
    el('dispatch-card').hidden = !(fieldWork && ['new', 'open', 'dispatched'].includes(k.state));
    el('verify-card').hidden = k.state !== 'resolved';
    if (!el('dispatch-card').hidden) {
      if (k.region) el('d-region').value = k.region;
      await drawProviders();
    }
  }
  async function drawProviders() {
    const fits = await call('GET', `/api/backoffice/tickets/${id}/providers`);
    const region = el('d-region').value;
    el('d-providers').replaceChildren(...fits.map((fit) => {
      const row = document.createElement('tr');
      Backoffice.cell(row, `${fit.name} (${fit.code})`);
      Backoffice.cell(row, `${fit.open_load} / ${fit.capacity}`);
      Backoffice.cell(row, fit.eligible ? '✓' : fit.reasons.join('; '));
      return row;
    }));
    // A provider that only fails on the region may fit once the region is set here.
    const usable = fits.filter((fit) => fit.eligible || fit.reasons.every((r) => r.includes('region')));
    el('d-provider').replaceChildren(...usable.map((fit) => {
      const option = document.createElement('option'); option.value = fit.code; option.textContent = `${fit.name} · ${fit.open_load}/${fit.capacity}`; return option;
    }));
    if (!el('d-from').value) {
      const start = new Date(Date.now() + 24 * 3600 * 1000); start.setMinutes(0, 0, 0);
      el('d-from').value = Backoffice.localValue(start);
      el('d-to').value = Backoffice.localValue(new Date(start.getTime() + 2 * 3600 * 1000));
    }
    return region;
  }
  if (mayWork) {
    el('relate-form').onsubmit = (event) => {
      event.preventDefault();
      run(() => call('POST', `/api/backoffice/tickets/${id}/links`, {number: el('r-number').value.trim()}));
    };
    el('btn-merge').onclick = () => {
      if (!el('r-number').reportValidity()) return;
      run(() => call('POST', `/api/backoffice/tickets/${id}/merge`, {number: el('r-number').value.trim()}));
    };
    el('btn-assign').onclick = () => run(() => call('POST', `/api/tickets/${id}/actions`, {action: 'assign', target: el('assign-to').value.trim()}));
    el('dispatch-form').onsubmit = (event) => {
      event.preventDefault();
      run(() => call('POST', `/api/backoffice/tickets/${id}/dispatch`, {
        provider: el('d-provider').value, region: el('d-region').value,
        appointment_from: Backoffice.instant(el('d-from').value), appointment_to: Backoffice.instant(el('d-to').value),
      }));
    };
    el('verify-form').onsubmit = (event) => {
      event.preventDefault();
      const part = el('v-part').checked;
      run(() => call('POST', `/api/tickets/${id}/verification`, {
        reached: el('v-reached').checked, customer_confirmed: el('v-confirmed').checked,
        part_replaced: part, part_matches_fault: part ? el('v-matches').checked : null, note: el('v-note').value,
      }));
    };
    el('file-form').onsubmit = (event) => {
      event.preventDefault();
      const body = new FormData();
      body.append('file', el('f-file').files[0]);
      run(async () => {
        // multipart, so not through Hotline.call (which sends JSON); the same refusals.
        const response = await fetch(`/api/backoffice/attachments/tickets/${id}`, {method: 'POST', body, credentials: 'same-origin'});
        if (!response.ok) {
          const data = await response.json().catch(() => ({}));
          const problems = (data.problems || []).map((p) => p.problem).join('; ');
          throw new Error(problems || data.message || response.statusText);
        }
        el('f-file').value = '';
      });
    };
    el('note-form').onsubmit = (event) => {
      event.preventDefault();
      const internal = document.querySelector('#note-form input[name=kind]:checked').value === 'internal';
      run(async () => {
        await call('POST', `/api/backoffice/tickets/${id}/notes`, {note: el('n-text').value, internal});
        el('n-text').value = '';
      });
    };
  }
  Backoffice.onTicketsChanged((ids) => { if (ids.includes(Number(id))) load(); });
  load();
})();
