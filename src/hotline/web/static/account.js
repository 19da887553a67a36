// Change your own password: POST /api/auth/password with the current one as proof.
// The server applies the password policy and ends the user's other sessions; this page
// shows its refusals in the page language (each policy rule has its own sentence).
(() => {
  const words = JSON.parse(document.getElementById('account-i18n').textContent);
  const form = document.getElementById('password-form');
  const result = document.getElementById('password-result');
  // The policy's rules (hotline.identity.passwords) and the sentence that explains each.
  const RULES = [
    ['at least', 'rule_length'], ['should have at least', 'rule_length'],
    ['only spaces', 'rule_blank'], ['user name', 'rule_username'],
    ['most common', 'rule_common'], ['too easy', 'rule_guessable'],
  ];

  function show(kind, lines) {
    result.replaceChildren();
    result.className = kind;
    for (const line of lines) {
      const p = document.createElement('p');
      p.className = kind;
      p.textContent = line;
      result.append(p);
    }
  }

  function explain(problem) {
    const text = String(problem.problem || '');
    const rule = RULES.find(([needle]) => text.includes(needle));
    return rule ? words[rule[1]] : text;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    if (data.get('new_password') !== data.get('confirm_password')) {
      show('bad', [words.mismatch]);
      document.getElementById('confirm-password').focus();
      return;
    }
    const response = await fetch('/api/auth/password', {
      method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({
        current_password: data.get('current_password'), new_password: data.get('new_password'),
      }),
    });
    if (response.status === 204) {
      form.reset();
      show('ok', [words.changed]);
      return;
    }
    if (response.status === 429) { show('bad', [words.throttled]); return; }
    const body = await response.json().catch(() => ({}));
    const problems = Array.isArray(body.problems) ? body.problems : [];
    if (problems.some((p) => String(p.field).endsWith('current_password'))) {
      show('bad', [words.wrong_current]);
      document.getElementById('current-password').focus();
      return;
    }
    if (problems.length) {
      show('bad', [words.refused, ...problems.map(explain)]);
      document.getElementById('new-password').focus();
      return;
    }
    show('bad', [body.message || words.failed]);
  });
})();
