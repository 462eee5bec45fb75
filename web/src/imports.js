// The imports page: upload files to POST /api/v1/imports, then poll
// GET /api/v1/imports/{id} for progress and per-file results.
import { api, el } from './dom.js';

export function initImports() {
  const form = document.querySelector('[data-import-form]');
  if (!form) return;
  const status = document.querySelector('[data-import-status]');
  const results = document.querySelector('[data-import-results]');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const files = form.querySelector('input[type=file]').files;
    if (!files.length) { status.textContent = 'Choose at least one file.'; return; }
    const fd = new FormData();
    for (const f of files) fd.append('files', f, f.name);
    status.textContent = `Uploading ${files.length} file(s)…`;
    results.replaceChildren();
    const res = await api('POST', '/imports', fd).catch(() => ({ status: 0 }));
    if (res.status === 404 || res.status === 405) { status.textContent = 'The import service is not available yet.'; return; }
    if (!res.ok || !res.data?.id) { status.textContent = res.data?.detail || `The upload was refused (${res.status}).`; return; }
    poll(res.data.id);
  });

  async function poll(id) {
    for (let i = 0; i < 600; i++) {
      const res = await api('GET', '/imports/' + encodeURIComponent(id)).catch(() => ({ ok: false }));
      if (!res.ok) { status.textContent = 'Lost track of the import; reload the page to see its result.'; return; }
      const job = res.data;
      const pct = typeof job.progress === 'number' ? Math.round(job.progress * (job.progress <= 1 ? 100 : 1)) : null;
      status.textContent = `Import ${job.status}${pct !== null ? ` — ${pct}%` : ''}`;
      show(job.files || []);
      if (!/^(queued|running|pending|processing)$/.test(job.status)) return;
      await new Promise((r) => setTimeout(r, 700));
    }
  }

  function show(files) {
    const tbody = el('tbody');
    for (const f of files) {
      const problems = (f.problems || []).map((p) => (typeof p === 'string' ? p : p.message || JSON.stringify(p))).join('; ');
      tbody.append(el('tr', {}, el('td', { text: f.name ?? '' }), el('td', { text: typeof f.result === 'string' ? f.result : JSON.stringify(f.result ?? '') }), el('td', { class: 'small', text: problems })));
    }
    const head = el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: 'File' }), el('th', { scope: 'col', text: 'Result' }), el('th', { scope: 'col', text: 'Problems' })));
    results.replaceChildren(el('table', { class: 'table table-compact' }, head, tbody));
  }
}
