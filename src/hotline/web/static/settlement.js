// The settlement page: a month's claims per provider, approve (verified and unflagged only)
// or reject with the reason, and each provider's statement as an Excel file.
'use strict';
(() => {
  const {t, call, el} = Hotline;
  if (!el('settlement')) return;
  const yuan = (x) => Number(x).toFixed(2);

  function message(text) { el('st-message').textContent = text || ''; }

  async function decide(line, approve, reason = '') {
    if (!approve && !reason.trim()) { message(t('st.reason_needed')); return; }
    try {
      await call('POST', `/api/settlement/claims/${line.ticket_id}/decision`, {approve, reason});
      message(`${line.number}: ${t(approve ? 'st.approved' : 'st.rejected')}`);
    } catch (error) { message(String(error.message || error)); }
    load();
  }

  async function load() {
    const month = el('st-month').value;
    const provider = el('st-provider').value;
    const query = new URLSearchParams({month});
    if (provider) query.set('provider', provider);
    let answer;
    try { answer = await call('GET', `/api/settlement/statements?${query}`); }
    catch (error) { message(String(error.message || error)); return; }
    el('st-totals').replaceChildren(...answer.providers.map((row) => {
      const tr = document.createElement('tr');
      Backoffice.cell(tr, row.provider);
      Backoffice.cell(tr, `${row.approved} · ¥${yuan(row.approved_yuan)}`);
      Backoffice.cell(tr, `${row.rejected} · ¥${yuan(row.rejected_yuan)}`);
      Backoffice.cell(tr, `${row.pending} · ¥${yuan(row.pending_yuan)}`);
      const link = document.createElement('a');
      link.href = `/api/settlement/statements/${encodeURIComponent(row.provider)}/statement.xlsx?month=${month}`;
      link.textContent = `${t('st.excel')} ${row.provider}`;
      Backoffice.cell(tr, link);
      return tr;
    }));
    el('st-claims').replaceChildren(...answer.claims.map((line) => {
      const tr = document.createElement('tr');
      tr.dataset.ticket = line.ticket_id;
      Backoffice.cell(tr, line.number);
      Backoffice.cell(tr, line.provider);
      Backoffice.cell(tr, `${t('st.labour')} ${yuan(line.labour_yuan)} · ${t('st.parts')} ${yuan(line.parts_yuan)} · ${t('st.travel')} ${yuan(line.travel_yuan)} = ¥${yuan(line.amount_yuan)}`);
      Backoffice.cell(tr, line.verified ? t('fu.yes') : t('fu.no'));
      Backoffice.cell(tr, line.flags.map((flag) => t('st.flag.' + flag)).join(', ') || '–');
      Backoffice.cell(tr, t('st.' + line.status) + (line.reason ? ` · ${line.reason}` : ''));
      if (line.status === 'pending') {
        const actions = document.createElement('span');
        const approve = document.createElement('button');
        approve.type = 'button'; approve.textContent = t('st.approve'); approve.className = 'st-approve';
        approve.disabled = !line.verified || line.flags.length > 0;
        approve.onclick = () => decide(line, true);
        const reason = document.createElement('input');
        reason.className = 'st-reason'; reason.maxLength = 2000;
        reason.setAttribute('aria-label', `${t('st.reason_prompt')} ${line.number}`);
        reason.placeholder = t('st.reason_prompt');
        const reject = document.createElement('button');
        reject.type = 'button'; reject.textContent = t('st.reject'); reject.className = 'secondary st-reject';
        reject.onclick = () => decide(line, false, reason.value);
        actions.append(approve, ' ', reason, ' ', reject);
        Backoffice.cell(tr, actions);
      } else Backoffice.cell(tr, '');
      return tr;
    }));
    el('st-none').hidden = answer.claims.length > 0;
  }
  el('st-filter').onsubmit = (event) => { event.preventDefault(); load(); };
  load();
})();
