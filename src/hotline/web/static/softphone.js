// The desk's browser softphone: SIP over a WebSocket (RFC 7118) to the voice server, media
// over WebRTC (rtpengine bridges it to the caller's plain RTP). JsSIP (npm) is the SIP stack,
// loaded from /desk/jssip.js only when the server offers a softphone to this agent. It
// registers with the agent's own phone credentials, rings here, and has its own buttons:
// answer, hold, mute, hang up, DTMF, transfer and consult (the desk's live API); a microphone
// check with device choice before going ready; JsSIP reconnects the WebSocket by itself, and
// a network coming back re-registers. A consult rings this browser a second time (the consult
// line: the first call's media cannot move to another relay), which is answered here at once
// and heard instead of the first call until the consult ends. A supervisor whispering or
// barging in rings it a *coach line* the same way (From ``hotline-coach``), answered here at
// once: this page mixes (WebAudio) — the agent hears the supervisor beside the caller, the
// line carries the microphone and the caller to the supervisor, and in barge the caller's
// call carries the microphone and the supervisor (its sender's track replaced by the mix).
// The mode comes with the desk's live ``coached`` message; until told, whisper (the caller
// never hears a supervisor not meant to be heard). Mute silences the microphone itself, so
// neither the caller nor the supervisor hears the agent, while a barging supervisor stays
// heard by the caller.
'use strict';
(() => {
  const {t, call, el, text} = Hotline;
  const desk = el('desk');
  const card = el('softphone-card');
  if (!desk || !card) return;
  const me = desk.dataset.agent;
  let ua = null;
  let session = null;
  let line = null;  // the consult line, while consulting
  let consulting = false;
  const COACH_LINE = 'hotline-coach';  // the From user of the coach line
  let coach = null;  // the coach line and its mixes, while a supervisor is heard
  let coachMode = 'whisper';  // told by the desk's live feed (``hotline:coached``)
  let checking = null;

  function status(key) {
    const node = el('sp-status');
    node.textContent = t(`sp.status.${key}`);
    card.dataset.status = key;
  }

  function showError(error) {
    const node = el('sp-error');
    node.textContent = error ? String(error.message || error) : '';
    node.hidden = !error;
  }

  function loadLibrary() {
    if (window.JsSIP) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = '/desk/jssip.js';
      script.onload = resolve;
      script.onerror = () => reject(new Error(t('sp.no_library')));
      document.head.appendChild(script);
    });
  }

  // Microphones the browser names (labels appear once a microphone was allowed).
  async function listDevices() {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    const select = el('sp-device');
    const chosen = select.value || localStorage.getItem('hotline.microphone') || '';
    const inputs = (await navigator.mediaDevices.enumerateDevices())
      .filter((device) => device.kind === 'audioinput' && device.deviceId);
    const options = [new Option(t('sp.default_device'), '')];
    inputs.forEach((device, index) => {
      options.push(new Option(device.label || `${t('sp.microphone')} ${index + 1}`, device.deviceId));
    });
    select.replaceChildren(...options);
    if (inputs.some((device) => device.deviceId === chosen)) select.value = chosen;
  }

  function microphone() {
    const id = el('sp-device').value;
    return id ? {deviceId: {exact: id}} : true;
  }

  // The microphone check: three seconds of the chosen microphone's level on the meter.
  async function checkMicrophone() {
    if (checking) return;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({audio: microphone(), video: false});
    } catch (error) {
      text('sp-check-result', t('sp.no_microphone'));
      return;
    }
    await listDevices();
    text('sp-check-result', t('sp.checking'));
    const context = new AudioContext();
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    context.createMediaStreamSource(stream).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    let peak = 0;
    const until = performance.now() + 3000;
    checking = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const value of samples) sum += value * value;
      const level = Math.min(1, Math.sqrt(sum / samples.length) * 4);
      el('sp-level').value = level;
      peak = Math.max(peak, level);
      if (performance.now() < until) return;
      clearInterval(checking);
      checking = null;
      stream.getTracks().forEach((track) => track.stop());
      context.close();
      const result = el('sp-check-result');
      result.textContent = peak > 0.02 ? t('sp.check_ok') : t('sp.check_silent');
      result.dataset.peak = peak.toFixed(3);
    }, 50);
  }

  function render() {
    el('sp-call').hidden = !session;
    if (!session) return;
    const ringing = !session.isEstablished() && !session.isEnded();
    const hold = session.isOnHold().local;
    const muted = session.isMuted().audio;
    const state = ringing ? 'ringing' : hold ? 'held' : 'talking';
    const badge = el('sp-call-state');
    badge.textContent = t(`sp.call.${state}`);
    card.dataset.call = state;
    el('sp-answer').hidden = !ringing;
    el('sp-hold').hidden = ringing || hold;
    el('sp-unhold').hidden = ringing || !hold;
    el('sp-mute').hidden = ringing || muted;
    el('sp-unmute').hidden = ringing || !muted;
    el('sp-muted').hidden = !muted;
    el('sp-keypad').hidden = ringing;
    el('sp-transfer').hidden = ringing || consulting;
    el('sp-consulting').hidden = !consulting;
    const lineState = line && line.isEstablished() ? 'talking' : 'ringing';
    if (consulting) {
      text('sp-consult-state', `${t(`sp.consult.${lineState}`)} ${el('sp-target').value.trim()}`);
      card.dataset.consult = lineState;
    } else {
      delete card.dataset.consult;
    }
  }

  // What the agent hears: the consult line while it is up, else the caller's call.
  function hearRemote(connection, owner) {
    connection.addEventListener('track', (event) => {
      owner.remoteStream = event.streams[0];
      if (owner === (line || session)) el('sp-audio').srcObject = owner.remoteStream;
    });
  }

  function contactPath(action) {
    const contact = desk.dataset.contact;
    if (!contact) throw new Error(t('sp.no_contact'));
    return `/api/live/agents/${encodeURIComponent(me)}/contacts/${encodeURIComponent(contact)}/${action}`;
  }

  async function act(action, body) {
    showError(null);
    try {
      return await call('POST', contactPath(action), body);
    } catch (error) {
      showError(error);
      throw error;
    }
  }

  function target() {
    const agent = el('sp-target').value.trim();
    if (!agent) { showError(t('sp.no_target')); return null; }
    return agent;
  }

  function endConsult() {
    consulting = false;
    line = null;
    if (session && session.remoteStream) el('sp-audio').srcObject = session.remoteStream;
    render();
  }

  // The server rings this browser again for the consult: answered here, no click needed.
  function takeLine(incoming) {
    line = incoming;
    for (const name of ['accepted', 'confirmed']) incoming.on(name, render);
    incoming.on('peerconnection', ({peerconnection}) => hearRemote(peerconnection, incoming));
    const over = () => { if (line === incoming) endConsult(); };
    incoming.on('ended', over);
    incoming.on('failed', over);
    incoming.answer({
      mediaConstraints: {audio: microphone(), video: false},
      pcConfig: {iceServers: []},
    });
    if (incoming.connection) hearRemote(incoming.connection, incoming);
    render();
  }

  // The coach line: answered here with the mix of the microphone and the caller; what it
  // brings (the supervisor) is played beside the caller and mixed into the caller's call in
  // barge. The microphone's own track feeds both mixes, so muting it mutes the agent in both.
  function takeCoachLine(incoming) {
    const sender = session?.connection?.getSenders().find((s) => s.track?.kind === 'audio');
    if (!sender || !session.remoteStream || coach || consulting) {
      incoming.terminate({status_code: 486});
      return;
    }
    const context = new AudioContext();
    const micTrack = sender.track;
    const mic = context.createMediaStreamSource(new MediaStream([micTrack]));
    const toLine = context.createMediaStreamDestination();
    mic.connect(toLine);
    context.createMediaStreamSource(session.remoteStream).connect(toLine);
    const toCaller = context.createMediaStreamDestination();
    mic.connect(toCaller);
    const mixTrack = toCaller.stream.getAudioTracks()[0];
    coach = {line: incoming, context, sender, micTrack, mixTrack, toCaller};
    incoming.on('peerconnection', ({peerconnection}) => hearCoach(peerconnection, incoming));
    const over = () => { if (coach && coach.line === incoming) dropCoachLine(); };
    incoming.on('ended', over);
    incoming.on('failed', over);
    incoming.answer({mediaStream: toLine.stream, pcConfig: {iceServers: []}});
    if (incoming.connection) hearCoach(incoming.connection, incoming);
    context.resume();
  }

  function hearCoach(connection, incoming) {
    connection.addEventListener('track', (event) => {
      if (!coach || coach.line !== incoming || coach.supervisor) return;
      const stream = event.streams[0];
      el('sp-coach-audio').srcObject = stream;  // heard beside the caller's call
      coach.supervisor = coach.context.createMediaStreamSource(stream);
      coach.supervisor.connect(coach.toCaller);
      applyCoachMode();
    });
  }

  // Whisper: the caller's call carries the microphone; barge: the microphone and the
  // supervisor. Mute (and hold) silence the microphone track, which feeds every mix.
  function applyCoachMode() {
    if (!coach) return;
    const track = coachMode === 'barge' ? coach.mixTrack : coach.micTrack;
    if (coach.sender.track !== track) coach.sender.replaceTrack(track).catch(showError);
    applyMute();
  }

  function applyMute() {
    if (!coach || !session) return;
    const held = session.isOnHold().local;
    coach.micTrack.enabled = !held && !session.isMuted().audio;
    coach.mixTrack.enabled = !held;
    card.dataset.coached = coachMode;
  }

  // The session ended (the supervisor left, back to listen, the call ended): the caller's
  // call sends the microphone again, as it did before.
  function dropCoachLine() {
    const ending = coach;
    coach = null;
    coachMode = 'whisper';  // a line rung again whispers until told otherwise
    if (!ending) return;
    delete card.dataset.coached;
    el('sp-coach-audio').srcObject = null;
    if (ending.sender.track !== ending.micTrack) {
      ending.sender.replaceTrack(ending.micTrack).catch(() => {});
    }
    if (session) ending.micTrack.enabled = !session.isOnHold().local && !session.isMuted().audio;
    if (!ending.line.isEnded()) ending.line.terminate();
    ending.context.close();
  }

  window.addEventListener('hotline:coached', ({detail}) => {
    coachMode = detail.on && detail.mode === 'barge' ? 'barge' : 'whisper';
    applyCoachMode();
  });

  function take(incoming) {
    session = incoming;
    const who = incoming.remote_identity;
    text('sp-caller', who.uri.user || who.display_name || '');
    for (const name of ['accepted', 'confirmed', 'hold', 'unhold', 'muted', 'unmuted']) {
      incoming.on(name, render);
    }
    for (const name of ['hold', 'unhold', 'muted', 'unmuted']) incoming.on(name, applyMute);
    incoming.on('peerconnection', ({peerconnection}) => hearRemote(peerconnection, incoming));
    const finished = () => {
      if (session !== incoming) return;
      dropCoachLine();
      session = null;
      consulting = false;
      delete card.dataset.call;
      text('sp-check-result', t('sp.ended'));
      render();
    };
    incoming.on('ended', finished);
    incoming.on('failed', finished);
    render();
  }

  async function start() {
    let config;
    try {
      config = await call('GET', `/api/live/agents/${encodeURIComponent(me)}/softphone`);
    } catch (error) {
      return;  // no softphone for this agent now: the card stays hidden
    }
    if (!config.available) return;
    card.hidden = false;
    status('connecting');
    listDevices();
    try {
      await loadLibrary();
    } catch (error) {
      status('failed');
      showError(error);
      return;
    }
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new JsSIP.WebSocketInterface(
      `${scheme}://${location.hostname}:${config.websocket_port}`);
    ua = new JsSIP.UA({
      sockets: [socket],
      uri: `sip:${config.user}@${location.hostname}`,
      password: config.password,
      register: true,
      register_expires: 600,
      session_timers: false,
      connection_recovery_min_interval: 1,
      connection_recovery_max_interval: 10,
      user_agent: 'Hotline desk softphone',
    });
    ua.on('connecting', () => status('connecting'));
    ua.on('disconnected', () => status('disconnected'));
    ua.on('registered', () => { status('registered'); showError(null); });
    ua.on('unregistered', () => status('unregistered'));
    ua.on('registrationFailed', (event) => { status('failed'); showError(event.cause); });
    ua.on('newRTCSession', ({session: incoming, originator}) => {
      if (originator !== 'remote') return;
      if (incoming.remote_identity.uri.user === COACH_LINE) { takeCoachLine(incoming); return; }
      if (session && consulting && !line) { takeLine(incoming); return; }
      if (session) { incoming.terminate({status_code: 486}); return; }  // one call at a time
      take(incoming);
    });
    ua.start();
    // A network change (Wi-Fi to cable, VPN up): JsSIP reconnects its WebSocket on its own;
    // when the browser says it is online again, register at once instead of waiting.
    window.addEventListener('online', () => {
      if (!ua.isConnected()) ua.start();
      else ua.register();
    });
    window.addEventListener('beforeunload', () => ua.stop());
  }

  el('sp-check').addEventListener('click', checkMicrophone);
  el('sp-device').addEventListener('change', (event) => {
    localStorage.setItem('hotline.microphone', event.target.value);
  });
  el('sp-answer').addEventListener('click', () => {
    if (!session) return;
    session.answer({
      mediaConstraints: {audio: microphone(), video: false},
      pcConfig: {iceServers: []},
    });
    if (session.connection) hearRemote(session.connection, session);
  });
  el('sp-hangup').addEventListener('click', () => session?.terminate());
  el('sp-hold').addEventListener('click', () => session?.hold());
  el('sp-unhold').addEventListener('click', () => session?.unhold());
  el('sp-mute').addEventListener('click', () => session?.mute({audio: true}));
  el('sp-unmute').addEventListener('click', () => session?.unmute({audio: true}));
  for (const key of document.querySelectorAll('.sp-key')) {
    // RFC 4733 telephone-events in the media, which rtpengine hears (not SIP INFO)
    key.addEventListener('click', () => session?.sendDTMF(key.dataset.key,
      {transportType: 'RFC2833'}));
  }
  el('sp-blind').addEventListener('click', () => {
    const agent = target();
    if (agent) act('transfer', {agent_id: agent}).catch(() => {});
  });
  // Blind transfer to an outside number (a field engineer's mobile): the voice server
  // forwards the caller through the trunk and this call ends.
  el('sp-blind-number').addEventListener('click', () => {
    const number = el('sp-number').value.trim();
    if (!number) { showError(t('sp.no_number')); return; }
    act('transfer', {number}).catch(() => {});
  });
  el('sp-consult').addEventListener('click', async () => {
    const agent = target();
    if (!agent) return;
    consulting = true;
    render();
    try {
      await act('consult', {agent_id: agent});
    } catch (error) {
      endConsult();
    }
  });
  el('sp-consult-complete').addEventListener('click', () => {
    act('consult/end', {transfer: true}).catch(() => {});
  });
  el('sp-consult-back').addEventListener('click', () => {
    act('consult/end', {transfer: false}).then(endConsult, () => {});
  });
  start();
})();
