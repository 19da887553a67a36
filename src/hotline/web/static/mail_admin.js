// The admin page's e-mail section: the mailboxes (passwords never shown), a form that
// creates or updates one through PUT /api/email/mailboxes (each problem shown with its
// field), and the quarantine of messages that could not be read.
'use strict';
(() => {
  const {t, call, el} = Hotline;
  const section = el('mail');
  if (!section) return;

  function cell(row, value) {
    const td = document.createElement('td');
    td.textContent = value;
    row.append(td);
  }

  async function load() {
    const boxes = await call('GET', '/api/email/mailboxes');
    el('mailboxes').replaceChildren(...boxes.map((box) => {
      const row = document.createElement('tr');
      cell(row, box.address);
      cell(row, box.queue || '–');
      cell(row, box.smtp_host ? `${box.smtp_host}:${box.smtp_port}` : '–');
      cell(row, box.imap_host ? `${box.imap_host}:${box.imap_port}` : '–');
      cell(row, box.active ? '✓' : '✗');
      return row;
    }));
    const kept = await call('GET', '/api/email/quarantine');
    el('quarantine').replaceChildren(...kept.map((item) => {
      const row = document.createElement('tr');
      cell(row, new Date(item.received_at).toLocaleString());
      cell(row, item.envelope_sender || item.mailbox);
      cell(row, item.reason);
      cell(row, String(item.size));
      return row;
    }));
  }

  el('mailbox-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const form = event.target;
    const data = Object.fromEntries(new FormData(form).entries());
    const body = {};
    for (const [key, value] of Object.entries(data)) {
      if (key.endsWith('_password')) { if (value) body[key] = value; continue; }
      if (key.endsWith('_port')) { body[key] = Number(value); continue; }
      if (key !== 'auto_acknowledge') body[key] = value;
    }
    body.auto_acknowledge = form.elements.auto_acknowledge.checked;
    el('mailbox-problems').replaceChildren();
    el('mailbox-result').textContent = '';
    try {
      const saved = await call('PUT', '/api/email/mailboxes', body);
      el('mailbox-result').textContent = `${t('email.admin.saved')} ${saved.address}`;
      form.elements.smtp_password.value = '';
      form.elements.imap_password.value = '';
    } catch (error) {
      const item = document.createElement('li');
      item.textContent = String(error.message || error);
      el('mailbox-problems').append(item);
    }
    await load();
  });
  load().catch(() => {});
})();
