// pfinni dashboard script: htmx for partial updates plus the few
// behaviours that need a script. Everything is wired through data-*
// attributes and addEventListener: the Content-Security-Policy forbids
// inline scripts and inline styles.
import htmx from 'htmx.org';
import { meta, basePath } from './dom.js';
import { initChat } from './chat.js';
import { initIdle } from './idle.js';
import { initViews } from './views.js';
import { initMerge } from './merge.js';
import { initImports } from './imports.js';
import { initAlerts } from './alerts.js';

window.htmx = htmx;

// Every htmx request carries the session's CSRF token; empty filter
// fields are left out so the address stays short.
document.addEventListener('htmx:configRequest', (e) => {
  const token = meta('csrf-token');
  if (token) e.detail.headers['X-CSRF-Token'] = token;
  if (e.detail.verb === 'get') {
    for (const [k, v] of Object.entries(e.detail.parameters)) {
      if (v === '' || (Array.isArray(v) && v.every((x) => x === ''))) delete e.detail.parameters[k];
    }
  }
});

// Requests that fail show a short message instead of doing nothing.
document.addEventListener('htmx:responseError', (e) => {
  const st = e.detail.xhr.status;
  if (st === 401) return; // HX-Redirect to the sign-in page follows
  notify(st === 403 ? 'You are not allowed to do that.' : 'Something went wrong (' + st + '). Try again.');
});
document.addEventListener('htmx:sendError', () => notify('pfinni cannot be reached. Check your connection.'));

function notify(text) {
  let el = document.getElementById('toast');
  if (!el) {
    el = document.createElement('p');
    el.id = 'toast';
    el.className = 'banner banner-error';
    el.setAttribute('role', 'alert');
    document.getElementById('main')?.prepend(el);
  }
  el.textContent = text;
}

// Dialogs: data-dialog-open="id" opens, data-dialog-close closes, and a
// dialog marked data-open-on-load opens at once (a refused form).
function initDialogs() {
  document.addEventListener('click', (e) => {
    const open = e.target.closest('[data-dialog-open]');
    if (open) document.getElementById(open.dataset.dialogOpen)?.showModal();
    const close = e.target.closest('[data-dialog-close]');
    if (close) close.closest('dialog')?.close();
  });
  document.querySelectorAll('dialog[data-open-on-load]').forEach((d) => {
    d.showModal();
    d.querySelector('[aria-invalid="true"], textarea, input:not([type=hidden])')?.focus();
  });
}

// "Select all" in the patient list, and a guard on the bulk form.
function initBulk() {
  document.addEventListener('change', (e) => {
    if (!e.target.matches('[data-select-all]')) return;
    const form = e.target.closest('form');
    form.querySelectorAll('input[name=ids]').forEach((b) => { b.checked = e.target.checked; });
  });
}

// Keyboard: "/" jumps to the patient search.
function initShortcuts() {
  document.addEventListener('keydown', (e) => {
    if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t.isContentEditable || /^(input|textarea|select)$/i.test(t.tagName)) return;
    const q = document.getElementById('q');
    if (q) { e.preventDefault(); q.focus(); q.select(); }
  });
}

function start() {
  initDialogs();
  initBulk();
  initShortcuts();
  initViews();
  initMerge();
  initImports();
  if (meta('csrf-token')) {
    initAlerts();
    initChat();
    initIdle();
  }
  document.documentElement.dataset.ready = '1';
  document.documentElement.dataset.readyAt = String(Math.round(performance.now()));
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();

export { basePath };
