// Merging two records of one person from the patient page: the Merge
// dialog finds the other record by search and merges it into this one
// (POST /api/v1/patients/{id}/merge); the banner offers the undo for 24
// hours (POST /api/v1/patients/{id}/merge/undo). The server decides and
// audits; this only asks.
import { api, basePath, el } from './dom.js';

function when(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

function problemText(res, fallback) {
  const d = res.data || {};
  if (d.errors?.length) return d.errors.map((e) => e.message).join(' ');
  return d.detail || fallback;
}

// initMergeBanner shows the undo banner for a merge into this patient
// that can still be undone, and says so when the page was reached from a
// merged-away record.
async function initMergeBanner(box) {
  const id = box.dataset.patientId;
  const from = new URLSearchParams(window.location.search).get('merged_from');
  const res = await api('GET', '/patients/' + encodeURIComponent(id) + '/merges');
  if (!res.ok) return;
  const open = (res.data?.items || []).filter((m) => m.keep_id === id && m.undoable);
  if (from) {
    box.append(el('p', { class: 'banner', role: 'status', 'data-merged-from': from,
      text: 'The record you opened (' + from + ') was merged into this one.' }));
  }
  for (const m of open) {
    const undo = el('button', { type: 'button', class: 'btn', 'data-merge-undo': m.id, text: 'Undo merge' });
    const msg = el('span', { text: 'Record ' + m.from_id + ' was merged into this one on ' + when(m.at) +
      '. You can undo this until ' + when(m.undo_until) + '. ' });
    const banner = el('div', { class: 'banner banner-warn', role: 'status', 'data-merge-banner-item': m.id }, msg, undo);
    undo.addEventListener('click', async () => {
      undo.disabled = true;
      const r = await api('POST', '/patients/' + encodeURIComponent(id) + '/merge/undo', { merge_id: m.id });
      if (r.ok) {
        window.location.assign(basePath() + '/patients/' + encodeURIComponent(id) + '?unmerged=' + encodeURIComponent(m.from_id));
        return;
      }
      msg.textContent = problemText(r, 'The merge could not be undone.') + ' ';
      undo.remove();
    });
    box.append(banner);
  }
  const unmerged = new URLSearchParams(window.location.search).get('unmerged');
  if (unmerged) {
    box.append(el('p', { class: 'banner', role: 'status', 'data-unmerged': unmerged },
      el('span', { text: 'Merge undone: ' }),
      el('a', { href: basePath() + '/patients/' + encodeURIComponent(unmerged), text: 'open the restored record' })));
  }
}

// initMergeDialog wires the search, the choice and the merge.
function initMergeDialog(dlg) {
  const id = dlg.dataset.patientId;
  const search = dlg.querySelector('[data-merge-search]');
  const results = dlg.querySelector('[data-merge-results]');
  const confirm = dlg.querySelector('[data-merge-confirm]');
  const error = dlg.querySelector('[data-merge-error]');
  let chosen = '';
  let seq = 0;
  const showError = (text) => {
    error.textContent = text;
    error.hidden = !text;
  };
  const find = async () => {
    const q = search.value.trim();
    const mine = ++seq;
    chosen = '';
    confirm.disabled = true;
    if (q.length < 2) { results.replaceChildren(); return; }
    const res = await api('GET', '/patients?limit=8&q=' + encodeURIComponent(q));
    if (mine !== seq) return; // a newer search is on its way
    results.replaceChildren();
    if (!res.ok) { showError(problemText(res, 'The search failed.')); return; }
    const items = (res.data?.items || []).filter((p) => p.id !== id);
    if (!items.length) results.append(el('li', { class: 'muted', text: 'No other patient matches.' }));
    for (const p of items) {
      const radio = el('input', { type: 'radio', name: 'merge-from', value: p.id });
      radio.addEventListener('change', () => { chosen = p.id; confirm.disabled = false; showError(''); });
      const label = el('label', { class: 'radio' }, radio,
        el('span', { text: ' ' + p.last_name + ', ' + p.first_name + ' · MRN ' + p.mrn + (p.date_of_birth ? ' · born ' + p.date_of_birth : '') }));
      results.append(el('li', {}, label));
    }
  };
  let timer;
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(find, 250); });
  confirm.addEventListener('click', async () => {
    if (!chosen) return;
    confirm.disabled = true;
    const res = await api('POST', '/patients/' + encodeURIComponent(id) + '/merge', { from_id: chosen });
    if (res.ok) {
      window.location.assign(basePath() + '/patients/' + encodeURIComponent(id));
      return;
    }
    showError(problemText(res, 'The records could not be merged.'));
    confirm.disabled = false;
  });
}

export function initMerge() {
  const box = document.querySelector('[data-merge-banner]');
  if (box) initMergeBanner(box);
  const dlg = document.querySelector('dialog[data-merge]');
  if (dlg) initMergeDialog(dlg);
}
