// The imports page and the patient's source documents, on the import
// API: upload (POST /api/v1/imports, parts named "files"), progress and
// per-file results (GET /api/v1/imports/{id}), recent imports, the
// quarantine with retry (POST /api/v1/imports/files/{id}/retry). A file
// whose importer plugin is disabled or still loading shows as "waiting"
// with the server's detail, and is imported by itself once the importer
// is ready. All text from the server is set with textContent.
import { api, basePath, el } from './dom.js';
import { initCSVPreview } from './csv-preview.js';

const done = (s) => !/^(queued|running|pending|processing)$/.test(s);

export function initImports() {
  initDocuments();
  const form = document.querySelector('[data-import-form]');
  if (!form) return;
  const status = document.querySelector('[data-import-status]');
  const results = document.querySelector('[data-import-results]');
  const recent = document.querySelector('[data-import-recent]');
  const quarantine = document.querySelector('[data-import-quarantine]');

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const files = form.querySelector('input[type=file]').files;
    if (!files.length) { status.textContent = 'Choose at least one file.'; return; }
    const fd = new FormData();
    for (const f of files) fd.append('files', f, f.name);
    status.textContent = `Uploading ${files.length} file${files.length > 1 ? 's' : ''}…`;
    results.replaceChildren();
    const res = await api('POST', '/imports', fd).catch(() => ({ status: 0 }));
    if (res.status === 404 && /^Cannot/.test(res.data?.detail ?? '')) { status.textContent = 'The import service is not available yet.'; return; }
    if (!res.ok || !res.data?.id) { status.textContent = res.data?.detail || `The upload was refused (${res.status}).`; return; }
    await follow(res.data.id);
    form.reset();
  });

  initCSVPreview(form, follow); // one .csv file: dry run, mapping, commit

  results.addEventListener('click', retryClick);
  quarantine?.addEventListener('click', retryClick);

  async function retryClick(e) {
    const b = e.target.closest('[data-retry]');
    if (!b) return;
    b.disabled = true;
    const res = await api('POST', '/imports/files/' + encodeURIComponent(b.dataset.retry) + '/retry');
    if (!res.ok) { status.textContent = res.data?.detail || `Retry refused (${res.status}).`; b.disabled = false; return; }
    await follow(res.data.id);
  }

  async function follow(id) {
    for (let i = 0; i < 900; i++) {
      const res = await api('GET', '/imports/' + encodeURIComponent(id)).catch(() => ({ ok: false }));
      if (!res.ok) { status.textContent = 'Lost track of the import; its result is listed under Recent imports.'; return; }
      const job = res.data;
      const p = job.progress || {};
      const c = job.counts || {};
      status.textContent = done(job.status)
        ? `Import ${job.status}: ${c.created ?? 0} created, ${c.updated ?? 0} updated, ${c.unchanged ?? 0} unchanged, ${c.needs_review ?? 0} waiting for review, ${c.rejected ?? 0} rejected.${job.error ? ' ' + job.error : ''}`
        : `Importing… ${p.done ?? 0} of ${p.total ?? '?'} files done.${job.waiting ? ' ' + job.detail + '; they are imported as soon as it is ready.' : ''}`;
      results.replaceChildren(fileTable(job.files || []));
      if (done(job.status)) { loadLists(); return; }
      await new Promise((r) => setTimeout(r, 600));
    }
  }

  async function loadLists() {
    if (recent) {
      const res = await api('GET', '/imports?limit=10').catch(() => ({ ok: false }));
      if (res.ok) {
        const tbody = el('tbody');
        for (const j of res.data.items || []) {
          const c = j.counts || {};
          tbody.append(el('tr', {}, el('td', { class: 'nowrap', text: new Date(j.created_at).toLocaleString() }),
            el('td', {}, badge(j.waiting ? 'waiting' : j.status)), el('td', { text: `${j.progress?.total ?? 0}` }),
            el('td', { text: `${c.created ?? 0} created · ${c.updated ?? 0} updated · ${c.unchanged ?? 0} unchanged · ${c.needs_review ?? 0} to review · ${c.rejected ?? 0} rejected${j.waiting ? ' · ' + j.detail : ''}` })));
        }
        if (!tbody.childElementCount) tbody.append(el('tr', {}, el('td', { colspan: '4', class: 'muted', text: 'No imports yet.' })));
        recent.replaceChildren(table(['Started', 'Status', 'Files', 'Results'], tbody));
      }
    }
    if (quarantine) {
      const res = await api('GET', '/imports/quarantine?limit=50').catch(() => ({ ok: false }));
      if (res.ok) quarantine.replaceChildren(fileTable(res.data.items || [], 'Nothing is in the quarantine.'));
    }
  }
  loadLists();
}

function badge(result) {
  const cls = { created: 'success', updated: 'success', unchanged: 'success', done: 'success', rejected: 'failure', failed: 'failure' }[result] || 'error';
  return el('span', { class: 'outcome outcome-' + cls, text: result || 'pending' });
}

function table(heads, tbody) {
  return el('table', { class: 'table table-compact' }, el('thead', {}, el('tr', {}, ...heads.map((h) => el('th', { scope: 'col', text: h })))), tbody);
}

// fileTable lists files with their result, records, problems, the
// patients they touched and a retry button for rejected ones.
function fileTable(files, empty = 'No files.') {
  const tbody = el('tbody');
  for (const f of files) {
    const why = el('td', { class: 'small' });
    if (f.detail) why.append(el('p', { text: f.detail }));
    if ((f.problems || []).length) {
      const ul = el('ul', { class: 'problems' });
      for (const p of f.problems.slice(0, 8)) ul.append(el('li', { text: [p.element, p.message].filter(Boolean).join(': ') }));
      if (f.problems.length > 8) ul.append(el('li', { text: `… ${f.problems.length - 8} more` }));
      why.append(ul);
    }
    const who = el('td');
    for (const id of (f.patient_ids || []).slice(0, 5)) {
      who.append(el('a', { href: basePath() + '/patients/' + encodeURIComponent(id), text: 'patient' }), ' ');
    }
    const act = el('td');
    if (f.result === 'rejected' && f.id) act.append(el('button', { type: 'button', class: 'btn btn-small', 'data-retry': f.id, text: 'Retry' }));
    if (f.result === 'needs_review') act.append(el('a', { class: 'btn btn-small', href: basePath() + '/review', text: 'Review' }));
    tbody.append(el('tr', {}, el('td', { text: f.name ?? '' }), el('td', { text: f.format ?? '' }), el('td', {}, badge(f.result || (f.waiting ? 'waiting' : ''))),
      el('td', { class: 'num', text: f.result ? String(f.records ?? '') : '' }), why, who, act));
  }
  if (!tbody.childElementCount) tbody.append(el('tr', {}, el('td', { colspan: '7', class: 'muted', text: empty })));
  return table(['File', 'Format', 'Result', 'Records', 'Why', 'Patients', ''], tbody);
}

// initDocuments lists a patient's kept source documents on the detail page.
async function initDocuments() {
  const box = document.querySelector('[data-patient-documents]');
  if (!box) return;
  const res = await api('GET', '/patients/' + encodeURIComponent(box.dataset.patientDocuments) + '/documents').catch(() => ({ ok: false }));
  if (!res.ok) return;
  const items = res.data.items || [];
  if (!items.length) { box.replaceChildren(el('p', { class: 'muted small', text: 'No imported documents.' })); return; }
  const ul = el('ul', { class: 'mini-list' });
  for (const d of items) {
    ul.append(el('li', {}, el('a', { href: basePath() + '/api/v1/documents/' + encodeURIComponent(d.id), text: d.name || d.id }),
      el('span', { class: 'muted', text: `${d.format ?? ''} · ${new Date(d.created_at).toLocaleDateString()}` })));
  }
  box.replaceChildren(ul);
}
