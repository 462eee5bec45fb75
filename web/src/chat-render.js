// Drawing the assistant's answers in the chat panel. Everything from the
// server is set with textContent (never as HTML). Patient answers become a
// table of name, age and status whose names are fetched now, through the
// patient API as the signed-in user — the answer and the stored history
// carry only ids and record references ({"ref":"patient:<id>"}), never
// names. Charts are SVG with role=img and the numbers in a table.
import { api, basePath, el } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const MAX_ROWS = 20;

/** patientIds returns the ids of data.patients (ids or record references). */
export function patientIds(data) {
  const ps = Array.isArray(data?.patients) ? data.patients : [];
  return ps.map((p) => {
    if (typeof p === 'string') return p.replace(/^patient:/, '');
    if (p?.id) return String(p.id);
    if (p?.ref) return String(p.ref).replace(/^patient:/, '');
    return '';
  }).filter(Boolean);
}

/** ageOf is the age in whole years of a YYYY-MM-DD date of birth. */
export function ageOf(dob, now = new Date()) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dob || '');
  if (!m) return '';
  let y = now.getFullYear() - Number(m[1]);
  const mo = now.getMonth() + 1;
  if (mo < Number(m[2]) || (mo === Number(m[2]) && now.getDate() < Number(m[3]))) y--;
  return String(y);
}

/**
 * patientCache fetches patients by id through the API as the user, once
 * per page load (kept in memory only, never stored).
 */
export function patientCache() {
  const cache = new Map();
  return (id) => {
    if (!cache.has(id)) {
      cache.set(id, api('GET', '/patients/' + encodeURIComponent(id))
        .then((r) => (r.ok ? r.data : { id, missing: r.status }))
        .catch(() => ({ id, missing: 0 })));
    }
    return cache.get(id);
  };
}

/** patientTable draws the patients of an answer; names arrive as fetched. */
export function patientTable(data, fetchPatient, onNavigate) {
  const ids = patientIds(data);
  if (!ids.length) return null;
  const shown = ids.slice(0, MAX_ROWS);
  const total = typeof data.total === 'number' ? data.total : (typeof data.matches === 'number' ? data.matches : ids.length);
  const tbody = el('tbody');
  const box = el('div', { class: 'chat-patients' });
  const ready = [];
  for (const id of shown) {
    const name = el('td', {}, el('span', { class: 'muted', text: 'Loading…' }));
    const age = el('td', { class: 'num' });
    const status = el('td');
    tbody.append(el('tr', { 'data-patient-row': id }, name, age, status));
    ready.push(fetchPatient(id).then((p) => {
      if (p.missing !== undefined) {
        name.replaceChildren(el('span', { class: 'muted', text: p.missing === 403 ? 'not available to your role' : 'no longer available' }));
        return;
      }
      const label = [p.first_name, p.last_name].filter(Boolean).join(' ') || 'Patient';
      name.replaceChildren(el('a', { href: basePath() + '/patients/' + encodeURIComponent(id), text: label }));
      age.textContent = ageOf(p.date_of_birth);
      status.replaceChildren(el('span', { class: 'status status-' + (p.status || ''), text: p.status || '' }));
    }));
  }
  const table = el('table', { class: 'chat-table' },
    el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Name' }), el('th', { scope: 'col', text: 'Age' }), el('th', { scope: 'col', text: 'Status' }))),
    tbody);
  box.append(table);
  const foot = el('p', { class: 'small chat-count', 'data-chat-count': String(total), text: `Showing ${shown.length} of ${total}` });
  box.append(foot);
  if (typeof data.query === 'string' && !data.query.includes('[name]')) {
    const b = el('button', { type: 'button', class: 'btn btn-small', 'data-open-list': '', text: 'Open in list' });
    b.addEventListener('click', () => onNavigate('/patients' + (data.query ? '?' + data.query : '')));
    foot.append(' ', b);
  }
  box.dataset.loading = '1';
  Promise.all(ready).then(() => { delete box.dataset.loading; });
  return box;
}

/** chart draws data.chart ({type, title, labels, values}) as SVG and a table. */
export function chart(c) {
  const labels = Array.isArray(c?.labels) ? c.labels.map(String) : [];
  const values = Array.isArray(c?.values) ? c.values.map((v) => Number(v) || 0) : [];
  const n = Math.min(labels.length, values.length);
  if (!n) return null;
  const title = String(c.title || 'Chart');
  const fig = el('figure', { class: 'chat-chart' });
  const W = 300, H = 140, pad = 18;
  const max = Math.max(1, ...values.slice(0, n));
  const svg = document.createElementNS(SVG, 'svg');
  const tid = 'chart-' + Math.random().toString(36).slice(2, 9);
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-labelledby', tid);
  const t = document.createElementNS(SVG, 'title');
  t.id = tid;
  t.textContent = title + ': ' + labels.slice(0, n).map((l, i) => `${l} ${values[i]}`).join(', ');
  svg.append(t);
  const y = (v) => H - pad - (v / max) * (H - 2 * pad);
  if (c.type === 'line' && n > 1) {
    const pts = values.slice(0, n).map((v, i) => `${(pad + (i * (W - 2 * pad)) / (n - 1)).toFixed(1)},${y(v).toFixed(1)}`);
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('points', pts.join(' '));
    line.setAttribute('class', 'chart-line');
    svg.append(line);
  } else {
    const bw = (W - 2 * pad) / n;
    for (let i = 0; i < n; i++) {
      const r = document.createElementNS(SVG, 'rect');
      r.setAttribute('x', (pad + i * bw + bw * 0.15).toFixed(1));
      r.setAttribute('width', (bw * 0.7).toFixed(1));
      r.setAttribute('y', y(values[i]).toFixed(1));
      r.setAttribute('height', Math.max(0, H - pad - y(values[i])).toFixed(1));
      r.setAttribute('class', 'chart-bar');
      svg.append(r);
    }
  }
  const axis = document.createElementNS(SVG, 'line');
  for (const [k, v] of [['x1', pad], ['x2', W - pad], ['y1', H - pad], ['y2', H - pad]]) axis.setAttribute(k, String(v));
  axis.setAttribute('class', 'chart-axis');
  svg.append(axis);
  const tbody = el('tbody');
  for (let i = 0; i < n; i++) tbody.append(el('tr', {}, el('th', { scope: 'row', text: labels[i] }), el('td', { class: 'num', text: String(values[i]) })));
  const table = el('table', { class: 'chat-table chart-numbers' }, el('caption', { text: title }),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Label' }), el('th', { scope: 'col', text: 'Value' }))), tbody);
  fig.append(el('figcaption', { class: 'small', text: title }), svg, table);
  return fig;
}

/** citations lists the sources of knowledge answers (data.articles). */
export function citations(data) {
  const arts = Array.isArray(data?.articles) ? data.articles : [];
  const items = Array.isArray(data?.citations) ? data.citations.filter((c) => c && typeof c === 'object') : [];
  if (!items.length) for (const a of arts) for (const c of (a?.citations || [])) items.push(c);
  if (!items.length) return null;
  const ul = el('ul', { class: 'chat-cites', 'aria-label': 'Sources' });
  for (const c of items.slice(0, 6)) {
    const text = [c.title, c.source].filter(Boolean).join(' — ');
    const url = String(c.url || '');
    ul.append(el('li', {}, /^https:\/\//.test(url) ? el('a', { href: url, rel: 'noopener noreferrer', target: '_blank', text }) : el('span', { text })));
  }
  return el('div', { class: 'chat-sources' }, el('p', { class: 'small muted', text: 'Sources' }), ul);
}

const ELIGIBILITY_LABELS = { active: 'Covered', inactive: 'Not covered (inactive)', not_found: 'Not found by the insurer', error: 'No answer' };

/** benefitSummary says a benefit line's amounts in plain words ("co-pay $20.00, in network"). */
export function benefitSummary(b) {
  if (typeof b?.summary === 'string') return b.summary;
  let s = '';
  if (typeof b?.copay === 'number') s = `co-pay $${b.copay.toFixed(2)}`;
  else if (typeof b?.coinsurance === 'number') s = `co-insurance ${Math.round(b.coinsurance * 1000) / 10}%`;
  else if (typeof b?.amount === 'number') s = `$${b.amount.toFixed(2)}`;
  else return '';
  if (b.time_period === '29') s += ' remaining';
  if (b.in_network === true) s += ', in network';
  else if (b.in_network === false) s += ', out of network';
  return s;
}

/**
 * eligibilityCard draws an insurance check's result (data.eligibility):
 * a status badge, payer and plan, coverage dates, the main benefits and a
 * rejection in plain words. A stored answer (history) keeps only the
 * check's id, status and patient reference: the rest is fetched now, as
 * the user, from the patient's eligibility checks (never stored here).
 */
export function eligibilityCard(data) {
  const e = data?.eligibility;
  if (!e || typeof e !== 'object') return null;
  const status = String(e.status || 'error');
  const badgeClass = status === 'active' ? 'status-active' : status === 'inactive' ? 'status-inactive' : 'status-churned';
  const box = el('div', { class: 'chat-eligibility', 'data-eligibility-status': status });
  box.append(el('p', {}, el('span', { class: 'status ' + badgeClass, 'data-eligibility-badge': status, text: String(e.label || ELIGIBILITY_LABELS[status] || status) })));
  const dl = el('dl', { class: 'facts chat-eligibility-facts' });
  const ul = el('ul', { class: 'benefits' });
  box.append(dl, ul);
  const fill = (c) => {
    const fact = (name, value) => { if (value) dl.append(el('dt', { text: name }), el('dd', { 'data-fact': name.toLowerCase(), text: String(value) })); };
    fact('Payer', c.payer);
    fact('Plan', c.plan);
    const cov = c.coverage || {};
    if (cov.start || cov.end) fact('Coverage', `${cov.start || '…'} to ${cov.end || '…'}`);
    if (c.rejection?.reason) fact('Why', c.rejection.reason);
    if (c.retry_at) fact('Retry', 'The insurer was busy; pfinni asks again at ' + new Date(c.retry_at).toLocaleString() + '.');
    for (const b of (Array.isArray(c.benefits) ? c.benefits : [])) {
      const sum = benefitSummary(b);
      if (!sum || ul.childElementCount >= 8) continue;
      const lvl = b.coverage_level ? ` (${b.coverage_level})` : '';
      ul.append(el('li', { text: `${b.description || b.service_type || 'Benefit'}${lvl}: ${sum}` }));
    }
  };
  const pid = String(e.ref || '').replace(/^patient:/, '');
  if (e.plan !== undefined || e.rejection !== undefined || e.payer !== undefined) {
    fill(e);
  } else if (pid && e.check) {
    box.dataset.loading = '1';
    api('GET', '/patients/' + encodeURIComponent(pid) + '/eligibility')
      .then((r) => {
        const c = r.ok ? (r.data?.items || []).find((x) => x && x.id === e.check) : null;
        if (c) fill(c);
        else dl.append(el('dd', { class: 'muted', text: 'The details of this check are not available to you.' }));
      })
      .catch(() => {})
      .finally(() => { delete box.dataset.loading; });
  }
  return box;
}
