// The buttons of the assistant's actions. Every action type of the chat
// contract has one: navigate and start_import open a page, start_tour
// starts the welcome tour, and set_status (a change, confirmed on the
// server) shows exactly which patients move from which status to which,
// with Confirm and Cancel, and check_eligibility (run on the server when
// pressed) asks the patient's insurer and shows the result. The server
// keeps the actions' parameters, so a press sends only the action id
// (and a reason when one is needed).
import { api, el } from './dom.js';
import { patientIds } from './chat-render.js';
import { problemText } from './chat-transport.js';

/** ACTION_TYPES are the action types this panel draws (the contract test reads them). */
export const ACTION_TYPES = ['navigate', 'start_tour', 'start_import', 'set_status', 'check_eligibility'];

/** safeTarget keeps in-app paths only ("/patients?status=active"). */
export function safeTarget(t, fallback = '') {
  const s = String(t || fallback);
  return s.startsWith('/') && !s.startsWith('//') ? s : '';
}

/**
 * actionButtons draws the actions of a reply. env: navigate(path),
 * startTour(step), fetchPatient(id), result(reply) to show a confirmed
 * change's answer, note(text, kind) to say something in the panel,
 * track(promise) to wrap the confirmation request.
 */
export function actionButtons(actions, data, env) {
  const list = (Array.isArray(actions) ? actions : []).filter((a) => a && typeof a === 'object');
  if (!list.length) return null;
  const box = el('div', { class: 'chat-acts' });
  for (const a of list) {
    const label = String(a.label || '');
    switch (a.type) {
      case 'navigate':
      case 'start_import': {
        const target = safeTarget(a.target, a.type === 'start_import' ? '/imports' : '');
        if (!target) break;
        box.append(button(label || (a.type === 'start_import' ? 'Start an import' : 'Open'), 'btn', () => env.navigate(target), a.type));
        break;
      }
      case 'start_tour':
        box.append(button(label || 'Start the tour', 'btn', () => env.startTour(Number(a.params?.step) || 0), a.type));
        break;
      case 'set_status':
        // A stored action (history) has no id: it cannot be confirmed again.
        if (a.id && a.confirm) box.append(confirmBox(a, data, env));
        else if (label) box.append(el('p', { class: 'small muted', text: `Offered: ${label} (no longer open).` }));
        break;
      case 'check_eligibility':
        if (a.id) box.append(checkButton(a, env));
        else if (label) box.append(el('p', { class: 'small muted', text: `Offered: ${label} (no longer open).` }));
        break;
      default:
        box.append(el('p', { class: 'small muted', text: `(${label || a.type}: this panel cannot do that yet.)` }));
    }
  }
  return box.childElementCount ? box : null;
}

function button(text, cls, onClick, type) {
  const b = el('button', { type: 'button', class: cls, 'data-action-type': type, text });
  if (onClick) b.addEventListener('click', onClick);
  return b;
}

/** targetIds are the patients a set_status action moves. */
function targetIds(a, data) {
  const p = a.params || {};
  for (const k of ['patients', 'ids', 'patient_ids']) {
    if (Array.isArray(p[k]) && p[k].length) return patientIds({ patients: p[k] });
  }
  if (a.target && !String(a.target).startsWith('/')) return [String(a.target)];
  return patientIds(data);
}

/**
 * checkButton runs an eligibility check on the server (as the user) when
 * pressed and shows the result as the next answer. An adapter that is
 * down (503) leaves the button to press again.
 */
function checkButton(a, env) {
  const box = el('div', { class: 'chat-check' });
  const b = button(String(a.label || 'Check eligibility'), 'btn btn-primary', null, a.type);
  b.setAttribute('data-check-eligibility', a.id);
  box.append(b);
  const done = (text) => box.replaceChildren(el('p', { class: 'small muted', text }));
  b.addEventListener('click', async () => {
    b.disabled = true;
    b.textContent = 'Asking the insurer…';
    const res = await env.track(api('POST', '/chat/actions/' + encodeURIComponent(a.id) + '/confirm', {}).catch(() => ({ status: 0, ok: false })));
    if (res.ok) {
      done('Checked.');
      env.result(res.data || {});
      return;
    }
    if (res.status === 404) {
      done('Not checked.');
      env.note('This check is no longer available: it was already run, it expired, or it was offered to someone else. Ask again.', 'error');
    } else if (res.status === 0 || res.status === 503) {
      b.disabled = false;
      b.textContent = String(a.label || 'Check eligibility');
      env.note(res.status === 0 ? 'pfinni cannot be reached right now; nothing was checked.'
        : 'The insurance adapter is not available right now; press the button again in a moment.', 'error');
    } else {
      done('Not checked.');
      env.note('The check could not run: ' + problemText(res), 'error');
    }
  });
  return box;
}

function confirmBox(a, data, env) {
  const to = String(a.params?.to || '');
  const ids = targetIds(a, data);
  const box = el('div', { class: 'chat-confirm', role: 'group', 'aria-label': 'Confirm the change' });
  const what = el('p', { class: 'chat-confirm-what', text: `Change ${ids.length} patient${ids.length === 1 ? '' : 's'} to ${to}:` });
  const ul = el('ul', { class: 'chat-confirm-list' });
  box.append(what, ul);
  const fromOf = new Map((Array.isArray(a.params?.patients) ? a.params.patients : [])
    .filter((p) => p && typeof p === 'object' && p.from).map((p) => [patientIds({ patients: [p] })[0], String(p.from)]));
  const lines = ids.slice(0, 50).map((id) => {
    const li = el('li', { 'data-patient-move': id, text: 'Loading…' });
    ul.append(li);
    return env.fetchPatient(id).then((p) => {
      const name = p.missing !== undefined ? 'a patient not available to you' : [p.first_name, p.last_name].filter(Boolean).join(' ');
      const from = fromOf.get(id) || String(a.params?.from || p.status || '?');
      li.textContent = `${name}: ${from} → ${to}`;
      return from;
    });
  });
  if (ids.length > 50) ul.append(el('li', { text: `… and ${ids.length - 50} more` }));
  Promise.all(lines).then((froms) => {
    const set = [...new Set(froms)];
    if (set.length === 1) what.textContent = `Move ${ids.length} patient${ids.length === 1 ? '' : 's'} from ${set[0]} to ${to}:`;
  });
  let reason = null;
  if (a.params?.reason_required && !a.params?.reason) {
    const rid = 'reason-' + a.id;
    reason = el('textarea', { id: rid, rows: '2', maxlength: '500', 'aria-required': 'true' });
    box.append(el('label', { for: rid, class: 'small', text: 'Reason (required)' }), reason);
  }
  const ok = el('button', { type: 'button', class: 'btn btn-primary', 'data-confirm': a.id, text: 'Confirm' });
  const no = el('button', { type: 'button', class: 'btn', 'data-cancel': a.id, text: 'Cancel' });
  const row = el('div', { class: 'chat-confirm-buttons' }, ok, no);
  box.append(row);
  const done = (text) => { row.replaceChildren(el('p', { class: 'small muted', text })); reason?.setAttribute('disabled', ''); };
  ok.addEventListener('click', async () => {
    const body = {};
    if (reason) {
      if (!reason.value.trim()) { reason.focus(); env.note('A reason is required for this change.', 'error'); return; }
      body.reason = reason.value.trim();
    }
    ok.disabled = no.disabled = true;
    const res = await env.track(api('POST', '/chat/actions/' + encodeURIComponent(a.id) + '/confirm', body).catch(() => ({ status: 0, ok: false })));
    if (res.ok) {
      done('Confirmed.');
      env.result(res.data || {});
      return;
    }
    if (res.status === 404) {
      done('Not done.');
      env.note('This action is no longer available: it was already used, it expired, or it was offered to someone else. Nothing was changed — ask again.', 'error');
    } else if (res.status === 0) {
      ok.disabled = no.disabled = false;
      env.note('pfinni cannot be reached right now; nothing was changed.', 'error');
    } else {
      done('Refused.');
      env.note('The change was refused: ' + problemText(res) + ' Nothing was changed.', 'error');
    }
  });
  no.addEventListener('click', async () => {
    ok.disabled = no.disabled = true;
    const res = await api('POST', '/chat/actions/' + encodeURIComponent(a.id) + '/cancel').catch(() => ({ status: 0 }));
    done(res.status === 404 ? 'This action is no longer available; nothing was changed.' : 'Cancelled; nothing was changed.');
  });
  return box;
}
