// The admin page's chat login section: whether the secret the company's site signs its
// signed-in customers' chat tokens with is set (by whom, when; never the secret), and a form
// that sets it through PUT /api/chat/login-secret (a refusal shown with its rule).
'use strict';
(() => {
  const {t, call, el} = Hotline;
  const section = el('chat-login');
  if (!section) return;
  const form = el('chat-login-form');

  async function load() {
    const state = await call('GET', '/api/chat/login-secret');
    el('chat-login-state').textContent = state.configured
      ? `${t('chat.login.set')} ${state.updated_by} · ${state.updated_at.slice(0, 16).replace('T', ' ')}`
      : t('chat.login.unset');
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    el('chat-login-problems').replaceChildren();
    try {
      await call('PUT', '/api/chat/login-secret', {secret: form.elements.secret.value});
      form.elements.secret.value = '';
    } catch (error) {
      const item = document.createElement('li');
      item.textContent = String(error.message || error);
      el('chat-login-problems').append(item);
    }
    await load();
  });
  load().catch(() => {});
})();
