// Saved views of the patient list: a name and the filter's query string,
// kept on the server (/api/v1/views) — personal or shared with the
// practice, and pinned per user on the dashboard. Opening one is a plain
// link, so the address (and the back button) carry the state as usual.
// Views an older version kept in this browser (localStorage) move to the
// server once, on the first load of the list.
import { api, basePath, el } from './dom.js';

const LEGACY_KEY = 'pfinni.views';

// currentQuery is the list's filter as the address holds it, without
// the paging parameters (a view is a filter, not a page).
function currentQuery() {
  const q = new URLSearchParams(window.location.search);
  for (const k of ['cursor', 'from', 'limit']) q.delete(k);
  for (const [k, v] of [...q.entries()]) if (v === '') q.delete(k);
  return q.toString();
}

function sameQuery(a, b) {
  const norm = (s) => [...new URLSearchParams(s).entries()].map(([k, v]) => k + '=' + v).sort().join('&');
  return norm(a) === norm(b);
}

function problemText(res, fallback) {
  const d = res.data || {};
  const sentence = (e) => (/^(is|must)\b/.test(e.message) ? 'The ' + e.field + ' ' + e.message
    : e.message.charAt(0).toUpperCase() + e.message.slice(1));
  if (d.errors?.length) return d.errors.map(sentence).join(' ');
  return d.detail || fallback;
}

// migrateLegacy sends the views kept in this browser to the server, once.
// A view whose name the user already has on the server is dropped.
async function migrateLegacy() {
  let legacy;
  try { legacy = JSON.parse(localStorage.getItem(LEGACY_KEY) || '[]'); } catch { legacy = []; }
  if (!Array.isArray(legacy) || !legacy.length) return;
  const left = [];
  for (const v of legacy) {
    if (!v || typeof v.name !== 'string') continue;
    const res = await api('POST', '/views', { name: v.name, query: typeof v.q === 'string' ? v.q : '' });
    if (!res.ok && res.status !== 409 && res.status !== 422) left.push(v); // try again next time
  }
  if (left.length) localStorage.setItem(LEGACY_KEY, JSON.stringify(left));
  else localStorage.removeItem(LEGACY_KEY);
}

export async function initViews() {
  const list = document.querySelector('[data-view-list]');
  if (!list) return;
  const name = document.querySelector('[data-view-name]');
  const shared = document.querySelector('[data-view-shared]');
  const pinned = document.querySelector('[data-view-pinned]');
  const status = document.querySelector('[data-view-status]');
  const say = (text, bad) => {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle('field-error', !!bad);
  };

  const render = async () => {
    const res = await api('GET', '/views');
    list.replaceChildren();
    if (!res.ok) { say(problemText(res, 'Saved views are not available right now.'), true); return; }
    const here = currentQuery();
    for (const v of res.data?.items || []) {
      const href = basePath() + '/patients' + (v.query ? '?' + v.query : '');
      const a = el('a', { href, text: v.name, 'data-view-link': v.id });
      if (sameQuery(v.query, here)) a.setAttribute('aria-current', 'true');
      const chip = el('span', { class: 'view-chip' + (v.shared ? ' view-shared' : ''), 'data-view': v.name }, a);
      if (v.shared) chip.append(el('span', { class: 'muted small', title: 'Shared with the practice', text: v.mine ? ' (shared)' : ' (practice)' }));
      const pin = el('button', { type: 'button', class: 'view-pin', 'aria-pressed': v.pinned ? 'true' : 'false',
        'aria-label': (v.pinned ? 'Unpin ' : 'Pin ') + v.name + (v.pinned ? ' from' : ' on') + ' the dashboard', 'data-view-pin': v.id,
        text: v.pinned ? '★' : '☆' });
      pin.addEventListener('click', async () => {
        const r = await api('PATCH', '/views/' + encodeURIComponent(v.id), { pinned: !v.pinned });
        if (!r.ok) say(problemText(r, 'The view could not be pinned.'), true);
        render();
      });
      chip.append(pin);
      if (v.can_edit) {
        const x = el('button', { type: 'button', 'aria-label': 'Delete view ' + v.name, 'data-view-delete': v.id, text: '×' });
        x.addEventListener('click', async () => {
          const r = await api('DELETE', '/views/' + encodeURIComponent(v.id));
          if (!r.ok) say(problemText(r, 'The view could not be deleted.'), true);
          render();
        });
        chip.append(x);
      }
      list.append(chip);
    }
  };

  document.querySelector('[data-view-save]')?.addEventListener('click', async () => {
    const n = name.value.trim();
    if (!n) { name.focus(); return; }
    const res = await api('POST', '/views', { name: n, query: currentQuery(), shared: !!shared?.checked, pinned: !!pinned?.checked });
    if (!res.ok) { say(problemText(res, 'The view could not be saved.'), true); return; }
    name.value = '';
    say('Saved “' + res.data.name + '”.', false);
    render();
  });
  // The list's address changes as filters change (htmx): mark the view
  // that matches it.
  document.body.addEventListener('htmx:pushedIntoHistory', render);
  document.body.addEventListener('htmx:replacedInHistory', render);
  await migrateLegacy();
  await render();
}
