// The SMS page: the line's state and today's traffic (GET /api/sms/overview), the message log
// both ways searched by number (GET /api/sms/messages), and one message sent through
// POST /api/sms/messages (the answer says sent, refused or failed, and why).
'use strict';
(() => {
  const {t, call, el} = Hotline;
  if (!el('sms')) return;
  const form = el('sms-form');
  const search = el('sms-search');

  function cell(row, value) {
    const td = document.createElement('td');
    td.textContent = value;
    row.append(td);
  }

  async function overview() {
    const line = await call('GET', '/api/sms/overview');
    el('sms-state').textContent = t(`sms.state_${line.state}`);
    el('sms-last-error').textContent = line.last_error || '–';
    el('sms-received').textContent = line.received_today;
    el('sms-sent').textContent = line.sent_today;
  }

  async function log() {
    const number = search.elements.number.value.trim();
    const query = number ? `?number=${encodeURIComponent(number)}` : '';
    el('sms-error').hidden = true;
    try {
      const entries = await call('GET', `/api/sms/messages${query}`);
      el('sms-log').tBodies[0].replaceChildren(...entries.map((entry) => {
        const row = document.createElement('tr');
        cell(row, new Date(entry.at).toLocaleString());
        cell(row, t(`sms.direction_${entry.direction}`));
        cell(row, entry.number);
        cell(row, entry.text);
        cell(row, entry.reason ? `${t(`sms.status_${entry.status}`)}: ${entry.reason}`
          : t(`sms.status_${entry.status}`));
        return row;
      }));
      el('sms-empty').hidden = entries.length > 0;
    } catch (error) {
      el('sms-error').textContent = String(error.message || error);
      el('sms-error').hidden = false;
    }
  }

  search.addEventListener('submit', (event) => {
    event.preventDefault();
    log();
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {to: form.elements.to.value.trim(), text: form.elements.text.value};
    el('sms-result').textContent = '';
    try {
      const sent = await call('POST', '/api/sms/messages', body);
      const status = t(`sms.status_${sent.status}`);
      el('sms-result').textContent = sent.reason ? `${status}: ${sent.reason}` : status;
      if (sent.status === 'sent') form.elements.text.value = '';
    } catch (error) {
      el('sms-result').textContent = String(error.message || error);
    }
    await Promise.all([overview(), log()]);
  });
  Promise.all([overview(), log()]).catch(() => {});
})();
