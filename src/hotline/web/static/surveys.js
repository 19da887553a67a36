// Survey results: CSAT, DSAT, NPS and resolution with their 95 % intervals per group, the
// response rates per channel and the importance–performance chart. Every figure comes from
// /api/surveys/results; nothing is computed here but positions on the chart.
'use strict';
(() => {
  const {t, call, el, percent} = Hotline;
  const root = el('surveys');
  if (!root) return;
  const lang = root.dataset.lang;
  const ns = 'http://www.w3.org/2000/svg';
  const share = (s) => (s.share == null ? '–'
    : `${percent(s.share)} [${percent(s.low)}–${percent(s.high)}] n=${s.n}`);
  const nps = (s) => (s.score == null ? '–'
    : `${s.score.toFixed(1)} [${s.low.toFixed(1)}, ${s.high.toFixed(1)}] n=${s.n}`);
  const row = (values) => {
    const tr = document.createElement('tr');
    values.forEach((value, i) => {
      const cell = document.createElement(i === 0 ? 'th' : 'td');
      if (i === 0) cell.scope = 'row';
      cell.textContent = value;
      tr.appendChild(cell);
    });
    return tr;
  };

  function svg(name, attributes, content) {
    const node = document.createElementNS(ns, name);
    for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
    if (content != null) node.textContent = content;
    return node;
  }

  // Importance (correlation with the overall CSAT, −1..1) across, performance (0..1) up; the
  // dashed lines at the means split the four quadrants (keep up, concentrate here, …).
  function drawMatrix(drivers) {
    const chart = el('surveys-matrix');
    const title = chart.querySelector('title');
    const parts = [title];
    const x = (v) => 40 + ((v + 1) / 2) * 360;
    const y = (v) => 290 - v * 270;
    parts.push(svg('line', {x1: 40, x2: 400, y1: 290, y2: 290, class: 'axis'}));
    parts.push(svg('line', {x1: 40, x2: 40, y1: 20, y2: 290, class: 'axis'}));
    parts.push(svg('text', {x: 220, y: 314, 'text-anchor': 'middle'}, t('surveys.importance')));
    parts.push(svg('text', {x: 12, y: 155, transform: 'rotate(-90 12 155)', 'text-anchor': 'middle'}, t('surveys.performance')));
    const placed = drivers.filter((d) => d.importance != null && d.performance != null);
    if (placed.length) {
      const mi = placed.reduce((a, d) => a + d.importance, 0) / placed.length;
      const mp = placed.reduce((a, d) => a + d.performance, 0) / placed.length;
      parts.push(svg('line', {x1: x(mi), x2: x(mi), y1: 20, y2: 290, class: 'mean'}));
      parts.push(svg('line', {x1: 40, x2: 400, y1: y(mp), y2: y(mp), class: 'mean'}));
    }
    for (const d of placed) {
      const dot = svg('circle', {cx: x(d.importance), cy: y(d.performance), r: 5, fill: '#1f5fa8'});
      dot.appendChild(svg('title', {}, `${d.text}: r=${d.importance.toFixed(2)}, ${percent(d.performance)}`));
      parts.push(dot, svg('text', {x: x(d.importance) + 8, y: y(d.performance) + 4}, d.question));
    }
    chart.replaceChildren(...parts);
  }

  async function load() {
    const month = el('surveys-month').value || root.dataset.month;
    const by = el('surveys-by').value;
    for (const [id, kind] of [['voc-xlsx', 'xlsx'], ['voc-pdf', 'pdf']]) {
      if (el(id)) el(id).href = `/api/surveys/voc.${kind}?month=${month}`;
    }
    const error = el('surveys-error');
    try {
      const data = await call('GET', `/api/surveys/results?month=${month}&by=${by}&language=${lang}`);
      error.hidden = true;
      const o = data.overall;
      el('surveys-overall').textContent = `${t('surveys.responses')}: ${o.responses} · CSAT ${share(o.csat)} · DSAT ${share(o.dsat)} · NPS ${nps(o.nps)}`;
      el('surveys-group-head').textContent = t(`surveys.by_${by}`);
      el('surveys-groups').querySelector('tbody').replaceChildren(...data.groups.map((g) => row(
        [g.group, String(g.responses), share(g.csat), share(g.dsat), nps(g.nps), share(g.resolved)])));
      el('surveys-empty').hidden = data.groups.length > 0;
      el('surveys-method').textContent = `${t('surveys.method')}: ${data.proportion_method}; NPS: ${data.nps_method}`;
      el('surveys-rates').querySelector('tbody').replaceChildren(...data.response_rates.map((r) => row(
        [r.channel, String(r.contacts), String(r.responses), share(r.rate)])));
      el('surveys-drivers').querySelector('tbody').replaceChildren(...data.drivers.map((d) => row(
        [d.text, d.importance == null ? '–' : d.importance.toFixed(2), percent(d.performance), String(d.n)])));
      drawMatrix(data.drivers);
      el('surveys-causes-note').textContent = `${t('surveys.causes_note')} (${data.dissatisfied_comments})`;
      el('surveys-causes').querySelector('tbody').replaceChildren(...data.root_causes.map((c) => row(
        [c.keywords.join(' · '), String(c.size), c.example])));
      const qa = data.qa_csat;
      el('surveys-qa-r').textContent = `${t('surveys.correlation')}: ${qa.correlation == null ? t('surveys.too_few') : qa.correlation.toFixed(2)}`;
      el('surveys-qa').querySelector('tbody').replaceChildren(...qa.agents.map((a) => row(
        [a.agent, a.qa_mean.toFixed(1), String(a.evaluations), a.csat_mean.toFixed(2), String(a.answers)])));
    } catch (failure) {
      error.textContent = String(failure.message || failure);
      error.hidden = false;
    }
  }

  el('surveys-filter').addEventListener('submit', (event) => { event.preventDefault(); load(); });
  load();
})();
