// The alert bell in the top bar: the unread count and a list of the
// signed-in user's alerts (GET /api/v1/alerts), each with a link to what
// it is about and a "Mark read" button; "Mark all read" empties the
// count. New alerts arrive over the chat socket (chat.js dispatches a
// "pfinni:alert" event with the alert frame's alert) on every page, in
// every tab. Text is drawn with textContent only.
import { api, basePath, el } from './dom.js';
import { safeTarget } from './chat-actions.js';

/** ALERT_EVENT is the document event that carries one new alert. */
export const ALERT_EVENT = 'pfinni:alert';

export function initAlerts() {
  const bell = document.querySelector('[data-alerts-bell]');
  const box = document.getElementById('alerts');
  if (!bell || !box) return;
  const count = bell.querySelector('[data-alerts-count]');
  const list = box.querySelector('[data-alerts-list]');
  const empty = box.querySelector('[data-alerts-empty]');
  const readAll = box.querySelector('[data-alerts-read-all]');
  const status = box.querySelector('[data-alerts-status]');
  const items = new Map(); // id -> alert view, newest first by insertion below
  let unread = 0;

  function setUnread(n) {
    unread = Math.max(0, n);
    count.hidden = unread === 0;
    count.textContent = unread ? String(unread) : '';
    bell.setAttribute('aria-label', unread ? `Alerts, ${unread} unread` : 'Alerts, none unread');
    bell.dataset.unread = String(unread);
  }

  function row(a) {
    const li = el('li', { class: 'alert-item' + (a.read ? ' alert-read' : ''), 'data-alert-id': a.id, 'data-kind': a.kind });
    li.append(el('p', { class: 'alert-title', text: String(a.title || 'Alert') }));
    li.append(el('p', { class: 'alert-body', text: String(a.body || '') }));
    const acts = el('div', { class: 'alert-actions' });
    const link = safeTarget(a.link);
    if (link) acts.append(el('a', { href: basePath() + link, text: 'Open' }));
    if (!a.read) acts.append(el('button', { type: 'button', class: 'btn btn-ghost btn-small', 'data-alert-read': a.id, text: 'Mark read' }));
    li.append(acts);
    return li;
  }

  // newest is the id of the newest alert this page knows: the panel's
  // socket sends it as alerts_since when it (re)connects (chat.js).
  function newest(id) {
    if (id) bell.dataset.newest = id;
  }

  function draw() {
    newest(items.keys().next().value);
    list.replaceChildren(...[...items.values()].map(row));
    empty.hidden = items.size > 0;
    readAll.disabled = unread === 0;
  }

  async function load() {
    const res = await api('GET', '/alerts?limit=30').catch(() => ({ ok: false }));
    if (!res.ok || !res.data) {
      status.textContent = 'Alerts cannot be loaded right now.';
      return;
    }
    status.textContent = '';
    items.clear();
    for (const a of res.data.items || []) items.set(a.id, a);
    setUnread(Number(res.data.unread) || 0);
    draw();
  }

  function setOpen(open) {
    box.hidden = !open;
    bell.setAttribute('aria-expanded', String(open));
    if (open) load();
  }
  bell.addEventListener('click', () => setOpen(box.hidden));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !box.hidden) { setOpen(false); bell.focus(); }
  });
  document.addEventListener('click', (e) => {
    if (!box.hidden && !box.contains(e.target) && !bell.contains(e.target)) setOpen(false);
  });

  list.addEventListener('click', async (e) => {
    const b = e.target.closest('[data-alert-read]');
    if (!b) return;
    b.disabled = true;
    const res = await api('POST', '/alerts/' + encodeURIComponent(b.dataset.alertRead) + '/read').catch(() => ({ ok: false }));
    if (!res.ok) { b.disabled = false; status.textContent = 'That alert could not be marked read; try again.'; return; }
    const a = items.get(b.dataset.alertRead);
    if (a && !a.read) { a.read = true; setUnread(unread - 1); }
    draw();
  });
  readAll.addEventListener('click', async () => {
    const res = await api('POST', '/alerts/read-all').catch(() => ({ ok: false }));
    if (!res.ok) { status.textContent = 'Alerts could not be marked read; try again.'; return; }
    for (const a of items.values()) a.read = true;
    setUnread(0);
    draw();
  });

  // A new alert from the socket: counted once, shown first.
  document.addEventListener(ALERT_EVENT, (e) => {
    const a = e.detail;
    if (!a || !a.id || items.has(a.id)) return;
    const rest = [...items.entries()];
    items.clear();
    items.set(a.id, a);
    for (const [k, v] of rest) items.set(k, v);
    if (!a.read) setUnread(unread + 1);
    draw();
  });

  // The count (and the newest alert) is known before the list is opened.
  api('GET', '/alerts?limit=1').then((res) => {
    if (!res.ok || !res.data) return;
    setUnread(Math.max(unread, Number(res.data.unread) || 0));
    if (!bell.dataset.newest) newest(res.data.items?.[0]?.id);
  }).catch(() => {});
  bell.dataset.ready = '1';
}
