// The ticket page's e-mail card: the thread (received, sent, waiting in the outbox, bounced)
// with its attachments, and the reply form, which queues a reply through the API.
'use strict';
(() => {
  const {t, call, el} = Hotline;
  const root = el('ticket-page');
  const card = el('email-card');
  if (!root || !card) return;
  const id = root.dataset.ticket;

  function line(label, value) {
    const row = document.createElement('div');
    const name = document.createElement('strong');
    name.textContent = `${label}: `;
    row.append(name, document.createTextNode(value));
    return row;
  }

  function entry(message) {
    const item = document.createElement('li');
    item.className = `email email-${message.direction}`;
    item.dataset.status = message.status;
    const head = document.createElement('div');
    const kind = document.createElement('strong');
    kind.textContent = t(`email.kind.${message.kind}`);
    const status = document.createElement('span');
    status.className = `badge email-status ${message.status === 'failed' || message.status === 'bounced' ? 'warn' : ''}`;
    status.textContent = t(`email.status.${message.status}`);
    head.append(kind, document.createTextNode(` · ${Backoffice.when(message.created_at)} `), status);
    item.append(head);
    item.append(line(t('email.from'), message.sender));
    item.append(line(t('email.to'), message.recipients.join(', ')));
    const subject = document.createElement('div');
    subject.className = 'email-subject';
    subject.textContent = message.subject;
    const body = document.createElement('p');
    body.className = 'email-body';
    body.textContent = message.body;
    item.append(subject, body);
    if (message.attachments.length) {
      const list = document.createElement('ul');
      list.setAttribute('aria-label', t('email.attachments'));
      for (const file of message.attachments) {
        const li = document.createElement('li');
        const link = document.createElement('a');
        link.href = `/api/email/attachments/${file.id}`;
        link.textContent = `${file.filename} (${Math.ceil(file.size / 1024)} KB)`;
        li.append(link);
        list.append(li);
      }
      item.append(list);
    }
    if (message.direction === 'out' && message.attempts > 0 && message.last_error) {
      item.append(line(t('email.attempts'), String(message.attempts)));
      item.append(line(t('email.last_error'), message.last_error));
    }
    if (message.bounce_reason) item.append(line(t('email.bounce_reason'), message.bounce_reason));
    return item;
  }

  async function load() {
    let thread = [];
    try { thread = await call('GET', `/api/tickets/${id}/emails`); } catch { return; }
    el('email-thread').replaceChildren(...thread.map(entry));
    el('email-none').hidden = thread.length > 0;
    const form = el('email-form');
    if (form) form.hidden = !thread.some((m) => m.kind === 'customer');
  }

  const form = el('email-form');
  if (form) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const node = el('page-error');
      node.hidden = true;
      try {
        await call('POST', `/api/tickets/${id}/emails`, {text: el('email-text').value});
        el('email-text').value = '';
      } catch (error) {
        node.textContent = String(error.message || error);
        node.hidden = false;
      }
      await load();
    });
    // "No reply needed" (a thank-you, an out-of-office): the e-mail contact in progress ends,
    // its handle time stops; 409 when none is in progress.
    el('email-no-reply').addEventListener('click', async () => {
      const node = el('page-error');
      node.hidden = true;
      try {
        await call('POST', `/api/tickets/${id}/emails/no-reply`);
        el('email-no-reply-done').hidden = false;
      } catch (error) {
        node.textContent = String(error.message || error);
        node.hidden = false;
      }
    });
  }
  load();
})();
