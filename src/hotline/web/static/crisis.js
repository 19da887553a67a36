// Crisis mode's switch on the wallboard (应急模式): on or off with a reason, said in the status.
'use strict';
(() => {
  const {t, call, el, text, drawCrisis} = Hotline;
  const form = el('crisis-form');
  const toggle = el('crisis-toggle');
  const isOn = () => el('crisis-banner').dataset.on === 'yes';
  const label = () => { toggle.textContent = isOn() ? toggle.dataset.offLabel : toggle.dataset.onLabel; };
  document.addEventListener('hotline:crisis', label);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const reason = el('crisis-reason-input').value.trim();
    if (!reason) { text('crisis-status', t('crisis.reason_needed')); return; }
    try {
      const view = await call('PUT', '/api/live/crisis', {on: !isOn(), reason});
      drawCrisis(view);
      el('crisis-reason-input').value = '';
      text('crisis-status', view.on ? t('crisis.switched_on') : t('crisis.switched_off'));
    } catch (error) {
      text('crisis-status', String(error.message || error));
    }
  });
  label();
})();
