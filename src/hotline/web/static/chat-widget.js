/* Hotline web chat widget: embed with
 *   <script src="https://hotline.example.com/chat/widget.js" data-lang="zh-CN" defer></script>
 * The page's origin must be in the center file's chat.allowed_origins. A site where the
 * customer is signed in adds data-user-token="<the token its server signed>" (or calls
 * HotlineChat.identify(token) before the chat starts): the chat then starts identified.
 * In the chat the customer may verify their e-mail or mobile with a one-time code.
 *
 * Reliability: every message the server accepts carries its conversation's sequence number;
 * the widget remembers the last one it saw (sessionStorage, so a page reload resumes too) and
 * reconnects with ?after=N after a drop. Its own messages carry a client_id and stay pending
 * until the server acknowledges them; pending ones are sent again on reconnection (the server
 * keeps each client_id once).
 */
(function () {
  "use strict";
  var STRINGS = /*STRINGS*/{};
  var script = document.currentScript;
  var base = new URL(script.src).origin;
  var wanted = (script.getAttribute("data-lang") || document.documentElement.lang || navigator.language || "zh-CN");
  var lang = wanted.toLowerCase().indexOf("en") === 0 ? "en" : "zh-CN";
  var T = STRINGS[lang] || {};
  var userToken = script.getAttribute("data-user-token") || null;
  var KEY = "hotline-chat:" + base;
  var saved = {};
  try { saved = JSON.parse(sessionStorage.getItem(KEY) || "{}"); } catch (e) { saved = {}; }
  var state = {
    conversation: saved.conversation || null,
    token: saved.token || null,
    lastSeq: saved.lastSeq || 0,
    phase: saved.phase || null,
    rated: !!saved.rated,
    hasEmail: !!saved.hasEmail,
    mailed: !!saved.mailed,
    verified: !!saved.verified,
    given: saved.given || {},
    pending: {},
    order: [],
    socket: null,
    backoff: 500,
    reconnects: 0,
    typingSent: 0,
    maxBytes: 2000000
  };

  function save() {
    sessionStorage.setItem(KEY, JSON.stringify({
      conversation: state.conversation, token: state.token, lastSeq: state.lastSeq,
      phase: state.phase, rated: state.rated, hasEmail: state.hasEmail, mailed: state.mailed,
      verified: state.verified, given: state.given
    }));
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  var css = el("link", { rel: "stylesheet", href: base + "/static/chat-widget.css" });
  document.head.appendChild(css);

  var root = el("div", { id: "hotline-chat", "class": "hc-root", lang: lang, "data-reconnects": "0" });
  var launcher = el("button", { type: "button", "class": "hc-launcher", "aria-expanded": "false", "aria-controls": "hc-panel" }, T.open);
  var panel = el("section", { id: "hc-panel", "class": "hc-panel", "aria-label": T.title, hidden: "" });
  var heading = el("h2", { "class": "hc-title" }, T.title);
  var status = el("p", { "class": "hc-status", role: "status", "aria-live": "polite" });
  panel.appendChild(heading);
  panel.appendChild(status);

  // The pre-chat form.
  var form = el("form", { "class": "hc-form", novalidate: "" });
  function field(name, label, type, required) {
    var wrap = el("p");
    var id = "hc-" + name;
    var lab = el("label", { "for": id }, label);
    var input = name === "topic" ? el("textarea", { id: id, name: name, rows: "2", maxlength: "200" })
      : el("input", { id: id, name: name, type: type, maxlength: name === "email" ? "254" : "100" });
    if (required) { input.setAttribute("required", ""); input.setAttribute("aria-required", "true"); }
    wrap.appendChild(lab);
    wrap.appendChild(input);
    form.appendChild(wrap);
    return input;
  }
  var nameInput = field("name", T.name, "text", true);
  var phoneInput = field("phone", T.phone, "tel", false);
  var emailInput = field("email", T.email, "email", false);
  var topicInput = field("topic", T.topic, "text", true);
  var formError = el("p", { "class": "hc-error", role: "alert" });
  form.appendChild(formError);
  form.appendChild(el("button", { type: "submit", "class": "hc-primary" }, T.start));
  panel.appendChild(form);

  // The conversation.
  var talk = el("div", { "class": "hc-talk", hidden: "" });
  var queueLine = el("p", { "class": "hc-queue", "aria-live": "polite" });
  var log = el("ol", { "class": "hc-log", "aria-label": T.messages, "aria-live": "polite" });
  var typing = el("p", { "class": "hc-typing", hidden: "" }, T.agent_typing);
  var compose = el("form", { "class": "hc-compose" });
  var textLabel = el("label", { "for": "hc-text", "class": "hc-visually-hidden" }, T.your_message);
  var text = el("textarea", { id: "hc-text", rows: "2" });
  var fileLabel = el("label", { "for": "hc-file", "class": "hc-file-label" }, T.attach);
  var file = el("input", { id: "hc-file", type: "file", "class": "hc-visually-hidden" });
  var sendButton = el("button", { type: "submit", "class": "hc-primary" }, T.send);
  var endButton = el("button", { type: "button", "class": "hc-secondary" }, T.end);
  var talkError = el("p", { "class": "hc-error", role: "alert" });
  [textLabel, text, fileLabel, file, sendButton, endButton].forEach(function (n) { compose.appendChild(n); });
  // Verify an e-mail address or mobile with a one-time code (the agent then knows it is you).
  var verify = el("div", { "class": "hc-verify" });
  var verifyOpen = el("button", { type: "button", "class": "hc-secondary hc-verify-open", "aria-expanded": "false" }, T.verify_open);
  var askForm = el("form", { "class": "hc-verify-ask", hidden: "" });
  var kindLabel = el("label", { "for": "hc-verify-kind" }, T.verify_kind);
  var kindSelect = el("select", { id: "hc-verify-kind" });
  kindSelect.appendChild(el("option", { value: "email" }, T.email));
  kindSelect.appendChild(el("option", { value: "phone" }, T.phone));
  var addressLabel = el("label", { "for": "hc-verify-address" }, T.verify_address);
  var addressInput = el("input", { id: "hc-verify-address", type: "text", maxlength: "254", autocomplete: "email" });
  [kindLabel, kindSelect, addressLabel, addressInput, el("button", { type: "submit", "class": "hc-secondary" }, T.send_code)].forEach(function (n) { askForm.appendChild(n); });
  var codeForm = el("form", { "class": "hc-verify-code", hidden: "" });
  var codeLabel = el("label", { "for": "hc-code" }, T.code);
  var codeInput = el("input", { id: "hc-code", type: "text", inputmode: "numeric", maxlength: "6", autocomplete: "one-time-code" });
  [codeLabel, codeInput, el("button", { type: "submit", "class": "hc-secondary" }, T.check_code)].forEach(function (n) { codeForm.appendChild(n); });
  var verifyStatus = el("p", { "class": "hc-verify-status", role: "status", "aria-live": "polite" });
  [verifyOpen, askForm, codeForm, verifyStatus].forEach(function (n) { verify.appendChild(n); });
  [queueLine, log, typing, compose, talkError, verify].forEach(function (n) { talk.appendChild(n); });
  panel.appendChild(talk);

  // The survey.
  var survey = el("div", { "class": "hc-survey", hidden: "" });
  survey.appendChild(el("p", {}, T.survey_question));
  var scores = el("div", { role: "group", "aria-label": T.survey_question, "class": "hc-scores" });
  [1, 2, 3, 4, 5].forEach(function (n) {
    var b = el("button", { type: "button", "class": "hc-score", "data-score": String(n), "aria-label": T["score_" + n] }, String(n));
    b.addEventListener("click", function () { rate(n); });
    scores.appendChild(b);
  });
  survey.appendChild(scores);
  var thanks = el("p", { "class": "hc-thanks", hidden: "" }, T.survey_thanks);
  survey.appendChild(thanks);
  // The transcript by e-mail, to the address of the form (only when one was given).
  var mailButton = el("button", { type: "button", "class": "hc-secondary", hidden: "" }, T.transcript);
  var mailed = el("p", { "class": "hc-mailed", role: "status", hidden: "" });
  survey.appendChild(mailButton);
  survey.appendChild(mailed);
  panel.appendChild(survey);

  root.appendChild(launcher);
  root.appendChild(panel);
  document.body.appendChild(root);

  launcher.addEventListener("click", function () {
    var open = panel.hasAttribute("hidden");
    if (open) { panel.removeAttribute("hidden"); } else { panel.setAttribute("hidden", ""); }
    launcher.setAttribute("aria-expanded", String(open));
  });

  function show(part) {
    form.hidden = part !== "form";
    talk.hidden = part !== "talk";
    survey.hidden = part !== "survey";
  }

  function time(at) {
    var d = new Date(at * 1000);
    return d.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
  }

  function bubble(m, pending) {
    var who = m.sender === "customer" ? T.you : (m.sender === "agent" ? T.agent : (m.sender === "bot" ? T.bot : T.system));
    var li = el("li", { "class": "hc-msg hc-" + m.sender + (pending ? " hc-pending" : "") });
    if (m.client_id) { li.setAttribute("data-client-id", m.client_id); }
    if (m.seq) { li.setAttribute("data-seq", String(m.seq)); }
    var meta = el("span", { "class": "hc-meta" }, who + (m.at ? " · " + time(m.at) : ""));
    var body;
    if (m.kind === "joined") { body = el("span", {}, T.joined); }
    else if (m.kind === "handed_over") { body = el("span", {}, T.handed_over); }
    else if (m.kind === "ended") { body = el("span", {}, T.ended); }
    else if (m.kind === "attachment") { body = el("span", { "class": "hc-file" }, "📎 " + m.body + (m.attachment ? " (" + Math.ceil(m.attachment.size / 1024) + " KB)" : "")); }
    else { body = el("span", { "class": "hc-body" }, m.body); }
    li.appendChild(meta);
    li.appendChild(body);
    return li;
  }

  function received(m) {
    if (m.seq <= state.lastSeq) { return; }
    state.lastSeq = m.seq;
    save();
    var mine = m.client_id ? log.querySelector('li[data-client-id="' + m.client_id + '"]') : null;
    if (mine) { log.removeChild(mine); }
    // In sequence order, before the messages still waiting for their number.
    var node = bubble(m, false);
    var next = null;
    Array.prototype.some.call(log.children, function (li) {
      var seq = Number(li.getAttribute("data-seq") || "0");
      if (!seq || seq > m.seq) { next = li; return true; }
      return false;
    });
    log.insertBefore(node, next);
    if (m.client_id) { forget(m.client_id); }
    if (m.sender === "agent") { typing.hidden = true; }
    log.scrollTop = log.scrollHeight;
  }

  function forget(clientId) {
    delete state.pending[clientId];
    state.order = state.order.filter(function (c) { return c !== clientId; });
  }

  function setPhase(phase, rated) {
    state.phase = phase;
    state.rated = !!rated;
    save();
    if (phase === "ended") {
      show("survey");
      queueLine.textContent = "";
      if (state.rated) { scores.hidden = true; thanks.hidden = false; }
      mailButton.hidden = !state.hasEmail || state.mailed;
    } else {
      show("talk");
      if (phase === "talking") { queueLine.textContent = T.connected; }
    }
  }

  function handle(msg) {
    if (msg.type === "message") { received(msg); }
    else if (msg.type === "state") { setPhase(msg.phase, msg.rated); }
    else if (msg.type === "ack") {
      forget(msg.client_id);
      var li = log.querySelector('li[data-client-id="' + msg.client_id + '"]');
      if (li) { li.classList.remove("hc-pending"); li.setAttribute("data-acked", "true"); }
    }
    else if (msg.type === "queue") {
      if (msg.position) {
        var wait = msg.expected_wait_s == null ? "" : " " + T.expected_wait.replace("{s}", String(msg.expected_wait_s));
        queueLine.textContent = T.position.replace("{n}", String(msg.position)) + wait;
      }
    }
    else if (msg.type === "typing") {
      typing.hidden = false;
      clearTimeout(state.typingTimer);
      state.typingTimer = setTimeout(function () { typing.hidden = true; }, 4000);
    }
    else if (msg.type === "transcript_sent") {
      state.mailed = true;
      save();
      mailButton.hidden = true;
      mailed.textContent = T.transcript_sent.replace("{to}", msg.to);
      mailed.hidden = false;
    }
    else if (msg.type === "code_sent") {
      codeForm.hidden = false;
      verifyStatus.textContent = T.code_sent.replace("{to}", msg.to);
      codeInput.focus();
    }
    else if (msg.type === "code_verified") { verified(); }
    else if (msg.type === "refused" && (msg.field === "address" || msg.field === "code")) {
      verifyStatus.textContent = T.refused_verify + " " + msg.rule;
    }
    else if (msg.type === "refused" && msg.field === "transcript") {
      mailed.textContent = T.refused + " " + msg.rule;
      mailed.hidden = false;
    }
    else if (msg.type === "refused") {
      if (msg.client_id) {
        forget(msg.client_id);
        var failed = log.querySelector('li[data-client-id="' + msg.client_id + '"]');
        if (failed) { failed.classList.add("hc-failed"); }
      }
      talkError.textContent = T.refused + " " + msg.rule;
    }
  }

  function connect() {
    if (!state.token) { return; }
    var url = base.replace(/^http/, "ws") + "/chat/ws?token=" + encodeURIComponent(state.token) + "&after=" + state.lastSeq;
    var ws = new WebSocket(url);
    state.socket = ws;
    ws.onopen = function () {
      state.backoff = 500;
      status.textContent = "";
      state.order.forEach(function (c) { ws.send(JSON.stringify(state.pending[c])); });
    };
    ws.onmessage = function (e) { handle(JSON.parse(e.data)); };
    ws.onclose = function (e) {
      if (state.socket !== ws) { return; }
      state.socket = null;
      if (e.code === 4403 || e.code === 4404) {
        status.textContent = T.expired;
        sessionStorage.removeItem(KEY);
        return;
      }
      if (state.phase === "ended" && state.rated) { return; }
      status.textContent = T.reconnecting;
      state.reconnects += 1;
      root.setAttribute("data-reconnects", String(state.reconnects));
      setTimeout(connect, state.backoff);
      state.backoff = Math.min(state.backoff * 2, 5000);
    };
  }

  function send(frame) {
    if (frame.client_id) {
      state.pending[frame.client_id] = frame;
      state.order.push(frame.client_id);
    }
    if (state.socket && state.socket.readyState === 1) { state.socket.send(JSON.stringify(frame)); }
  }

  function clientId() {
    return "w" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    formError.textContent = "";
    var body = {
      name: nameInput.value.trim(), topic: topicInput.value.trim(), language: lang,
      phone: phoneInput.value.trim() || null, email: emailInput.value.trim() || null
    };
    if (!body.name || !body.topic) { formError.textContent = T.need_name_topic; return; }
    if (!body.phone && !body.email) { formError.textContent = T.need_contact; return; }
    if (userToken) { body.login_token = userToken; }
    fetch(base + "/chat/api/conversations", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (data) { return { ok: r.ok, data: data }; });
    }).then(function (answer) {
      if (!answer.ok) {
        var d = answer.data;
        formError.textContent = d.message || (d.problems || []).map(function (p) { return p.field + ": " + p.problem; }).join("; ") || T.failed;
        return;
      }
      state.conversation = answer.data.conversation;
      state.token = answer.data.token;
      state.lastSeq = 0;
      state.phase = "waiting";
      state.hasEmail = !!body.email;
      state.mailed = false;
      state.verified = false;
      state.given = { email: body.email, phone: body.phone };
      save();
      show("talk");
      queueLine.textContent = T.waiting;
      connect();
    }).catch(function () { formError.textContent = T.failed; });
  });

  compose.addEventListener("submit", function (e) {
    e.preventDefault();
    talkError.textContent = "";
    var value = text.value;
    if (!value.trim()) { return; }
    var frame = { type: "message", text: value, client_id: clientId() };
    log.appendChild(bubble({ sender: "customer", kind: "text", body: value, client_id: frame.client_id }, true));
    send(frame);
    text.value = "";
  });

  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); compose.requestSubmit(); }
  });

  text.addEventListener("input", function () {
    var now = Date.now();
    if (now - state.typingSent > 2000 && state.socket && state.socket.readyState === 1) {
      state.typingSent = now;
      state.socket.send(JSON.stringify({ type: "typing" }));
    }
  });

  file.addEventListener("change", function () {
    var chosen = file.files[0];
    file.value = "";
    if (!chosen) { return; }
    talkError.textContent = "";
    if (chosen.size > state.maxBytes) {
      talkError.textContent = T.too_big.replace("{n}", String(Math.round(state.maxBytes / 1000000)));
      return;
    }
    var reader = new FileReader();
    reader.onload = function () {
      var data = String(reader.result).split(",", 2)[1] || "";
      var frame = { type: "attachment", name: chosen.name, content_type: chosen.type || "application/octet-stream", data: data, client_id: clientId() };
      log.appendChild(bubble({ sender: "customer", kind: "attachment", body: chosen.name, client_id: frame.client_id }, true));
      send(frame);
    };
    reader.readAsDataURL(chosen);
  });

  endButton.addEventListener("click", function () { send({ type: "end" }); });

  function prefill() {
    addressInput.value = state.given[kindSelect.value] || "";
    addressInput.setAttribute("type", kindSelect.value === "email" ? "email" : "tel");
  }
  function verified() {
    state.verified = true;
    save();
    askForm.hidden = true;
    codeForm.hidden = true;
    verifyOpen.hidden = true;
    verifyStatus.textContent = T.verified;
  }
  verifyOpen.addEventListener("click", function () {
    askForm.hidden = !askForm.hidden;
    verifyOpen.setAttribute("aria-expanded", String(!askForm.hidden));
    if (!state.given.email && state.given.phone) { kindSelect.value = "phone"; }
    prefill();
  });
  kindSelect.addEventListener("change", prefill);
  askForm.addEventListener("submit", function (e) {
    e.preventDefault();
    verifyStatus.textContent = "";
    send({ type: "verify", kind: kindSelect.value, address: addressInput.value.trim() });
  });
  codeForm.addEventListener("submit", function (e) {
    e.preventDefault();
    send({ type: "code", code: codeInput.value.trim() });
    codeInput.value = "";
  });
  if (state.verified) { verified(); }
  mailButton.addEventListener("click", function () { send({ type: "transcript" }); });

  function rate(score) {
    send({ type: "survey", score: score });
    state.rated = true;
    save();
    scores.hidden = true;
    thanks.hidden = false;
  }

  window.HotlineChat = {
    /** The host site's signed token for its signed-in customer, before the chat starts. */
    identify: function (token) { userToken = token || null; },
    /** For diagnostics and tests: the socket now, and how often it reconnected. */
    socket: function () { return state.socket; },
    reconnects: function () { return state.reconnects; }
  };

  if (state.token) {
    show(state.phase === "ended" ? "survey" : "talk");
    connect();
  } else {
    show("form");
  }
})();
