// The chat panel: collapsible (remembers open/closed), Ctrl/Cmd+K opens
// and focuses it, Esc closes it. Messages go over the WebSocket /ws/chat
// (POST /api/v1/chat when the socket is down), each exactly once, with the
// page's context (chat-context.js). The conversation is the user's stored
// history: loaded when the panel opens, so it survives page loads, and
// the user's other tabs receive each exchange over their sockets. Replies
// are drawn with textContent only (chat-render.js, chat-actions.js) and
// announced through an aria-live region; alert frames become a notice and
// a badge on the Assistant button. The welcome tour lives in tour.js.
import { api, basePath, el } from './dom.js';
import { pageContext, pageId, errorTracker } from './chat-context.js';
import { connect } from './chat-transport.js';
import { patientCache, patientTable, chart, citations, eligibilityCard } from './chat-render.js';
import { actionButtons, safeTarget } from './chat-actions.js';
import { initTour } from './tour.js';
import { ALERT_EVENT } from './alerts.js';

const OPEN_KEY = 'pfinni.chat.open';
const DEFAULT_MAX_BYTES = 4000;

/** nanoKey turns an RFC 3339 time into nanoseconds (a BigInt), or null. */
export function nanoKey(at) {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(String(at || ''));
  if (!m) return null;
  const secs = Date.parse(m[1] + m[3]) / 1000;
  if (!Number.isFinite(secs)) return null;
  return BigInt(secs) * 1000000000n + BigInt((m[2] || '').padEnd(9, '0').slice(0, 9));
}

export function initChat() {
  const panel = document.getElementById('chat');
  if (!panel) return;
  const log = panel.querySelector('.chat-log');
  const form = panel.querySelector('.chat-form');
  const input = panel.querySelector('#chat-input');
  const typing = panel.querySelector('.chat-typing');
  const live = panel.querySelector('[data-chat-live]');
  const conn = panel.querySelector('[data-chat-conn]');
  const limitNote = panel.querySelector('[data-chat-limit]');
  const alerts = panel.querySelector('[data-chat-alerts]');
  const tourCard = panel.querySelector('[data-tour-card]');
  const launch = document.querySelector('.chat-launch');
  const badge = launch?.querySelector('[data-chat-badge]');
  const toggles = document.querySelectorAll('[data-chat-toggle]');
  const errors = errorTracker();
  const fetchPatient = patientCache();
  let maxBytes = Number(panel.dataset.maxMessageBytes) || DEFAULT_MAX_BYTES;
  let historyLoaded = false;
  let unread = 0;

  // --- open / close / keyboard -------------------------------------------
  const isOpen = () => !panel.hidden;
  function setOpen(open, focus) {
    panel.hidden = !open;
    toggles.forEach((t) => t.setAttribute('aria-expanded', String(open)));
    try { localStorage.setItem(OPEN_KEY, open ? '1' : '0'); } catch { /* private mode */ }
    if (open) {
      setUnread(0);
      if (!historyLoaded) loadHistory();
      if (focus) input.focus();
    }
  }
  toggles.forEach((t) => t.addEventListener('click', () => {
    const open = panel.hidden;
    setOpen(open, open);
    if (!open) launch?.focus();
  }));
  document.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'k') {
      e.preventDefault();
      setOpen(true, true);
    } else if (e.key === 'Escape' && isOpen() && panel.contains(document.activeElement)) {
      setOpen(false);
      launch?.focus();
    }
  });

  function setUnread(n) {
    unread = n;
    if (!badge) return;
    badge.hidden = n === 0;
    badge.textContent = n ? String(n) : '';
    launch.setAttribute('aria-label', n ? `Assistant, ${n} new alert${n === 1 ? '' : 's'}` : 'Assistant');
  }

  // --- the message box ----------------------------------------------------
  const bytes = (s) => new TextEncoder().encode(s).length;
  function checkLength() {
    const n = bytes(input.value);
    const over = n > maxBytes;
    limitNote.hidden = !over;
    input.setAttribute('aria-invalid', String(over));
    if (over) limitNote.textContent = `Your message is ${n.toLocaleString('en-US')} bytes; the assistant takes at most ${maxBytes.toLocaleString('en-US')}. Shorten it or ask one question at a time.`;
    return !over;
  }
  input.addEventListener('input', checkLength);
  panel.addEventListener('click', (e) => {
    const b = e.target.closest('[data-chat-say]');
    if (b) send(b.dataset.chatSay);
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    send(input.value);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      send(input.value);
    }
  });

  // --- the conversation ---------------------------------------------------
  const own = new Set(); // times (ns) of this tab's stored messages: the socket echoes them
  let inflight = 0;
  let held = []; // frames that arrived while this tab's own answer was on its way

  function add(node, announce) {
    log.append(node);
    log.scrollTop = log.scrollHeight;
    if (announce && live) {
      live.textContent = '';
      setTimeout(() => { live.textContent = announce; }, 50);
    }
  }
  function note(text, kind = 'note') {
    add(el('li', { class: 'msg msg-note' + (kind === 'error' ? ' msg-error' : ''), role: kind === 'error' ? 'alert' : null, text }), kind === 'error' ? '' : text);
  }
  function remember(at) {
    const k = nanoKey(at);
    if (k === null) return;
    own.add(String(k));
    own.add(String(k + 1000n)); // the answer is stored one microsecond after the question
  }
  function isOwn(m) {
    const k = nanoKey(m?.at);
    return k !== null && own.has(String(k));
  }

  const env = {
    navigate: (path) => window.location.assign(basePath() + path),
    startTour: (step) => tour.start(null, step),
    fetchPatient,
    result: (r) => { remember(r.at); showReply(r, true); },
    note,
    // track holds the socket's echoes of this tab's own exchange (a
    // confirmation is stored like a message) until its answer is here.
    async track(p) {
      inflight++;
      try {
        const res = await p;
        if (res?.ok && res.data?.at) remember(res.data.at);
        return res;
      } finally {
        inflight--;
        if (inflight === 0) release();
      }
    },
  };

  /** bubble draws an answer (a live reply or a stored message). */
  function bubble(r, isLive) {
    const li = el('li', { class: 'msg msg-bot', 'data-intent': r.intent || '' });
    li.append(el('p', { class: 'msg-text', text: String(r.reply ?? r.text ?? '') }));
    const data = r.data && typeof r.data === 'object' ? r.data : {};
    const table = patientTable(data, fetchPatient, env.navigate);
    if (table) li.append(table);
    if (data.chart) { const c = chart(data.chart); if (c) li.append(c); }
    const elig = eligibilityCard(data);
    if (elig) li.append(elig);
    const cites = citations(data);
    if (cites) li.append(cites);
    const acts = actionButtons(r.actions, data, env);
    if (acts) li.append(acts);
    const sugg = (Array.isArray(r.suggestions) ? r.suggestions : []).slice(0, 4);
    if (sugg.length) {
      li.append(el('div', { class: 'sugg' }, ...sugg.map((s) => el('button', { type: 'button', class: 'chip', 'data-chat-say': String(s), text: String(s) }))));
    }
    if (isLive && data.tour && Array.isArray(data.tour.steps)) tour.start(data.tour.steps, data.tour.step);
    return li;
  }
  function showReply(r, isLive) { add(bubble(r, isLive), String(r.reply ?? '')); }

  function showStored(m) {
    if (m.role === 'user') {
      const t = String(m.text || '');
      const confirmed = /^\(confirmed: (.+)\)$/.exec(t);
      add(el('li', { class: confirmed ? 'msg msg-note' : 'msg msg-user', text: confirmed ? 'Confirmed: ' + confirmed[1].replace('_', ' ') : t }));
    } else if (m.role === 'alert') {
      alert({ title: m.text }, false); // alerts stored in the chat history before the alert store
    } else {
      add(bubble(m, false));
    }
  }

  // alert shows an alert frame's alert ({id, kind, title, body, link})
  // as a notice in the panel (the newest five).
  let lastAlert = '';
  const shownAlerts = new Set(); // a replay may repeat an alert: shown once
  function alert(a, fresh) {
    if (a.id) {
      if (shownAlerts.has(a.id)) return;
      shownAlerts.add(a.id);
    }
    const text = [a.title, a.body].filter(Boolean).map(String).join(': ') || 'Alert';
    const item = el('li', { class: 'chat-alert', role: fresh ? 'alert' : null, 'data-alert-id': a.id || null, 'data-kind': a.kind || null, text });
    const target = safeTarget(a.link);
    if (target) item.append(' ', el('a', { href: basePath() + target, text: 'Open' }));
    alerts.prepend(item);
    while (alerts.childElementCount > 5) alerts.lastElementChild.remove();
    alerts.hidden = false;
    if (fresh && !isOpen()) setUnread(unread + 1);
  }

  // loadHistory (re)draws the conversation from the stored history; a
  // reload asked for while this tab waits for an answer runs after it.
  let historyLoading = null;
  let reloadAfter = false;
  function loadHistory() {
    if (inflight > 0) { reloadAfter = true; return historyLoading || Promise.resolve(); }
    historyLoaded = true;
    historyLoading = (async () => {
      const res = await api('GET', '/chat/history?limit=60').catch(() => ({ ok: false }));
      if (!res.ok) return;
      const items = res.data?.items || [];
      log.replaceChildren();
      for (const m of items) showStored(m);
      log.dataset.history = String(items.length);
    })();
    return historyLoading;
  }

  function onFrame(f) {
    if (f.type === 'alert') {
      const a = f.alert;
      if (!a || typeof a !== 'object') return;
      if (a.id) lastAlert = String(a.id);
      alert(a, true);
      document.dispatchEvent(new CustomEvent(ALERT_EVENT, { detail: a })); // the bell (alerts.js)
      return;
    }
    if (f.type !== 'message' || !f.message) return;
    if (inflight > 0) { held.push(f.message); return; }
    if (isOwn(f.message)) return;
    if (!historyLoaded) return; // the history shows it when the panel opens
    showStored(f.message);
  }
  function release() {
    const h = held;
    held = [];
    for (const m of h) if (!isOwn(m) && historyLoaded) showStored(m);
  }

  const transport = connect({
    onFrame,
    onState: (s) => {
      panel.dataset.conn = s;
      conn.hidden = s !== 'reconnecting';
      conn.textContent = s === 'reconnecting' ? 'Connection lost — reconnecting…' : '';
    },
    onReconnect: () => { if (historyLoaded) loadHistory(); },
    // A reconnecting socket asks for the alerts it missed.
    // (the newest this tab saw, else the newest the bell loaded).
    alertsSince: () => lastAlert || document.querySelector('[data-alerts-bell]')?.dataset.newest || '',
  });

  let busy = false;
  async function send(text) {
    text = (text || '').trim();
    if (!text || busy) return;
    if (bytes(text) > maxBytes) {
      input.value = text;
      checkLength();
      input.focus();
      return;
    }
    busy = true;
    await (historyLoaded ? historyLoading : loadHistory());
    input.value = '';
    checkLength();
    add(el('li', { class: 'msg msg-user', text }));
    typing.hidden = false;
    inflight++;
    try {
      const reply = await transport.ask({ message: text, context: pageContext(errors) });
      remember(reply.at);
      showReply(reply, true);
    } catch (err) {
      if (err?.status === -1) {
        held = []; // the history, reloaded when the socket is back, has them
        reloadAfter = true;
        note('The connection dropped before the answer arrived. Your message was sent once and is not sent again; its answer appears here when the connection is back.');
      } else if (err?.status === 404 || err?.status === 405 || err?.status === 501) {
        note('The assistant is not available right now; everything else works as usual.', 'error');
      } else {
        note(err?.message || 'pfinni cannot be reached right now.', 'error');
      }
    } finally {
      inflight--;
      typing.hidden = true;
      busy = false;
      if (inflight === 0) {
        release();
        if (reloadAfter) { reloadAfter = false; loadHistory(); }
      }
    }
  }

  const tour = initTour(tourCard, {
    open: () => setOpen(true, false),
    ask: (t) => { setOpen(true, false); send(t); },
    say: (t) => note(t),
    role: document.body?.dataset.role || '',
  });

  // The chat contract: the message limit and this page's suggestion chips
  // for the user's role (the template's chips stay when it is missing).
  api('GET', '/chat/contract').then((r) => {
    if (!r.ok || !r.data) return;
    const n = Number(r.data.max_message_bytes);
    if (n > 0) { maxBytes = n; checkLength(); }
    const chips = r.data.suggestions?.[pageId()];
    const box = panel.querySelector('[data-chat-chips]');
    if (Array.isArray(chips) && box) {
      box.replaceChildren(...chips.slice(0, 4).map((c) => el('button', { type: 'button', class: 'chip', 'data-chat-say': String(c), text: String(c) })));
      box.dataset.source = 'contract';
    }
  }).catch(() => {});

  setOpen(localStorage.getItem(OPEN_KEY) === '1', false);
  panel.dataset.ready = '1';
}
