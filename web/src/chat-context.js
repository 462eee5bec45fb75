// What the chat panel tells the assistant about the page, with every
// message: the page id and the patient on screen (rendered by the server
// as <body data-page data-patient-id>), the ticked rows of the patient
// list, the fields of a form that failed validation (names and messages,
// never values) and the last problem the page showed (status, title,
// detail of a problem+json or an error banner).
import { meta } from './dom.js';

// Limits of the contract (docs/chat.md, "Panel contract").
const MAX_SELECTION = 500;
const MAX_TEXT = 300;

const clip = (s) => String(s ?? '').replace(/\s+/g, ' ').trim().slice(0, MAX_TEXT);

/** pageId is the page id of the contract ("patients", "patient", …). */
export function pageId() {
  return document.body?.dataset.page || meta('pfinni-page') || 'dashboard';
}

/** patientId is the patient on screen, or "". */
export function patientId() {
  return document.body?.dataset.patientId || meta('pfinni-patient') || '';
}

/** selection lists the ids of the ticked rows of the patient list. */
export function selection() {
  return [...document.querySelectorAll('input[type=checkbox][name=ids]:checked')]
    .map((b) => b.value).filter(Boolean).slice(0, MAX_SELECTION);
}

/**
 * formErrors describes the form on the page that failed validation:
 * {name, errors: [{field, message}]}, or null. Only the field names and the
 * messages shown under them are read — never what was typed.
 */
export function formErrors() {
  const bad = [...document.querySelectorAll('#main [aria-invalid="true"]')];
  if (!bad.length) return null;
  const errors = [];
  const seen = new Set();
  for (const f of bad) {
    const field = f.getAttribute('name') || f.querySelector('[name]')?.getAttribute('name') || f.id || '';
    if (!field || seen.has(field)) continue;
    seen.add(field);
    let msg = '';
    for (const id of (f.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean)) {
      const d = document.getElementById(id);
      if (d?.classList.contains('field-error')) msg = d.textContent;
    }
    if (!msg) msg = f.closest('.field, fieldset')?.querySelector('.field-error')?.textContent || 'is not valid';
    errors.push({ field, message: clip(msg) });
  }
  if (!errors.length) return null;
  const form = bad[0].closest('form');
  const name = form?.dataset.form || (pageId() === 'patient-form' ? 'patient' : form?.getAttribute('id') || pageId());
  return { name, errors };
}

/**
 * errorTracker remembers the last problem the page showed: an error
 * banner rendered by the server, or a failed htmx request (its status and
 * problem+json title and detail). last() returns it or null.
 */
export function errorTracker() {
  let last = null;
  // A shown banner only: pages keep empty, hidden ones for scripts to fill.
  const banner = [...document.querySelectorAll('#main .banner-error, #main .verify-bad')]
    .find((b) => !b.closest('[hidden]') && b.textContent.trim());
  if (banner) {
    last = { detail: clip(banner.textContent) };
    const status = Number(document.body?.dataset.status);
    if (status >= 400) last.status = status;
    if (formErrors()) last.status = last.status || 422;
  } else if (formErrors()) {
    last = { status: 422, detail: 'The form has fields that need fixing.' };
  } else if (Number(document.body?.dataset.status) >= 400) {
    // An error page (refused, not found): its status and heading.
    last = { status: Number(document.body.dataset.status), title: clip(document.querySelector('#main h1')?.textContent) };
  }
  document.addEventListener('htmx:responseError', (e) => {
    const xhr = e.detail.xhr;
    const p = { status: xhr.status };
    try {
      const body = JSON.parse(xhr.responseText);
      if (body.title) p.title = clip(body.title);
      if (body.detail) p.detail = clip(body.detail);
    } catch { /* an HTML error page */ }
    last = p;
  });
  return { last: () => last };
}

/** pageContext is the context object sent with a message. */
export function pageContext(errors) {
  const c = { page: pageId() };
  const pid = patientId();
  if (pid) c.patient_id = pid;
  const sel = selection();
  if (sel.length) c.selection = sel;
  const form = formErrors();
  if (form) c.form = form;
  const last = errors?.last();
  if (last) c.last_error = last;
  return c;
}
