// The sign-in form: post the credentials, then go to the console (the server sets the cookie).
document.getElementById('login').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch('/api/auth/login', {
    method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({username: form.get('username'), password: form.get('password')}),
  });
  if (response.ok) { window.location = '/console'; return; }
  // 429: the account or this address is locked out for a while (Retry-After).
  const throttled = response.status === 429;
  document.getElementById('login-error').hidden = throttled;
  document.getElementById('login-throttled').hidden = !throttled;
});
