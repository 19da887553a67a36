// Quality pages: the QA workspace (sampling plan, player with segments, evaluation form,
// accuracy, disputes) and the agent's own quality view (evaluations, trend, acknowledge or
// dispute). Every figure and every check comes from the quality API.
'use strict';
(() => {
  const {t, call, el, text, percent} = Hotline;
  const cell = (row, value) => {
    const td = document.createElement('td');
    td.textContent = value ?? '–';
    row.appendChild(td);
    return td;
  };
  const margin = (value, low, high) => (value == null ? '–'
    : `${percent(value)} [${percent(low)}–${percent(high)}]`);
  const scoreText = (a) => (a.mean_score == null ? '–'
    : `${a.mean_score.toFixed(1)}${a.score_margin == null ? '' : ` ± ${a.score_margin.toFixed(1)}`}`);
  const showError = (id, error) => {
    const node = el(id);
    if (!node) return;
    node.textContent = error ? String(error.message || error) : '';
    node.hidden = !error;
  };

  // ------------------------------------------------------------------ QA workspace
  const workspace = el('qa-workspace');
  if (workspace) {
    const month = workspace.dataset.month;
    let contact = null;
    // A reviewer amending a disputed evaluation: the form is filled with its answers and
    // submitting sends the corrected answers as the review (the server re-scores them).
    let amending = null;
    const player = HotlinePlayer.mount({audio: 'qa-audio', speed: 'qa-speed', bar: 'segment-bar', list: 'segment-list'});

    async function loadPlan() {
      const list = el('plan-list');
      try {
        const plan = await call('GET', `/api/quality/sampling-plan?month=${month}`);
        list.replaceChildren(...plan.picks.map((pick) => {
          const li = document.createElement('li');
          const button = document.createElement('button');
          button.type = 'button';
          button.className = 'secondary';
          button.dataset.contact = pick.contact_id;
          button.textContent = `${pick.contact_id} · ${pick.agent_id} · ${t('qareason.' + pick.reason)}`;
          button.addEventListener('click', () => openContact(pick.contact_id));
          li.appendChild(button);
          return li;
        }));
        el('plan-empty').hidden = plan.picks.length > 0;
      } catch (error) { showError('qa-error', error); }
    }

    async function openContact(id) {
      showError('qa-error', null);
      try {
        const found = await call('GET', `/api/quality/contacts/${encodeURIComponent(id)}`);
        contact = found;
        el('contact-card').hidden = false;
        text('qa-contact-id', found.contact_id);
        text('qa-agent', found.agent_id || '–');
        text('qa-queue', found.queue || '–');
        el('qa-tickets').replaceChildren(...found.tickets.map((ticket) => {
          const li = document.createElement('li');
          li.textContent = `${ticket.number} · ${ticket.type} · ${ticket.state} · ${ticket.subject}`;
          return li;
        }));
        const recording = found.recordings.find((r) => r.kind === 'conversation') || found.recordings[0];
        el('player').hidden = !recording;
        // An e-mail has its thread instead of a recording (GET /api/email/contacts/{id}, audited).
        const email = !recording && found.channel === 'email'
          ? await call('GET', `/api/email/contacts/${encodeURIComponent(id)}`).catch(() => null) : null;
        showEmail(email);
        // A chat has a transcript instead of a recording (GET /api/chat/conversations/{id}).
        const chat = recording || email ? null : await call('GET', `/api/chat/conversations/${encodeURIComponent(id)}`).catch(() => null);
        el('no-recording').hidden = Boolean(recording || chat || email);
        el('qa-chat').hidden = !chat;
        el('qa-transcript').replaceChildren(...(chat ? chat.messages : []).map((m) => {
          const li = document.createElement('li');
          const at = new Date(m.at * 1000).toLocaleTimeString();
          li.textContent = `${m.seq}. ${at} ${m.sender}${m.agent_id ? ' ' + m.agent_id : ''}: ${m.kind === 'text' || m.kind === 'attachment' ? m.body : m.kind}`;
          return li;
        }));
        if (recording) await player.load(recording, found.contact_id);
        await showSpeech(recording ? found.contact_id : null);
        el('evaluation-result') && text('evaluation-result', '');
      } catch (error) { showError('qa-error', error); }
    }

    // An e-mail contact's thread: each message in or out, in order, with its attachments
    // named; the ticket's earlier mail (before this contact) is dimmed.
    function showEmail(thread) {
      el('qa-email').hidden = !thread;
      text('qa-email-ticket', thread ? thread.ticket_number : '');
      el('qa-email-thread').replaceChildren(...(thread ? thread.messages : []).map((m) => {
        const li = document.createElement('li');
        li.className = `email email-${m.direction}${m.in_contact ? '' : ' muted'}`;
        li.dataset.kind = m.kind;
        const head = document.createElement('div');
        const kind = document.createElement('strong');
        kind.textContent = `${t(m.direction === 'in' ? 'qa.email_in' : 'qa.email_out')} · ${t('email.kind.' + m.kind)}`;
        head.append(kind, ` · ${new Date(m.created_at).toLocaleString()}`);
        if (!m.in_contact) head.append(` · ${t('qa.email_earlier')}`);
        const who = document.createElement('div');
        who.textContent = `${t('email.from')}: ${m.sender} → ${t('email.to')}: ${m.recipients.join(', ')}`;
        const subject = document.createElement('div');
        subject.className = 'email-subject';
        subject.textContent = m.subject;
        const body = document.createElement('p');
        body.className = 'email-body';
        body.textContent = m.body;
        li.append(head, who, subject, body);
        if (m.attachments.length) {
          const files = document.createElement('ul');
          files.className = 'email-files';
          files.setAttribute('aria-label', t('email.attachments'));
          files.replaceChildren(...m.attachments.map((file) => {
            const item = document.createElement('li');
            item.textContent = `${file.filename} (${Math.ceil(file.size / 1024)} KB)`;
            return item;
          }));
          li.append(files);
        }
        return li;
      }));
    }

    // The call's transcript beside the player: the automated checks' flags, then who said
    // what; a line or a flag with a place seeks the recording there.
    const clock = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
    const seekButton = (label, start) => {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'link';
      button.textContent = label;
      button.addEventListener('click', () => { el('qa-audio').currentTime = start; });
      return button;
    };
    async function showSpeech(id) {
      el('qa-speech').hidden = !id;
      if (!id) return;
      const found = await call('GET', `/api/contacts/${encodeURIComponent(id)}/transcript`);
      const done = found.transcripts.find((x) => x.state === 'done');
      text('qa-speech-state', done ? `${t('qa.speech_state')} · ${done.model}`
        : (found.transcripts[0] ? `${t('qa.speech_state')} · ${found.transcripts[0].state}` : t('qa.speech_none')));
      const flags = done ? done.flags : [];
      el('qa-flags').replaceChildren(...(flags.length ? flags : [null]).map((flag) => {
        const li = document.createElement('li');
        if (!flag) { li.textContent = done ? t('qa.speech_clean') : '–'; return li; }
        const label = `${t('qa.flag.' + flag.kind)}${flag.detail ? ' · ' + flag.detail : ''}`;
        li.className = 'badge warn';
        if (flag.start == null) li.textContent = label;
        else li.appendChild(seekButton(`${clock(flag.start)} ${label}`, flag.start));
        return li;
      }));
      el('qa-utterances').replaceChildren(...(done ? done.utterances : []).map((u) => {
        const li = document.createElement('li');
        li.dataset.channel = u.channel;
        li.appendChild(seekButton(`${clock(u.start)} ${t('qa.leg_' + u.channel)}`, u.start));
        li.append(` ${u.text}`);
        return li;
      }));
    }

    el('transcript-search').addEventListener('submit', async (event) => {
      event.preventDefault();
      showError('qa-error', null);
      try {
        const q = el('transcript-query').value.trim();
        const found = await call('GET', `/api/quality/transcripts?q=${encodeURIComponent(q)}`);
        el('transcript-hits').replaceChildren(...found.hits.map((hit) => {
          const li = document.createElement('li');
          const button = document.createElement('button');
          button.type = 'button';
          button.className = 'secondary';
          button.dataset.contact = hit.contact_id;
          button.textContent = `${hit.contact_id} · ${hit.agent_id || '–'}`;
          button.addEventListener('click', () => openContact(hit.contact_id));
          li.appendChild(button);
          li.append(` ${hit.matches.map((m) => m.text).join(' … ')}`);
          for (const kind of hit.flags) {
            const badge = document.createElement('span');
            badge.className = 'badge warn';
            badge.textContent = t('qa.flag.' + kind);
            li.append(' ', badge);
          }
          return li;
        }));
        el('transcript-none').hidden = found.hits.length > 0;
      } catch (error) { showError('qa-error', error); }
    });

    el('open-form').addEventListener('submit', (event) => {
      event.preventDefault();
      openContact(el('open-contact').value.trim());
    });

    const form = el('evaluation-form');
    if (form) {
      const choice = el('form-choice');
      choice.addEventListener('change', () => {
        for (const part of document.querySelectorAll('.qa-form')) part.hidden = part.dataset.form !== choice.value;
      });
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        if (!contact) { showError('qa-error', t('qa.open_first')); return; }
        const part = document.querySelector(`.qa-form[data-form="${choice.value}"]`);
        const answers = {}, comments = {};
        for (const select of part.querySelectorAll('select[data-question]')) {
          answers[select.dataset.question] = select.value === 'na' ? null : Number(select.value);
        }
        for (const input of part.querySelectorAll('input[data-comment]')) {
          if (input.value.trim()) comments[input.dataset.comment] = input.value.trim();
        }
        if (amending) {
          try {
            const amended = await call('POST', `/api/quality/evaluations/${amending.id}/review`, {
              decision: 'amend', note: el('qa-summary').value, answers,
            });
            text('evaluation-result', `${t('qa.amended')} ${amended.original_score.toFixed(1)} → ${amended.score.toFixed(1)}`);
            stopAmending();
            loadDisputes();
          } catch (error) { text('evaluation-result', String(error.message || error)); }
          return;
        }
        try {
          const made = await call('POST', '/api/quality/evaluations', {
            contact_id: contact.contact_id, agent_id: contact.agent_id, form_id: choice.value,
            form_version: Number(choice.selectedOptions[0].dataset.version), answers, comments,
            summary: el('qa-summary').value,
          });
          text('evaluation-result', `${t('qa.saved')} ${made.score.toFixed(1)}${made.fatal_error ? ` · ${t('qa.fatal_error')}` : ''}`);
          loadPlan();
          loadAccuracy();
        } catch (error) { text('evaluation-result', String(error.message || error)); }
      });
    }

    function stopAmending() {
      amending = null;
      el('amending').hidden = true;
      el('form-card').hidden = !document.querySelector('[data-evaluator-role]');
    }

    async function amend(evaluation) {
      const choice = el('form-choice');
      const option = [...choice.options].find((o) => o.value === evaluation.form_id);
      if (!option || Number(option.dataset.version) !== evaluation.form_version) {
        showError('qa-error', t('qa.amend_old_version'));
        return;
      }
      choice.value = evaluation.form_id;
      choice.dispatchEvent(new Event('change'));
      const part = document.querySelector(`.qa-form[data-form="${evaluation.form_id}"]`);
      for (const select of part.querySelectorAll('select[data-question]')) {
        const value = evaluation.answers[select.dataset.question];
        select.value = value == null ? 'na' : String(value);
      }
      amending = evaluation;
      el('amending').textContent = `${t('qa.amend')} #${evaluation.id}`;
      el('amending').hidden = false;
      el('form-card').hidden = false;
      await openContact(evaluation.contact_id);
      el('form-card').scrollIntoView();
    }

    async function loadAccuracy() {
      try {
        const report = await call('GET', `/api/quality/accuracy?month=${month}`);
        el('accuracy-table').tBodies[0].replaceChildren(...report.agents.map((a) => {
          const row = document.createElement('tr');
          row.dataset.agent = a.agent_id;
          cell(row, a.agent_id);
          cell(row, a.evaluations);
          cell(row, scoreText(a));
          cell(row, margin(a.fatal_accuracy, a.fatal_low, a.fatal_high));
          cell(row, margin(a.nonfatal_accuracy, a.nonfatal_low, a.nonfatal_high));
          cell(row, `${a.evaluations_needed} (± ${report.margin_points})`);
          return row;
        }));
      } catch (error) { showError('qa-error', error); }
    }

    async function loadDisputes() {
      const table = el('dispute-table');
      if (!table) return;
      const rows = await call('GET', '/api/quality/evaluations?status=disputed').catch(() => []);
      table.tBodies[0].replaceChildren(...rows.map((e) => {
        const row = document.createElement('tr');
        row.dataset.evaluation = String(e.id);
        cell(row, e.contact_id);
        cell(row, e.agent_id);
        cell(row, e.score.toFixed(1));
        cell(row, e.dispute_reason);
        const td = cell(row, '');
        const note = document.createElement('input');
        note.setAttribute('aria-label', t('qa.review_note'));
        note.placeholder = t('qa.review_note');
        const uphold = document.createElement('button');
        uphold.type = 'button';
        uphold.textContent = t('qa.uphold');
        uphold.addEventListener('click', async () => {
          try {
            await call('POST', `/api/quality/evaluations/${e.id}/review`, {decision: 'uphold', note: note.value});
            loadDisputes();
          } catch (error) { showError('qa-error', error); }
        });
        const change = document.createElement('button');
        change.type = 'button';
        change.className = 'secondary amend';
        change.textContent = t('qa.amend');
        change.addEventListener('click', () => amend(e));
        td.append(note, uphold, change);
        return row;
      }));
      el('disputes-empty').hidden = rows.length > 0;
    }

    loadPlan();
    loadAccuracy();
    loadDisputes();
  }

  // ------------------------------------------------------------------ the agent's own view
  const mine = el('qa-mine');
  if (mine) {
    const month = mine.dataset.month;

    function drawTrend(rows) {
      const svg = el('trend');
      const ns = 'http://www.w3.org/2000/svg';
      const points = rows.slice().reverse();
      const parts = [];
      for (const y of [0, 50, 100]) {
        const line = document.createElementNS(ns, 'line');
        const py = 150 - y * 1.4;
        line.setAttribute('x1', '30'); line.setAttribute('x2', '590');
        line.setAttribute('y1', String(py)); line.setAttribute('y2', String(py));
        const label = document.createElementNS(ns, 'text');
        label.setAttribute('x', '0'); label.setAttribute('y', String(py + 4));
        label.textContent = String(y);
        parts.push(line, label);
      }
      if (points.length) {
        const step = points.length > 1 ? 560 / (points.length - 1) : 0;
        const line = document.createElementNS(ns, 'polyline');
        line.setAttribute('points', points.map((e, i) => `${30 + i * step},${150 - e.score * 1.4}`).join(' '));
        parts.push(line);
        points.forEach((e, i) => {
          const dot = document.createElementNS(ns, 'circle');
          dot.setAttribute('cx', String(30 + i * step));
          dot.setAttribute('cy', String(150 - e.score * 1.4));
          dot.setAttribute('r', '3');
          dot.setAttribute('fill', e.fatal_error ? '#b3261e' : '#1f5fa8');
          const title = document.createElementNS(ns, 'title');
          title.textContent = `${e.evaluated_at.slice(0, 10)} ${e.score.toFixed(1)}`;
          dot.appendChild(title);
          parts.push(dot);
        });
      }
      svg.replaceChildren(...parts);
    }

    function decide(e, td) {
      if (e.status !== 'submitted') return;
      const ack = document.createElement('button');
      ack.type = 'button';
      ack.className = 'ack';
      ack.textContent = t('qa.acknowledge');
      const reason = document.createElement('input');
      reason.className = 'dispute-reason';
      reason.setAttribute('aria-label', t('qa.reason'));
      reason.placeholder = t('qa.reason');
      const dispute = document.createElement('button');
      dispute.type = 'button';
      dispute.className = 'secondary dispute';
      dispute.textContent = t('qa.dispute');
      const act = async (path, body) => {
        try { await call('POST', `/api/quality/evaluations/${e.id}/${path}`, body); load(); }
        catch (error) { showError('mine-error', error); }
      };
      ack.addEventListener('click', () => act('acknowledge'));
      dispute.addEventListener('click', () => act('dispute', {reason: reason.value}));
      td.append(ack, reason, dispute);
    }

    async function load() {
      showError('mine-error', null);
      try {
        const rows = await call('GET', '/api/quality/evaluations');
        el('my-evaluations').tBodies[0].replaceChildren(...rows.map((e) => {
          const row = document.createElement('tr');
          row.dataset.evaluation = String(e.id);
          cell(row, e.evaluated_at.slice(0, 10));
          cell(row, e.contact_id);
          cell(row, `${e.score.toFixed(1)}${e.fatal_error ? ` · ${t('qa.fatal_error')}` : ''}`);
          cell(row, t('qa.status_' + e.status)).className = 'status';
          const questions = {};
          for (const section of e.form.sections || []) for (const q of section.questions) questions[q.id] = q.text;
          cell(row, [e.summary, ...Object.entries(e.comments).map(([k, v]) => `${questions[k] || k}: ${v}`)].filter(Boolean).join(' · '));
          decide(e, cell(row, ''));
          return row;
        }));
        el('mine-empty').hidden = rows.length > 0;
        drawTrend(rows);
        const report = await call('GET', `/api/quality/accuracy?month=${month}`);
        const a = report.agents.find((x) => x.agent_id === mine.dataset.agent);
        text('my-figures', a
          ? `${t('qa.mean_score')} ${scoreText(a)} · ${t('qa.fatal_accuracy')} ${margin(a.fatal_accuracy, a.fatal_low, a.fatal_high)} · ${t('qa.nonfatal_accuracy')} ${margin(a.nonfatal_accuracy, a.nonfatal_low, a.nonfatal_high)} · ${t('qa.evaluations')} ${a.evaluations}`
          : t('qa.none_yet'));
      } catch (error) { showError('mine-error', error); }
    }
    load();
  }
})();
