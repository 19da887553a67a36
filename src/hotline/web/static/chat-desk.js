// The chat desk: several conversations at once as tabs, offers to accept, canned replies and
// knowledge articles inserted into the reply, end and wrap-up; supervisors watch read-only.
// Everything goes over /api/chat/ws; a dropped socket reconnects and the server sends each
// conversation in hand again, whole.
'use strict';
(() => {
  const root = document.getElementById('chat-desk');
  if (!root) return;
  const me = root.dataset.agent || null;
  const supervising = root.dataset.supervising === 'true';
  const T = JSON.parse(document.getElementById('chat-i18n').textContent);
  const byId = (id) => document.getElementById(id);
  const tabs = byId('chat-tabs');
  const panels = byId('chat-panels');
  const template = byId('chat-panel-template');
  const chats = new Map();  // conversation id -> {tab, panel, lastSeq, phase}
  let socket = null, active = null, counter = 0;

  function status(text) { byId('chat-status').textContent = text || ''; }

  async function call(method, url, body) {
    const response = await fetch(url, {
      method, credentials: 'same-origin',
      headers: body ? {'Content-Type': 'application/json'} : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.message || response.statusText);
    return data;
  }

  function send(frame) {
    if (socket && socket.readyState === 1) socket.send(JSON.stringify(frame));
  }

  function select(id) {
    active = id;
    for (const [cid, chat] of chats) {
      const on = cid === id;
      chat.tab.setAttribute('aria-selected', String(on));
      chat.tab.tabIndex = on ? 0 : -1;
      chat.panel.hidden = !on;
    }
  }

  function who(m) {
    if (m.sender === 'agent') return T.you;
    if (m.sender === 'customer') return T.customer;
    if (m.sender === 'bot') return T.bot;
    return T.system;
  }

  function addMessage(chat, m) {
    if (m.seq <= chat.lastSeq) return;
    chat.lastSeq = m.seq;
    const li = document.createElement('li');
    li.className = `from-${m.sender}`;
    li.dataset.seq = m.seq;
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = `${who(m)} · ${new Date(m.at * 1000).toLocaleTimeString()}`;
    const body = document.createElement('span');
    body.className = 'body';
    if (m.kind === 'joined') body.textContent = T.joined;
    else if (m.kind === 'handed_over') body.textContent = `${T.handed_over} (${m.body})`;
    else if (m.kind === 'ended') body.textContent = T.ended;
    else if (m.kind === 'attachment' && m.attachment) {
      const link = document.createElement('a');
      link.href = `/api/chat/attachments/${encodeURIComponent(m.attachment.id)}`;
      link.textContent = `📎 ${m.body}`;
      body.append(link);
    } else body.textContent = m.body;
    li.append(meta, body);
    chat.log.append(li);
    chat.log.scrollTop = chat.log.scrollHeight;
    if (m.sender === 'customer') chat.typing.hidden = true;
  }

  function setPhase(chat, phase) {
    chat.phase = phase;
    chat.tab.dataset.phase = phase;
    if (chat.wrap) chat.wrap.disabled = phase !== 'ended';
    if (chat.end) chat.end.disabled = phase === 'ended';
  }

  function open(summary) {
    const id = summary.conversation;
    let chat = chats.get(id);
    if (!chat) {
      counter += 1;
      const tab = document.createElement('button');
      tab.type = 'button';
      tab.setAttribute('role', 'tab');
      tab.id = `chat-tab-${counter}`;
      tab.dataset.conversation = id;
      tab.textContent = `${summary.customer_name} · ${summary.topic}`.slice(0, 40);
      tab.onclick = () => select(id);
      const panel = template.content.firstElementChild.cloneNode(true);
      panel.id = `chat-panel-${counter}`;
      panel.dataset.conversation = id;
      panel.setAttribute('aria-labelledby', tab.id);
      tab.setAttribute('aria-controls', panel.id);
      tabs.append(tab);
      panels.append(panel);
      chat = {
        tab, panel, lastSeq: 0, phase: summary.phase,
        log: panel.querySelector('.chat-log'), typing: panel.querySelector('.chat-typing'),
        text: panel.querySelector('.chat-text'), wrap: panel.querySelector('.chat-wrap'),
        end: panel.querySelector('.chat-end'), error: panel.querySelector('.chat-error'),
      };
      chat.log.setAttribute('aria-label', tab.textContent);
      const contact = [summary.phone, summary.email].filter(Boolean).join(' · ');
      panel.querySelector('.chat-who').textContent =
        `${T.customer}: ${summary.customer_name} ${contact} — ${T.topic}: ${summary.topic}`;
      const form = panel.querySelector('.chat-compose');
      if (form) {
        form.onsubmit = (event) => {
          event.preventDefault();
          const text = chat.text.value;
          if (!text.trim()) return;
          counter += 1;
          send({type: 'message', conversation: id, text, client_id: `d${Date.now()}x${counter}`});
          chat.text.value = '';
        };
        chat.text.addEventListener('keydown', (event) => {
          if (event.key === 'Enter' && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
        });
        let typed = 0;
        chat.text.addEventListener('input', () => {
          if (Date.now() - typed > 2000) { typed = Date.now(); send({type: 'typing', conversation: id}); }
        });
        chat.end.onclick = () => send({type: 'end', conversation: id});
        panel.querySelector('.chat-callback').onclick = () => send({type: 'callback', conversation: id});
        chat.wrap.onclick = () => {
          const disposition = panel.querySelector('.chat-disposition').value || null;
          send({type: 'wrap_up', conversation: id, disposition});
        };
      }
      chats.set(id, chat);
      byId('chat-none').hidden = true;
      if (me) screenPop(id, panel);
    }
    for (const m of summary.messages || []) addMessage(chat, m);
    setPhase(chat, summary.phase);
    if (!active || !chats.has(active)) select(id);
    else chat.panel.hidden = active !== id;
    return chat;
  }

  // The screen pop, as for a call: the customer behind the phone given in the pre-chat form,
  // their last contacts on every channel and their open tickets.
  async function screenPop(id, panel) {
    try {
      const pop = await call('GET', `/api/live/agents/${encodeURIComponent(me)}/contacts/${encodeURIComponent(id)}/screen-pop`);
      const customer = pop.customers[0];
      panel.querySelector('.chat-pop-customer').textContent = customer
        ? `${T.known_customer}: ${customer.name}${customer.vip_level ? ` (VIP ${customer.vip_level})` : ''} · ${T.open_tickets}: ${pop.open_tickets.length}`
        : T.new_customer;
      panel.querySelector('.chat-pop-contacts').replaceChildren(...pop.last_contacts.slice(0, 5).map((c) => {
        const li = document.createElement('li');
        li.textContent = [c.at.slice(0, 16).replace('T', ' '), c.channel, c.queue, c.outcome, c.summary].filter(Boolean).join(' · ');
        return li;
      }));
      showIdentity(id, panel, pop);
    } catch (error) { /* the offer may have been withdrawn meanwhile: nothing to show */ }
  }

  // A chat visitor's or WeChat follower's identity: the agent links it to the customer they
  // matched (the next chat from it pops that customer) or unlinks it.
  function showIdentity(id, panel, pop) {
    const form = panel.querySelector('.chat-link');
    const linked = panel.querySelector('.chat-linked');
    const identity = pop.identity;
    form.hidden = !identity || identity.customer_id !== null;
    linked.hidden = !identity || identity.customer_id === null;
    if (!identity) return;
    const url = `/api/live/agents/${encodeURIComponent(me)}/contacts/${encodeURIComponent(id)}/identity`;
    const error = panel.querySelector('.chat-error');
    // How the visitor was identified: proved (the site's login, a one-time code) or the agent's match.
    const how = identity.verified === 'login' ? T.verified_login
      : identity.verified === 'code' ? T.verified_code
      : identity.matched === 'agent' ? T.matched_by_agent
      : identity.matched ? T.matched_by_proof : '';
    panel.querySelector('.chat-verified').textContent = how;
    panel.querySelector('.chat-verified').dataset.verified = identity.verified || '';
    if (identity.customer_id !== null) {
      panel.querySelector('.chat-linked-to').textContent = `${T.linked} ${identity.customer_id} (${identity.shown})`;
    } else if (pop.customers.length) {
      form.querySelector('.chat-link-id').value = pop.customers[0].id;
    }
    form.onsubmit = async (event) => {
      event.preventDefault();
      try {
        await call('PUT', url, {customer_id: Number(form.querySelector('.chat-link-id').value)});
        error.textContent = '';
        screenPop(id, panel);
      } catch (failure) { error.textContent = failure.message; }
    };
    panel.querySelector('.chat-unlink').onclick = async () => {
      try { await call('DELETE', url); error.textContent = ''; screenPop(id, panel); }
      catch (failure) { error.textContent = failure.message; }
    };
  }

  function close(id) {
    const chat = chats.get(id);
    if (!chat) return;
    chat.tab.remove();
    chat.panel.remove();
    chats.delete(id);
    if (active === id) { active = null; const next = chats.keys().next(); if (!next.done) select(next.value); }
    byId('chat-none').hidden = chats.size > 0;
  }

  function showOffer(offer) {
    const list = byId('chat-offers');
    if (!list || list.querySelector(`[data-conversation="${CSS.escape(offer.conversation)}"]`)) return;
    const li = document.createElement('li');
    li.dataset.conversation = offer.conversation;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'good chat-accept';
    button.textContent = T.accept;
    button.onclick = () => send({type: 'accept', conversation: offer.conversation});
    li.append(button, ` ${offer.customer_name} — ${offer.topic}`);
    list.append(li);
  }

  function dropOffer(id) {
    const list = byId('chat-offers');
    const li = list && list.querySelector(`[data-conversation="${CSS.escape(id)}"]`);
    if (li) li.remove();
  }

  function showProgress(items) {
    const list = byId('chat-progress');
    if (!list) return;
    list.replaceChildren();
    for (const item of items) {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'secondary chat-watch';
      button.textContent = T.watch;
      button.onclick = () => send({type: 'watch', conversation: item.conversation});
      li.append(button, ` ${item.customer_name} — ${item.topic} (${item.agent_id || item.phase})`);
      list.append(li);
    }
  }

  function handle(msg) {
    if (msg.type === 'offer') showOffer(msg);
    else if (msg.type === 'offer_cancelled') dropOffer(msg.conversation);
    else if (msg.type === 'conversation') { dropOffer(msg.conversation); open(msg); }
    else if (msg.type === 'conversations') showProgress(msg.items);
    else if (msg.type === 'message') { const c = chats.get(msg.conversation); if (c) addMessage(c, msg); }
    else if (msg.type === 'state') { const c = chats.get(msg.conversation); if (c) setPhase(c, msg.phase); }
    else if (msg.type === 'typing') { const c = chats.get(msg.conversation); if (c && c.typing) c.typing.hidden = false; }
    else if (msg.type === 'wrapped_up') close(msg.conversation);
    else if (msg.type === 'verified') { const c = chats.get(msg.conversation); if (c && me) screenPop(msg.conversation, c.panel); }
    else if (msg.type === 'refused') {
      const c = chats.get(msg.conversation);
      const where = c && c.error ? c.error : byId('chat-status');
      where.textContent = msg.rule;
    }
  }

  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/api/chat/ws`);
    socket = ws;
    ws.onopen = () => { status(''); root.dataset.connected = 'true'; };
    ws.onmessage = (event) => handle(JSON.parse(event.data));
    ws.onclose = () => {
      root.dataset.connected = 'false';
      if (socket !== ws) return;
      status(T.disconnected);
      setTimeout(connect, 1000);
    };
  }

  // Canned replies and knowledge articles go into the reply of the chat shown.
  function insert(text) {
    const chat = active && chats.get(active);
    if (!chat || !chat.text) return;
    chat.text.value = chat.text.value ? `${chat.text.value}\n${text}` : text;
    chat.text.focus();
  }
  for (const button of document.querySelectorAll('.chat-canned')) {
    button.onclick = () => insert(button.dataset.text);
  }
  const kbForm = byId('chat-kb-form');
  if (kbForm) {
    kbForm.onsubmit = async (event) => {
      event.preventDefault();
      const q = byId('chat-kb-q').value.trim();
      const list = byId('chat-kb-results');
      list.replaceChildren();
      if (!q) return;
      try {
        const hits = await call('GET', `/api/kb/search?q=${encodeURIComponent(q)}`);
        for (const hit of hits) {
          const li = document.createElement('li');
          const button = document.createElement('button');
          button.type = 'button';
          button.className = 'secondary chat-kb-insert';
          button.textContent = T.insert;
          button.onclick = async () => {
            const article = await call('GET', `/api/kb/articles/${hit.article_id}`);
            insert(article.body);
          };
          li.append(button, ` ${hit.title}`);
          list.append(li);
        }
      } catch (error) { status(String(error.message || error)); }
    };
  }

  async function refreshState() {
    if (!me) return;
    try {
      const view = await call('GET', `/api/live/agents/${encodeURIComponent(me)}`);
      byId('chat-agent-state').textContent = view.state;
    } catch (error) { status(String(error.message || error)); }
  }
  async function setState(state) {
    const body = {state};
    if (state === 'not_ready') body.reason = byId('chat-reason').value;
    try { await call('POST', `/api/live/agents/${encodeURIComponent(me)}/state`, body); }
    catch (error) { status(String(error.message || error)); }
    refreshState();
  }
  if (me) {
    byId('chat-ready').onclick = () => setState('ready');
    byId('chat-not-ready').onclick = () => setState('not_ready');
    refreshState();
  }
  if (supervising) setInterval(() => send({type: 'list'}), 5000);
  connect();
})();
