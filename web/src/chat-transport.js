// The chat panel's connection: WebSocket first (/ws/chat under the base
// path), reconnecting with backoff, POST /api/v1/chat as the fallback.
// A message is sent exactly once: on the socket when it is open, else by
// POST; a message whose socket drops before the answer is never sent
// again — its answer is read from the history once the socket is back.
import { basePath, api } from './dom.js';

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];

/** TransportError carries the HTTP status (0 when unreachable). */
export class TransportError extends Error {
  constructor(message, status, data) {
    super(message);
    this.status = status;
    this.data = data;
  }
}

/**
 * connect opens the socket. handlers: onFrame(frame) for frames that do
 * not answer this tab's messages (other tabs' messages, alerts);
 * onState(state) with 'connecting' | 'online' | 'reconnecting';
 * onReconnect() after a dropped socket is back (reload the history);
 * alertsSince() the id of the last alert frame seen, sent as
 * ?alerts_since= when the socket (re)opens so the server replays the
 * alerts stored after it.
 */
export function connect(handlers) {
  let ws = null;
  let attempt = 0;
  let everOpen = false;
  let closedByUs = false;
  let timer = 0;
  const pending = []; // {resolve, reject} in the order sent: the server answers in order

  const url = () => {
    const proto = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    const since = handlers.alertsSince?.() || '';
    const q = since ? '?alerts_since=' + encodeURIComponent(since) : '';
    return proto + '//' + window.location.host + basePath() + '/ws/chat' + q;
  };

  function open() {
    if (typeof WebSocket === 'undefined') return;
    handlers.onState?.(everOpen ? 'reconnecting' : 'connecting');
    let sock;
    try { sock = new WebSocket(url()); } catch { schedule(); return; }
    ws = sock;
    sock.addEventListener('open', () => {
      if (ws !== sock) return;
      const again = everOpen;
      everOpen = true;
      attempt = 0;
      handlers.onState?.('online');
      if (again) handlers.onReconnect?.();
    });
    sock.addEventListener('message', (e) => {
      let f;
      try { f = JSON.parse(e.data); } catch { return; }
      if ((f.type === 'reply' || f.type === 'error') && pending.length) {
        const p = pending.shift();
        if (f.type === 'reply') p.resolve(f.reply || {});
        else p.reject(new TransportError(f.error || 'The assistant could not answer.', 422));
        return;
      }
      handlers.onFrame?.(f);
    });
    sock.addEventListener('close', () => {
      if (ws !== sock) return;
      ws = null;
      // Messages in flight are not sent again: the server may have
      // answered them already; the history shows the answer.
      while (pending.length) pending.shift().reject(new TransportError('dropped', -1));
      if (!closedByUs) {
        handlers.onState?.('reconnecting');
        schedule();
      }
    });
  }

  function schedule() {
    clearTimeout(timer);
    const d = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
    attempt++;
    timer = setTimeout(open, d);
  }

  open();

  return {
    get online() { return ws?.readyState === WebSocket.OPEN; },

    /** ask sends one message and resolves with the reply object. */
    async ask(req) {
      if (ws && ws.readyState === WebSocket.OPEN) {
        const sock = ws;
        return new Promise((resolve, reject) => {
          pending.push({ resolve, reject });
          try { sock.send(JSON.stringify(req)); } catch { /* close follows and rejects */ }
        });
      }
      let res;
      try {
        res = await api('POST', '/chat', req);
      } catch {
        throw new TransportError('pfinni cannot be reached right now.', 0);
      }
      if (!res.ok) throw new TransportError(problemText(res), res.status, res.data);
      return res.data || {};
    },

    close() {
      closedByUs = true;
      clearTimeout(timer);
      ws?.close();
    },
  };
}

/** problemText is the message of a problem+json answer. */
export function problemText(res) {
  const d = res.data || {};
  const fields = Array.isArray(d.errors) ? d.errors : (d.errors && typeof d.errors === 'object' ? Object.entries(d.errors).map(([field, message]) => ({ field, message })) : []);
  const parts = fields.map((e) => [e.field ?? e.name, e.message ?? e.detail].filter(Boolean).join(' ')).filter(Boolean);
  return d.detail || parts.join('; ') || d.title || 'The assistant could not answer (' + res.status + ').';
}
