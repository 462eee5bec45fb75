// The CSV preview on the imports page: choosing one .csv file runs a dry
// run (POST /api/v1/imports with dry_run=true, writing nothing) and shows
// the detected column mapping as editable selects, the first rows with
// what importing would do to each (create, update, unchanged, duplicate,
// review, rejected — with the field at fault), and the counts. Changing a
// select runs the dry run again with the mapping; Commit imports the same
// file (POST /api/v1/imports/{id}/commit, no second upload) and hands the
// job to the page's progress display. Text from the server is set with
// textContent.
import { api, basePath, el } from './dom.js';

const actions = ['create', 'update', 'unchanged', 'duplicate', 'review', 'rejected'];
const shown = ['mrn', 'first_name', 'last_name', 'date_of_birth', 'sex', 'email', 'phone'];

export function initCSVPreview(form, follow) {
  const box = document.querySelector('[data-csv-preview]');
  const input = form.querySelector('input[type=file]');
  if (!box || !input) return;
  const status = box.querySelector('[data-csv-status]');
  const mappingBox = box.querySelector('[data-csv-mapping]');
  const countsBox = box.querySelector('[data-csv-counts]');
  const rowsBox = box.querySelector('[data-csv-rows]');
  const commit = box.querySelector('[data-csv-commit]');
  let file = null;
  let draft = null;
  let runs = 0;

  input.addEventListener('change', () => {
    const f = input.files;
    if (f.length === 1 && /\.(csv|tsv|txt)$/i.test(f[0].name)) {
      file = f[0];
      run(null);
    } else {
      file = null;
      box.hidden = true;
    }
  });

  mappingBox.addEventListener('change', (e) => {
    if (!e.target.matches('select[data-column]')) return;
    const m = {};
    for (const s of mappingBox.querySelectorAll('select[data-column]')) m[s.dataset.column] = s.value;
    run(m);
  });

  commit.addEventListener('click', async () => {
    if (!draft) return;
    commit.disabled = true;
    status.textContent = 'Importing…';
    const res = await api('POST', '/imports/' + encodeURIComponent(draft.id) + '/commit').catch(() => ({ ok: false, status: 0 }));
    if (!res.ok || !res.data?.id) {
      status.textContent = res.data?.detail || `The import was refused (${res.status}).`;
      commit.disabled = false;
      return;
    }
    draft = null;
    box.hidden = true;
    form.reset();
    await follow(res.data.id);
  });

  async function run(mapping) {
    const mine = ++runs;
    box.hidden = false;
    commit.disabled = true;
    status.textContent = `Checking ${file.name} (a dry run: nothing is imported yet)…`;
    const fd = new FormData();
    fd.append('dry_run', 'true');
    if (mapping) fd.append('mapping', JSON.stringify(mapping));
    fd.append('files', file, file.name);
    const res = await api('POST', '/imports', fd).catch(() => ({ ok: false, status: 0 }));
    if (mine !== runs) return; // a newer run is under way
    if (!res.ok || !res.data?.id) {
      draft = null;
      status.textContent = res.data?.errors?.[0]?.message || res.data?.detail || `The dry run was refused (${res.status}).`;
      return;
    }
    draft = res.data;
    render(draft);
  }

  function render(d) {
    status.textContent = d.detail
      ? `${d.name}: ${d.detail}`
      : `${d.name}: a dry run — nothing was imported. Check the mapping and the rows, then commit.`;
    const probs = el('ul', { class: 'problems' });
    for (const p of d.problems || []) probs.append(el('li', { text: `${p.element}: ${p.message}` }));

    const tbody = el('tbody');
    for (const c of d.columns || []) {
      const sel = el('select', { 'data-column': c.header, 'aria-label': `Field for column ${c.header}` });
      sel.append(el('option', { value: '', text: '— ignore —' }));
      for (const f of d.fields || []) sel.append(el('option', { value: f, text: f.replace('.', ' › ').replaceAll('_', ' ') }));
      sel.value = c.field || '';
      tbody.append(el('tr', {}, el('td', { text: c.header }), el('td', {}, sel)));
    }
    mappingBox.replaceChildren(el('table', { class: 'table table-compact' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'Column' }), el('th', { scope: 'col', text: 'Patient field' }))), tbody), probs);

    const c = d.counts || {};
    const list = el('ul', { class: 'csv-counts' }, el('li', { 'data-count': 'total', text: `${c.total ?? 0} rows` }));
    for (const a of actions) list.append(el('li', { 'data-count': a, text: `${c[a] ?? 0} ${a}` }));
    countsBox.replaceChildren(list);

    const rows = el('tbody');
    const attention = (d.rows || []).filter((r, i) => i < 20 || r.action !== 'create').slice(0, 120);
    for (const r of attention) {
      const why = el('td', { class: 'small' });
      for (const p of r.problems || []) why.append(el('div', { text: `${p.element}: ${p.message}` }));
      const who = el('td');
      for (const id of (r.patient_ids || []).slice(0, 3)) who.append(el('a', { href: basePath() + '/patients/' + encodeURIComponent(id), text: 'patient' }), ' ');
      const v = r.values || {};
      rows.append(el('tr', { 'data-row': r.record, 'data-action': r.action }, el('td', { class: 'nowrap', text: r.record }),
        el('td', {}, el('span', { class: 'outcome outcome-' + outcome(r.action), text: r.action })),
        ...shown.map((f) => el('td', { text: v[f] ?? '' })), el('td', { text: (r.fields || []).join(', ') }), why, who));
    }
    rowsBox.replaceChildren(el('table', { class: 'table table-compact' },
      el('thead', {}, el('tr', {}, ...['Row', 'Would', ...shown.map((f) => f.replaceAll('_', ' ')), 'Fields', 'Why', 'Patients'].map((h) => el('th', { scope: 'col', text: h })))), rows));
    commit.disabled = !!d.detail || !((c.create ?? 0) + (c.update ?? 0) + (c.duplicate ?? 0) + (c.review ?? 0));
  }
}

function outcome(action) {
  return { create: 'success', update: 'success', unchanged: 'success', rejected: 'failure' }[action] || 'error';
}
