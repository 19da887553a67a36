// Swap and leave requests: on /me an agent asks for leave from a published shift, or to swap
// it with a team colleague's; on /planning a planner approves or rejects what agents asked.
// Both reload to show the roster as it now is.
'use strict';
(() => {
  const {call, el} = Hotline;

  async function act(messageId, method, url, body) {
    try {
      await call(method, url, body);
      location.reload();
    } catch (error) {
      el(messageId).textContent = String(error.message || error);
    }
  }

  for (const button of document.querySelectorAll('#my-shifts .leave-request')) {
    button.addEventListener('click', () => {
      const row = button.closest('tr');
      const reason = row.querySelector('.leave-reason').value;
      act('my-request-message', 'POST', '/api/wfm/me/requests',
        {kind: 'leave', shift_id: Number(row.dataset.shift), reason});
    });
  }
  for (const button of document.querySelectorAll('#my-shifts .swap-request')) {
    button.addEventListener('click', () => {
      const row = button.closest('tr');
      act('my-request-message', 'POST', '/api/wfm/me/requests', {
        kind: 'swap', shift_id: Number(row.dataset.shift),
        other_shift_id: Number(row.querySelector('.swap-with').value),
        reason: row.querySelector('.leave-reason').value,
      });
    });
  }
  for (const row of document.querySelectorAll('#planning-requests tr[data-status=pending]')) {
    const decide = (approve) => act('planning-request-message', 'POST',
      `/api/wfm/requests/${row.dataset.request}/decision`, {approve});
    row.querySelector('.request-approve').addEventListener('click', () => decide(true));
    row.querySelector('.request-reject').addEventListener('click', () => decide(false));
  }
})();
