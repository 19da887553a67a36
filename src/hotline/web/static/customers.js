// The customer pages: search with the duplicates review (merge and undo), and one customer
// at a glance. Customers arrive masked; "reveal" asks the API for the full record, which it
// audits.
'use strict';
(() => {
  const {t, call, el, text} = Hotline;
  const showError = (id, error) => {
    text(id, error ? String(error.message || error) : '');
    el(id).hidden = !error;
  };
  const row = (values) => {
    const tr = document.createElement('tr');
    for (const value of values) {
      const td = document.createElement('td');
      if (value instanceof Node) td.appendChild(value); else td.textContent = value ?? '–';
      tr.appendChild(td);
    }
    return tr;
  };
  const link = (href, label) => {
    const a = document.createElement('a');
    a.href = href;
    a.textContent = label;
    return a;
  };

  // ------------------------------------------------------------------ search and duplicates
  if (el('customers-page')) {
    const form = el('cust-search');
    async function search(q) {
      showError('cust-error', null);
      try {
        const found = await call('GET', `/api/customers?q=${encodeURIComponent(q)}`);
        el('cust-results').tBodies[0].replaceChildren(...found.map((c) => {
          const tr = row([link(`/customers/${c.id}`, String(c.id)), c.name, c.phones.join(', '),
            c.products.join(', '), String(c.vip_level)]);
          tr.dataset.customer = String(c.id);
          return tr;
        }));
        el('cust-none').hidden = found.length > 0;
      } catch (error) { showError('cust-error', error); }
    }
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      search(el('cust-q').value.trim());
    });

    let lastMerge = null;
    async function loadDuplicates() {
      if (!el('dup-table')) return;
      try {
        const report = await call('GET', '/api/customers/duplicates');
        text('dup-rate', `${(100 * report.duplication_rate).toFixed(1)}%`);
        el('dup-table').tBodies[0].replaceChildren(...report.pairs.map((p) => {
          const merge = document.createElement('button');
          merge.type = 'button';
          merge.className = 'merge';
          merge.textContent = t('cust.merge');
          merge.setAttribute('aria-label', `${t('cust.merge')} ${p.right} → ${p.left}`);
          merge.addEventListener('click', async () => {
            try {
              const done = await call('POST', `/api/customers/${p.left}/merge/${p.right}`);
              lastMerge = done.merge_id;
              text('dup-result', `${t('cust.merged')} #${p.right} → #${p.left}`);
              el('dup-undo').hidden = false;
              el('dup-undo').focus();
              loadDuplicates();
            } catch (error) { text('dup-result', String(error.message || error)); }
          });
          const tr = row([link(`/customers/${p.left}`, `#${p.left}`), link(`/customers/${p.right}`, `#${p.right}`),
            p.score.toFixed(2), p.reasons.join(', '), merge]);
          tr.dataset.pair = `${p.left}-${p.right}`;
          return tr;
        }));
        el('dup-none').hidden = report.pairs.length > 0;
      } catch (error) { text('dup-result', String(error.message || error)); }
    }
    el('dup-undo')?.addEventListener('click', async () => {
      if (lastMerge == null) return;
      try {
        await call('POST', `/api/customers/merges/${lastMerge}/undo`);
        text('dup-result', t('cust.undone'));
        el('dup-undo').hidden = true;
        lastMerge = null;
        loadDuplicates();
      } catch (error) { text('dup-result', String(error.message || error)); }
    });
    const q = new URLSearchParams(location.search).get('q');
    if (q) { el('cust-q').value = q; search(q); }
    // Comparing every customer with every likely twin reads the whole customer file (seconds
    // with a million customers): the review runs when asked, not on every visit.
    el('dup-scan')?.addEventListener('click', loadDuplicates);
  }

  // ------------------------------------------------------------------ one customer (360°)
  const page = el('customer-page');
  if (page) {
    const id = page.dataset.customer;
    function showCustomer(c) {
      text('c-name', c.name);
      text('c-name-full', c.name);
      text('c-vip', String(c.vip_level));
      text('c-site', c.site || '–');
      text('c-phones', c.phones.map((p) => p.e164).join(', ') || '–');
      text('c-emails', c.emails.join(', ') || '–');
      text('c-addresses', c.addresses.join('; ') || '–');
      el('c-products').tBodies[0].replaceChildren(...c.products.map((p) =>
        row([p.model, p.serial_number, p.warranty_until])));
    }
    const when = (at) => at.slice(0, 16).replace('T', ' ');
    // A contact's record: a call's recordings to play, a conversation's transcript (chat,
    // WeChat, SMS) or an e-mail's thread shown below the table; nothing the reader may not open.
    function record(c) {
      const cell = document.createElement('span');
      for (const recording of c.recordings) {
        cell.append(link(recording.audio, `${t('cust.play')} (${Math.round(recording.seconds)} s)`), ' ');
      }
      if (!c.link || c.channel === 'voice' || c.channel === 'callback' || c.channel === 'outbound') {
        if (!cell.childNodes.length) cell.textContent = '–';
        return cell;
      }
      const open = document.createElement('button');
      open.type = 'button';
      open.className = 'secondary small';
      open.textContent = t(c.channel === 'email' ? 'cust.open_thread' : 'cust.open_transcript');
      open.addEventListener('click', () => showRecord(c));
      cell.appendChild(open);
      return cell;
    }
    async function showRecord(c) {
      showError('c-error', null);
      try {
        const found = await call('GET', c.link);
        text('c-record-title', `${t(`channel.${c.channel}`)} ${c.contact_id} · ${when(c.at)}`);
        el('c-record-lines').replaceChildren(...found.messages.map((m) => {
          const li = document.createElement('li');
          li.textContent = c.channel === 'email'
            ? `${t(m.direction === 'in' ? 'cust.mail_in' : 'cust.mail_out')} · ${m.subject} · ${m.body}`
            : `${t(`cust.sender.${m.sender}`)}: ${m.body || m.kind}`;
          return li;
        }));
        el('c-record').hidden = false;
        el('c-record-title').focus();
      } catch (error) { showError('c-error', error); }
    }
    const said = (answers) => Object.entries(answers).map(([question, answer]) => `${question}: ${answer}`).join('; ') || '–';
    async function load() {
      try {
        const view = await call('GET', `/api/customers/${id}/overview`);
        showCustomer(view.customer);
        // Do-not-call lists (the campaigns' own) and kept callback consents, per number.
        const flagged = view.calling_flags.filter((f) => f.do_not_call.length || f.consents);
        text('c-flags', flagged.map((f) => [
          f.do_not_call.length ? `${t('cust.do_not_call')} (${f.do_not_call.map((l) => (l === 'center' ? t('cust.dnc_center') : l)).join(', ')})` : '',
          f.consents ? `${t('cust.consents')} ${f.consents}` : '',
        ].filter(Boolean).map((said) => `${f.phone}: ${said}`).join('; ')).join('; ') || t('cust.no_flags'));
        el('c-reveal').hidden = !view.may_reveal;
        el('c-tickets').tBodies[0].replaceChildren(...view.tickets.map((k) =>
          row([k.number, k.type, k.state, k.subject, k.created_at.slice(0, 16).replace('T', ' ')])));
        // Every channel, newest first; each contact's record where this reader may open it.
        el('c-contacts').tBodies[0].replaceChildren(...view.contacts.map((c) =>
          row([when(c.at), t(`channel.${c.channel}`), c.queue, c.outcome ? t(`cust.outcome.${c.outcome}`) : '–',
            c.agent_id, c.summary, record(c)])));
        // What the customer said afterwards: survey answers, and the 回访 calls on their tickets.
        el('c-surveys').tBodies[0].replaceChildren(...view.surveys.map((s) =>
          row([when(s.at), s.survey, s.channel || '–', s.agent_id || '–',
            s.score == null ? '–' : `${s.score} / ${s.scale_max}`, said(s.answers)])));
        el('c-surveys-none').hidden = view.surveys.length > 0;
        el('c-followups').tBodies[0].replaceChildren(...view.followups.map((f) =>
          row([link(`/tickets/${f.ticket_id}`, f.ticket_number || `#${f.ticket_id}`), when(f.due_at), t(`fu.state.${f.state}`), said(f.answers)])));
        el('c-followups-none').hidden = view.followups.length > 0;
      } catch (error) { showError('c-error', error); }
    }
    el('c-reveal').addEventListener('click', async () => {
      try {
        showCustomer(await call('POST', `/api/customers/${id}/reveal`));
        el('c-masked').hidden = true;
        el('c-reveal').hidden = true;
      } catch (error) { showError('c-error', error); }
    });
    load();
  }
})();
