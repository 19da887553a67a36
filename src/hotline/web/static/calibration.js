// Calibration page: open a session, score its contacts blind on the session's form, close it
// and read the outcome (agreement per question, ICC(2,1) on totals, drifting evaluators).
'use strict';
(() => {
  const {t, call, el} = Hotline;
  const root = el('qa-calibration');
  if (!root) return;
  const me = root.dataset.user;
  const node = (tag, attrs = {}, ...children) => {
    const made = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === 'class') made.className = value; else made.setAttribute(key, value);
    }
    made.append(...children);
    return made;
  };
  const fixed = (x, digits = 2) => (x == null ? '–' : Number(x).toFixed(digits));
  const showError = (error) => {
    const box = el('calibration-error');
    box.textContent = error ? String(error.message || error) : '';
    box.hidden = !error;
  };

  function scoreForm(session, contact) {
    const form = node('form', {class: 'cal-score', 'data-contact': contact});
    for (const section of session.form.sections) {
      for (const q of section.questions) {
        const id = `cal-${session.id}-${contact}-${q.id}`;
        const select = node('select', {id, 'data-question': q.id});
        for (let v = q.points; v >= 0; v -= 1) select.append(node('option', {value: String(v)}, `${v} / ${q.points}`));
        if (q.allow_na) select.append(node('option', {value: 'na'}, t('qa.na')));
        form.append(node('label', {for: id}, `${section.name} · ${q.text}`), select);
      }
    }
    const mine = session.scores.find((s) => s.contact_id === contact);
    if (mine) {
      for (const select of form.querySelectorAll('select')) {
        const value = mine.answers[select.dataset.question];
        select.value = value == null ? 'na' : String(value);
      }
    }
    const button = node('button', {type: 'submit'}, mine ? `${t('qa.cal_rescore')} (${fixed(mine.score, 1)})` : t('qa.submit'));
    form.append(button);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const answers = {};
      for (const select of form.querySelectorAll('select')) {
        answers[select.dataset.question] = select.value === 'na' ? null : Number(select.value);
      }
      try {
        await call('POST', `/api/quality/calibrations/${session.id}/scores`, {contact_id: contact, answers});
        load();
      } catch (error) { showError(error); }
    });
    return form;
  }

  function outcome(session) {
    const result = session.outcome;
    const box = node('div', {class: 'cal-outcome'});
    box.append(node('p', {class: 'icc'}, `ICC(2,1) ${fixed(result.icc_2_1)} · ${t('qa.cal_contacts')} ${result.icc_contacts}`));
    const questions = node('table', {class: 'grid compact cal-questions'});
    questions.append(node('thead', {}, node('tr', {}, node('th', {}, t('qa.cal_question')),
      node('th', {}, 'kappa'), node('th', {}, t('qa.cal_observed')), node('th', {}, t('qa.cal_contacts')))));
    const body = node('tbody');
    const texts = {};
    for (const section of session.form.sections) for (const q of section.questions) texts[q.id] = q.text;
    for (const q of result.questions) {
      body.append(node('tr', {'data-question': q.question}, node('td', {}, texts[q.question] || q.question), node('td', {}, fixed(q.kappa)),
        node('td', {}, q.observed == null ? '–' : `${(100 * q.observed).toFixed(0)}%`), node('td', {}, String(q.contacts))));
    }
    questions.append(body);
    const evaluators = node('table', {class: 'grid compact cal-evaluators'});
    evaluators.append(node('thead', {}, node('tr', {}, node('th', {}, t('qa.cal_evaluator')),
      node('th', {}, t('qa.cal_difference')), node('th', {}, t('qa.cal_drift')))));
    const rows = node('tbody');
    for (const e of result.evaluators) {
      rows.append(node('tr', {'data-evaluator': e.evaluator, class: e.drifting ? 'drifting' : ''},
        node('td', {}, e.evaluator), node('td', {}, fixed(e.mean_difference, 1)),
        node('td', {}, e.drifting ? t('qa.cal_drifting') : t('qa.cal_in_line'))));
    }
    evaluators.append(rows);
    box.append(questions, evaluators);
    return box;
  }

  function card(session) {
    const section = node('section', {class: 'card calibration', 'data-calibration': String(session.id)});
    const counts = session.evaluators.map((e) => `${e} ${session.submitted[e] || 0}/${session.contact_ids.length}`).join(' · ');
    section.append(node('h2', {}, `${session.name} · ${session.form_id} v${session.form_version} · `,
      node('span', {class: 'badge status'}, t('qa.cal_status_' + session.status))));
    section.append(node('p', {class: 'muted small'}, counts));
    if (session.status === 'open') {
      if (session.evaluators.includes(me)) {
        for (const contact of session.contact_ids) {
          section.append(node('h3', {}, `${t('qa.contact')} ${contact}`), scoreForm(session, contact));
        }
      }
      const close = node('button', {type: 'button', class: 'secondary close'}, t('qa.cal_close'));
      close.addEventListener('click', async () => {
        try { await call('POST', `/api/quality/calibrations/${session.id}/close`); load(); }
        catch (error) { showError(error); }
      });
      section.append(close);
    } else {
      section.append(outcome(session));
    }
    return section;
  }

  async function load() {
    try {
      const sessions = await call('GET', '/api/quality/calibrations');
      el('calibration-list').replaceChildren(...sessions.map(card));
    } catch (error) { showError(error); }
  }

  el('calibration-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    showError(null);
    const data = new FormData(event.target);
    const list = (name) => String(data.get(name)).split(/[,，\s]+/).filter(Boolean);
    try {
      await call('POST', '/api/quality/calibrations', {
        name: data.get('name'), form_id: data.get('form'),
        contact_ids: list('contacts'), evaluators: list('evaluators'),
      });
      event.target.reset();
      load();
    } catch (error) { showError(error); }
  });
  load();
})();
