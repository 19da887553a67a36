// The provider portal: my provider's work orders; accept, schedule, report a visit, claim.
'use strict';
(() => {
  const {t, call, el, text, percent} = Hotline;
  if (!el('p-orders')) return;
  let orders = [], selected = null;

  function showError(error) {
    const node = el('order-error');
    node.textContent = error ? String(error.message || error) : '';
    node.hidden = !error;
  }
  async function run(action) {
    showError(null);
    try { await action(); await load(); } catch (error) { showError(error); }
  }

  async function load() {
    const [list, figures] = await Promise.all([call('GET', '/api/provider/work-orders'), call('GET', '/api/provider/figures')]);
    orders = list;
    const tiles = [
      [t('bo.load'), `${figures.open_load} / ${figures.capacity}`],
      [t('bo.first_visit_fix'), percent(figures.first_visit_fix_rate)],
      [t('bo.on_time_rate'), percent(figures.on_time_rate)],
      [t('bo.visits'), String(figures.visits)],
    ];
    el('p-figures').replaceChildren(...tiles.map(([label, value]) => {
      const box = document.createElement('div'); box.className = 'kpi';
      const l = document.createElement('span'); l.className = 'label'; l.textContent = label;
      const v = document.createElement('span'); v.className = 'value'; v.textContent = value;
      box.append(l, v); return box;
    }));
    el('p-orders').replaceChildren(...orders.map((order) => {
      const row = document.createElement('tr');
      if (order.id === selected) row.className = 'selected';
      const button = document.createElement('button');
      button.type = 'button'; button.className = 'secondary'; button.textContent = order.number;
      button.onclick = () => { selected = order.id; draw(); load(); };
      Backoffice.cell(row, button);
      Backoffice.cell(row, order.subject);
      Backoffice.cell(row, t(`ticket.state.${order.state}`));
      Backoffice.cell(row, order.appointment_from ? Backoffice.when(order.appointment_from) : '–');
      return row;
    }));
    el('p-none').hidden = orders.length > 0;
    draw();
  }

  function draw() {
    const order = orders.find((o) => o.id === selected);
    el('order-card').hidden = !order;
    if (!order) return;
    text('o-number', order.number);
    text('o-state', t(`ticket.state.${order.state}`));
    Backoffice.facts(el('o-facts'), [
      [t('ticket.subject'), order.subject],
      [t('ticket.description'), order.description || '–'],
      [t('bo.category'), order.category || '–'],
      [t('bo.product'), order.product_model || '–'],
      [t('bo.region'), order.region || '–'],
      [t('bo.warranty'), order.warranty ? t('bo.in_warranty') : t('bo.out_of_warranty')],
      [t('bo.appointment'), order.appointment_from ? `${Backoffice.when(order.appointment_from)} – ${Backoffice.when(order.appointment_to)}` : '–'],
      [t('bo.claim'), t(`bo.claim_status.${order.claim_status}`)],
    ]);
    const withUs = order.state === 'dispatched';
    el('o-accept').hidden = !withUs || Boolean(order.accepted_at);
    el('o-schedule').hidden = !withUs || !order.accepted_at;
    el('o-visit').hidden = !withUs || !order.accepted_at;
    el('o-claim').hidden = !order.warranty || order.claim_submitted || !['resolved', 'closed'].includes(order.state);
    if (!el('w-arrived').value) el('w-arrived').value = Backoffice.localValue(new Date());
  }

  const parts = (value) => value.split(/[,，;；]/).map((p) => p.trim()).filter(Boolean);
  el('o-accept').onclick = () => run(() => call('POST', `/api/provider/work-orders/${selected}/accept`));
  el('o-schedule').onsubmit = (event) => {
    event.preventDefault();
    run(() => call('POST', `/api/provider/work-orders/${selected}/schedule`, {
      appointment_from: Backoffice.instant(el('s-from').value), appointment_to: Backoffice.instant(el('s-to').value),
    }));
  };
  el('o-visit').onsubmit = (event) => {
    event.preventDefault();
    run(() => call('POST', `/api/provider/work-orders/${selected}/visit`, {
      arrived_at: Backoffice.instant(el('w-arrived').value), fault_found: el('w-fault').value,
      parts: parts(el('w-parts').value), fixed: el('w-fixed').checked,
    }));
  };
  el('o-claim').onsubmit = (event) => {
    event.preventDefault();
    run(() => call('POST', `/api/provider/work-orders/${selected}/claim`, {
      parts: parts(el('c-parts').value), amount_yuan: Number(el('c-amount').value),
    }));
  };
  load().catch(showError);
})();
