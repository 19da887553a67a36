// Agent desktop: state and reason codes, the ringing offer with screen pop, call controls,
// wrap-up timer with disposition, callbacks, tickets and knowledge search.
'use strict';
(() => {
  const {t, call, feed, duration, el, text, noteLatency} = Hotline;
  const desk = el('desk');
  if (!desk) return;
  const me = desk.dataset.agent;
  const base = `/api/live/agents/${encodeURIComponent(me)}`;
  let view = null, offset = 0, popFor = null, popCustomer = null;

  function mine() {
    if (!view) return new Set();
    const ids = view.contacts.map((c) => c.contact_id);
    if (view.offer) ids.push(view.offer.contact_id);
    return new Set(ids);
  }
  const current = () => (view ? view.contacts.find((c) => c.stage !== 'ringing') : null);
  const serverNow = () => Date.now() / 1000 + offset;

  // A dial or transfer a voice node could not carry out names its reason: said in the
  // user's language, with the server's detail after it.
  function said(error) {
    const message = String(error.message || error);
    const reason = error.reason ? t(`desk.voice_${error.reason}`) : null;
    return reason && reason !== `desk.voice_${error.reason}` ? `${reason} (${message})` : message;
  }

  function showError(error) {
    const node = el('desk-error');
    node.textContent = error ? said(error) : '';
    node.hidden = !error;
  }

  async function refresh(at) {
    try {
      view = await call('GET', base);
    } catch (error) { showError(error); return; }
    offset = view.now - Date.now() / 1000;
    render();
    noteLatency(at);
  }

  // On load the desk asks whether a supervisor is coaching this agent now (a reload in the
  // middle of a whisper); after that the live feed's coached messages keep the notice.
  async function load() {
    await refresh();
    if (view && view.coached) drawCoached({on: true, ...view.coached});
  }

  // The call backs this agent promised and that are not yet due, soonest first.
  function renderCallbacks() {
    const rows = (view.callbacks || []).map((cb) => {
      const row = document.createElement('tr');
      for (const value of [new Date(cb.due_at * 1000).toLocaleString(), cb.customer || '',
                           t(`queue.${cb.queue}`) || cb.queue, cb.note || '']) {
        const cell = document.createElement('td');
        cell.textContent = value;
        row.appendChild(cell);
      }
      return row;
    });
    el('callback-list').tBodies[0].replaceChildren(...rows);
    el('callback-none').hidden = rows.length > 0;
  }

  function render() {
    renderCallbacks();
    const state = el('state');
    state.textContent = t(`state.${view.state}`);
    state.className = `badge state-${view.state}`;
    text('reason', view.reason ? `(${t('reason.' + view.reason) || view.reason})` : '');
    const offer = view.offer;
    el('offer-card').hidden = !offer;
    if (offer) {
      text('offer-queue', offer.queue ? t(`queue.${offer.queue}`) : '');
      text('offer-channel', t(`channel.${offer.channel}`));
      text('offer-customer', offer.attached.customer || t('desk.unknown'));
      text('offer-subject', offer.attached.subject || offer.attached.note || '');
      // a phone call rings on the agent's phone and is answered there
      const onPhone = offer.attached.via === 'phone';
      el('btn-answer').hidden = onPhone;
      el('offer-on-phone').hidden = !onPhone;
    }
    const contact = current();
    el('contact-card').hidden = !contact;
    desk.dataset.contact = contact ? contact.contact_id : '';  // the softphone's transfer buttons
    if (contact) {
      text('contact-id', contact.contact_id);
      text('contact-stage', t(`stage.${contact.stage}`));
      text('contact-queue', contact.queue ? t(`queue.${contact.queue}`) : '');
      el('contact-hold').hidden = !contact.on_hold;
      const talking = contact.stage === 'talking';
      el('talk-controls').hidden = !talking;
      el('transfer-controls').hidden = !talking || Boolean(contact.consulting);
      el('consult-controls').hidden = !talking || !contact.consulting;
      text('consult-with', contact.consulting ? `${t('desk.consulting')} ${contact.consulting}` : '');
      el('btn-hold').hidden = contact.on_hold;
      el('btn-resume').hidden = !contact.on_hold;
      el('wrap-controls').hidden = contact.stage !== 'wrap_up';
    }
    const popTarget = contact ? contact.contact_id : (offer ? offer.contact_id : null);
    if (popTarget !== popFor) { popFor = popTarget; loadPop(popTarget); }
    tick();
  }

  function tick() {
    if (!view) return;
    text('in-state', view.since ? duration(serverNow() - view.since) : '–');
    if (view.offer) {
      const left = view.offer.offered_at + view.offer.ring_timeout_s - serverNow();
      text('offer-countdown', Math.max(0, Math.ceil(left)));
    }
    const contact = current();
    if (contact && contact.stage === 'wrap_up' && contact.wrap_until) {
      const left = contact.wrap_until - serverNow();
      text('wrap-timer', duration(left));
      el('wrap-timer').classList.toggle('late', left < 10);
    }
  }
  setInterval(tick, 1000);

  function item(list, textValue) {
    const li = document.createElement('li');
    li.textContent = textValue;
    list.appendChild(li);
  }

  async function loadPop(contactId) {
    el('pop').hidden = !contactId;
    popCustomer = null;
    el('pop-empty').hidden = Boolean(contactId);
    if (!contactId) return;
    let pop;
    try { pop = await call('GET', `${base}/contacts/${encodeURIComponent(contactId)}/screen-pop`); }
    catch (error) { showError(error); return; }
    const customer = pop.customers[0];
    // A ticket opened during this contact belongs to the recognised caller.
    popCustomer = customer ? customer.id : null;
    text('pop-customer', customer ? `${customer.name}${customer.vip_level ? ' · VIP ' + customer.vip_level : ''}` : t('desk.unknown'));
    text('pop-number', pop.attached.customer || '');
    for (const id of ['pop-products', 'pop-contacts', 'pop-tickets']) el(id).replaceChildren();
    pop.products.forEach((p) => item(el('pop-products'), `${p.model} · ${p.serial_number || ''} ${p.warranty_until ? '· ' + t('desk.warranty') + ' ' + p.warranty_until : ''}`));
    const blank = document.createElement('option'); blank.value = ''; blank.textContent = '–';
    el('ticket-product').replaceChildren(blank, ...pop.products.map((p) => {
      const option = document.createElement('option'); option.value = p.id; option.textContent = `${p.model} · ${p.serial_number || ''}`; return option;
    }));
    if (pop.products.length === 1) el('ticket-product').value = String(pop.products[0].id);
    // The customer's last contacts on every channel (call, chat, WeChat, SMS, e-mail).
    pop.last_contacts.forEach((c) => item(el('pop-contacts'), [c.at.slice(0, 16).replace('T', ' '), t('channel.' + c.channel), c.queue, c.outcome && t('cust.outcome.' + c.outcome), c.summary].filter(Boolean).join(' · ')));
    pop.open_tickets.forEach((k) => item(el('pop-tickets'), `${k.number} · ${k.subject} · ${t('ticket.state.' + k.state)}`));
    if (!pop.products.length) item(el('pop-products'), t('desk.none'));
    if (!pop.last_contacts.length) item(el('pop-contacts'), t('desk.none'));
    if (!pop.open_tickets.length) item(el('pop-tickets'), t('desk.none'));
    // A callback asked for in a chat: the chat so far (one case, moved from chat to a call).
    const who = {customer: t('chat.desk.customer'), agent: t('chat.widget.agent'), bot: t('chat.widget.bot')};
    el('pop-case').hidden = !pop.case_chat;
    el('pop-case-chat').replaceChildren();
    (pop.case_chat || []).filter((m) => m.body).forEach((m) => item(el('pop-case-chat'), `${who[m.sender] || t('chat.widget.system')}: ${m.body}`));
    const attached = el('pop-attached');
    attached.replaceChildren();
    for (const [key, value] of Object.entries(pop.attached)) {
      if (value == null || value === '' || key === 'ticket_id') continue;
      const dt = document.createElement('dt'); dt.textContent = t(`attached.${key}`);
      const dd = document.createElement('dd'); dd.textContent = String(value);
      // An e-mail contact: its ticket's page holds the thread and the reply.
      if (key === 'ticket_number' && pop.attached.ticket_id) {
        const link = document.createElement('a');
        link.href = `/tickets/${encodeURIComponent(pop.attached.ticket_id)}`;
        link.textContent = String(value);
        dd.replaceChildren(link);
      }
      attached.append(dt, dd);
    }
  }

  async function act(path, body) {
    showError(null);
    try { await call('POST', `${base}${path}`, body); } catch (error) { showError(error); }
    await refresh();
  }
  const contactPath = (action) => `/contacts/${encodeURIComponent(current().contact_id)}/${action}`;

  el('btn-ready').onclick = () => act('/state', {state: 'ready'});
  el('btn-not-ready').onclick = () => act('/state', {state: 'not_ready', reason: el('reason-select').value});
  el('btn-logout').onclick = () => act('/state', {state: 'logout'});
  el('btn-answer').onclick = () => act(`/contacts/${encodeURIComponent(view.offer.contact_id)}/answer`);
  el('btn-reject').onclick = () => act(`/contacts/${encodeURIComponent(view.offer.contact_id)}/reject`);
  el('btn-hold').onclick = () => act(contactPath('hold'));
  el('btn-resume').onclick = () => act(contactPath('resume'));
  el('btn-hangup').onclick = () => act(contactPath('hangup'));
  el('btn-wrap-done').onclick = () => act(contactPath('wrap-up'), {disposition: el('disposition').value});
  el('btn-transfer').onclick = () => {
    const queue = el('transfer-queue').value, agent = el('transfer-agent').value.trim();
    const number = el('transfer-number').value.trim();  // an outside number: a phone call only
    act(contactPath('transfer'), number ? {number} : agent ? {agent_id: agent} : {queue});
  };
  // Consult another agent while the customer waits; then hand over (warm) or go back.
  el('btn-consult').onclick = () => act(contactPath('consult'), {agent_id: el('transfer-agent').value.trim()});
  el('btn-consult-transfer').onclick = () => act(contactPath('consult/end'), {transfer: true});
  el('btn-consult-end').onclick = () => act(contactPath('consult/end'), {transfer: false});
  el('btn-callback').onclick = async () => {
    try {
      const made = await call('POST', `${base}${contactPath('callback')}`, {
        queue: el('callback-queue').value, in_minutes: Number(el('callback-minutes').value),
        note: el('callback-note').value,
      });
      text('callback-result', `${t('desk.callback_set')} ${new Date(made.due_at * 1000).toLocaleTimeString()}`);
      refresh();
    } catch (error) { showError(error); }
  };

  // Click-to-dial: the server rings this agent's phone, then calls the number.
  el('dial-form').onsubmit = async (event) => {
    event.preventDefault();
    const number = el('dial-number').value.trim();
    try {
      await call('POST', `${base}/dial`, {number});
      text('dial-result', `${t('desk.dialling')} ${number}`);
    } catch (error) { text('dial-result', said(error)); }
  };

  el('ticket-form').onsubmit = async (event) => {
    event.preventDefault();
    const contact = current() || (view && view.offer ? {contact_id: view.offer.contact_id} : null);
    if (!contact) { text('ticket-result', t('desk.ticket_needs_contact')); return; }
    const form = new FormData(event.target);
    const custom = {};
    el('ticket-custom').querySelectorAll('[data-custom]').forEach((input) => {
      if (input.value !== '') custom[input.dataset.custom] = input.value;
    });
    const product = form.get('product_id');
    try {
      // The service desk's own route: it checks the category and custom fields against the
      // center's configuration and decides the warranty from the product's dates.
      const ticket = await call('POST', '/api/tickets', {
        type: form.get('type'), subject: form.get('subject'),
        description: form.get('description'), priority: form.get('priority'),
        category: form.get('category') || '', custom_fields: custom,
        customer_id: popCustomer, product_id: product ? Number(product) : null,
        contact_id: contact.contact_id, queue: contact.queue || '',
      });
      text('ticket-result', `${t('ticket.created')} ${ticket.number}`);
      text('ticket-warranty', product ? (ticket.warranty ? t('bo.in_warranty') : t('bo.out_of_warranty')) : '');
      event.target.reset();
      drawCategories();
      popFor = null; render();
    } catch (error) { text('ticket-result', String(error.message || error)); }
  };

  // The categories of the chosen ticket type and the custom fields of the chosen category
  // (the center configuration's ticket_categories); the caller's products from the pop.
  let categories = [];
  call('GET', '/api/tickets/categories').then((sections) => { categories = sections; drawCategories(); }).catch(() => {});
  const typeSelect = el('ticket-form').elements.type;
  function drawCategories() {
    const section = categories.find((s) => s.type === typeSelect.value);
    const blank = document.createElement('option'); blank.value = ''; blank.textContent = '–';
    el('ticket-category').replaceChildren(blank, ...(section ? section.categories : []).map((c) => {
      const option = document.createElement('option'); option.value = c.id; option.textContent = c.name || c.id; return option;
    }));
    drawCustomFields();
  }
  function drawCustomFields() {
    const section = categories.find((s) => s.type === typeSelect.value);
    const chosen = section && section.categories.find((c) => c.id === el('ticket-category').value);
    el('ticket-custom').replaceChildren(...(chosen ? chosen.fields : []).map((def) => {
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
      input.dataset.custom = def.name; input.required = Boolean(def.required);
      label.appendChild(input);
      return label;
    }));
  }
  typeSelect.addEventListener('change', drawCategories);
  el('ticket-category').addEventListener('change', drawCustomFields);

  el('kb-form').onsubmit = async (event) => {
    event.preventDefault();
    const q = el('kb-query').value.trim();
    const list = el('kb-results');
    list.replaceChildren();
    if (!q) return;
    try {
      const hits = await call('GET', `/api/live/knowledge?q=${encodeURIComponent(q)}`);
      // Each title opens the article on the knowledge page, in a new tab: the call stays here.
      hits.forEach((h) => {
        const li = document.createElement('li');
        const link = document.createElement('a');
        link.href = `/knowledge?article=${h.article_id}`;
        link.target = '_blank';
        link.rel = 'noopener';
        link.textContent = `${h.title} (v${h.version})`;
        li.appendChild(link);
        list.appendChild(li);
      });
      if (!hits.length) item(list, t('desk.none'));
    } catch (error) { item(list, String(error.message || error)); }
  };

  // A supervisor whispering to this agent or barging in on their call (ChanSpy's listen is
  // silent): the notice stays while the session is on.
  function drawCoached(message) {
    const notice = el('coached');
    notice.hidden = !message.on;
    notice.dataset.mode = message.on ? message.mode : '';
    text('coached-text', message.on ? `${t(`desk.coached.${message.mode}`)} ${message.supervisor}` : '');
    // the softphone mixes a supervisor on its coach line by the mode (whisper or barge)
    window.dispatchEvent(new CustomEvent('hotline:coached', {detail: message}));
  }

  feed((message) => {
    if (message.type === 'crisis') { Hotline.drawCrisis(message); return; }
    if (message.type === 'coached') { if (message.agent_id === me) drawCoached(message); return; }
    const forMe = message.agent_id === me || (message.contact_id && mine().has(message.contact_id));
    if (!forMe || message.type === 'wallboard') return;
    refresh(message.type === 'offer' ? message.offered_at : message.at);
  });
  load();
})();
