// The admin page's WeChat section: the official accounts (secrets only as "set"), and a form
// that creates or updates one through PUT /api/wechat/accounts (each problem shown with its
// field). The push URL to give WeChat is shown for the AppID typed.
'use strict';
(() => {
  const {t, call, el} = Hotline;
  const section = el('wechat');
  if (!section) return;
  const form = el('wechat-form');

  function cell(row, value) {
    const td = document.createElement('td');
    td.textContent = value;
    row.append(td);
  }

  function showPushUrl() {
    const appId = form.elements.app_id.value.trim() || '<AppID>';
    el('wechat-push-url').textContent = `${location.origin}/wechat/push/${appId}`;
  }

  async function load() {
    const accounts = await call('GET', '/api/wechat/accounts');
    el('wechat-accounts').replaceChildren(...accounts.map((account) => {
      const row = document.createElement('tr');
      cell(row, account.app_id);
      cell(row, account.queue);
      cell(row, account.safe_mode ? '✓' : '✗');
      const set = [['Token', account.token_set], ['EncodingAESKey', account.encoding_aes_key_set],
        ['AppSecret', account.app_secret_set]].filter(([, on]) => on).map(([name]) => name);
      cell(row, set.join(', ') || '–');
      cell(row, account.active ? '✓' : '✗');
      return row;
    }));
  }

  form.elements.app_id.addEventListener('input', showPushUrl);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = {};
    for (const [key, value] of new FormData(form).entries()) {
      if (['token', 'encoding_aes_key', 'app_secret'].includes(key) && !value) continue;
      body[key] = String(value).trim();
    }
    el('wechat-problems').replaceChildren();
    el('wechat-result').textContent = '';
    try {
      const saved = await call('PUT', '/api/wechat/accounts', body);
      el('wechat-result').textContent = `${t('wechat.admin.saved')} ${saved.app_id}`;
      for (const name of ['token', 'encoding_aes_key', 'app_secret']) form.elements[name].value = '';
    } catch (error) {
      const item = document.createElement('li');
      item.textContent = String(error.message || error);
      el('wechat-problems').append(item);
    }
    await load();
  });
  showPushUrl();
  load().catch(() => {});
})();
