// The chat panel shell: collapsible, remembers open/closed, sends the
// current page and selected patient as context, renders replies safely
// (textContent only; tables of patients with links), quick actions, a
// typing indicator and Ctrl/Cmd+K to focus it. The assistant itself is
// POST /api/v1/chat (issue 6); until it exists the panel says so.
import { meta, basePath, el, api } from './dom.js';

const KEY = 'pfinni.chat.open';

export function initChat() {
  const panel = document.getElementById('chat');
  if (!panel) return;
  const log = panel.querySelector('.chat-log');
  const form = panel.querySelector('.chat-form');
  const input = panel.querySelector('#chat-input');
  const typing = panel.querySelector('.chat-typing');
  const toggles = document.querySelectorAll('[data-chat-toggle]');

  const setOpen = (open, focus) => {
    panel.hidden = !open;
    toggles.forEach((t) => t.setAttribute('aria-expanded', String(open)));
    try { localStorage.setItem(KEY, open ? '1' : '0'); } catch { /* private mode */ }
    if (open && focus) input.focus();
  };
  setOpen(localStorage.getItem(KEY) === '1', false);

  toggles.forEach((t) => t.addEventListener('click', () => {
    const open = panel.hidden;
    setOpen(open, open);
    if (!open) document.querySelector('.chat-launch')?.focus();
  }));
  document.addEventListener('keydown', (e) => {
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
      e.preventDefault();
      setOpen(true, true);
    } else if (e.key === 'Escape' && !panel.hidden && panel.contains(document.activeElement)) {
      setOpen(false);
      document.querySelector('.chat-launch')?.focus();
    }
  });
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

  let busy = false;
  async function send(text) {
    text = (text || '').trim();
    if (!text || busy) return;
    busy = true;
    input.value = '';
    add(el('li', { class: 'msg msg-user', text }));
    typing.hidden = false;
    try {
      const context = { page: meta('pfinni-page') || 'dashboard' };
      const pid = meta('pfinni-patient');
      if (pid) context.patient_id = pid;
      const sel = [...document.querySelectorAll('input[name=ids]:checked')].map((b) => b.value);
      if (sel.length) context.selected_ids = sel.slice(0, 50);
      const res = await api('POST', '/chat', { message: text, context });
      if (res.status === 404 || res.status === 405 || res.status === 501) {
        add(el('li', { class: 'msg msg-note', text: 'The assistant is not available yet. It arrives with the chat plugins; everything else works as usual.' }));
      } else if (!res.ok) {
        const detail = res.data?.detail || 'The assistant could not answer (' + res.status + ').';
        add(el('li', { class: 'msg msg-note', text: detail }));
      } else {
        add(reply(res.data || {}));
      }
    } catch {
      add(el('li', { class: 'msg msg-note', text: 'pfinni cannot be reached right now.' }));
    } finally {
      typing.hidden = true;
      busy = false;
    }
  }

  function add(node) {
    log.append(node);
    log.scrollTop = log.scrollHeight;
  }

  // reply renders an answer: its text, a compact table of patients
  // (with links), action links and suggestion buttons.
  function reply(r) {
    const li = el('li', { class: 'msg msg-bot' });
    li.append(document.createTextNode(String(r.reply ?? '')));
    const ps = r.data?.patients;
    if (Array.isArray(ps) && ps.length) {
      const tbody = el('tbody');
      for (const p of ps.slice(0, 20)) {
        const a = el('a', { href: basePath() + '/patients/' + encodeURIComponent(p.id), text: [p.last_name, p.first_name].filter(Boolean).join(', ') || p.mrn || p.id });
        tbody.append(el('tr', {}, el('td', {}, a), el('td', { text: p.mrn ?? '' }), el('td', { text: p.status ?? '' })));
      }
      const table = el('table', {}, el('thead', {}, el('tr', {}, el('th', { text: 'Patient' }), el('th', { text: 'MRN' }), el('th', { text: 'Status' }))), tbody);
      li.append(table);
      if (typeof r.data.total === 'number' && r.data.total > ps.length) {
        li.append(el('p', { class: 'small', text: `Showing ${Math.min(ps.length, 20)} of ${r.data.total}.` }));
      }
    }
    const links = (r.actions || []).filter((a) => a && a.href && String(a.href).startsWith('/'));
    const sugg = el('div', { class: 'sugg' });
    for (const a of links) sugg.append(el('a', { class: 'chip', href: basePath() + a.href, text: a.label || 'Open' }));
    for (const s of (r.suggestions || []).slice(0, 4)) sugg.append(el('button', { type: 'button', class: 'chip', 'data-chat-say': String(s), text: String(s) }));
    if (sugg.childElementCount) li.append(sugg);
    return li;
  }
}
