// The welcome tour: a card in the chat panel that walks the main pages
// one step at a time. Its steps come from the assistant (data.tour.steps:
// {title, text, target[, highlight]}); its progress is kept on the server
// (GET/PUT /api/v1/chat/tour), so it resumes after a reload or on another
// page, and it starts by itself on a user's first sign-in. Each step opens
// its page (target) and highlights the element marked data-tour="<key>"
// (key: the step's highlight, else its title in lower case with dashes).
import { api, basePath, el } from './dom.js';

const STEPS_KEY = 'pfinni.tour.steps';

const slug = (s) => String(s || '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

function savedSteps() {
  try {
    const s = JSON.parse(localStorage.getItem(STEPS_KEY) || 'null');
    return Array.isArray(s) && s.length ? s : null;
  } catch { return null; }
}

/** here is the current path without the base path ("/patients"). */
function here() {
  const p = window.location.pathname.slice(basePath().length) || '/';
  return p;
}

/**
 * initTour wires the tour card. env: open() shows the panel, ask(text)
 * sends a message to the assistant (whose reply starts the tour), role is
 * the user's role. Returns {start(steps, step)}.
 */
export function initTour(card, env) {
  let steps = null;
  let step = 0;
  let marked = null;

  const save = (body) => api('PUT', '/chat/tour', body).catch(() => null);

  function unmark() {
    marked?.classList.remove('tour-highlight');
    marked?.removeAttribute('data-tour-active');
    marked = null;
  }

  function close() {
    unmark();
    card.hidden = true;
    card.replaceChildren();
  }

  // show draws the current step; with travel, a step about another page
  // opens that page first (only ever on the user's request: a tour that
  // starts or resumes by itself never takes the user away).
  function show(travel) {
    const s = steps[step];
    if (!s) { close(); return; }
    const target = String(s.target || '');
    if (travel && target.startsWith('/') && !target.startsWith('//') && target.split('?')[0] !== here()) {
      window.location.assign(basePath() + target);
      return;
    }
    env.open();
    unmark();
    const key = s.highlight || s.key || slug(s.title);
    marked = document.querySelector(`[data-tour~="${CSS.escape(key)}"]`) || document.querySelector('#main h1');
    if (marked) {
      marked.classList.add('tour-highlight');
      marked.setAttribute('data-tour-active', key);
      marked.scrollIntoView?.({ block: 'nearest' });
    }
    const last = step === steps.length - 1;
    const back = el('button', { type: 'button', class: 'btn', text: 'Back' });
    const next = el('button', { type: 'button', class: 'btn btn-primary', 'data-tour-next': '', text: last ? 'Finish' : 'Next' });
    const skip = el('button', { type: 'button', class: 'btn btn-ghost', 'data-tour-skip': '', text: 'Skip tour' });
    back.disabled = step === 0;
    back.addEventListener('click', () => go(step - 1));
    next.addEventListener('click', () => (last ? finish('The tour is done. Ask me "start the tour" to see it again.') : go(step + 1)));
    skip.addEventListener('click', () => finish('Tour skipped. Ask me "start the tour" whenever you like.'));
    card.replaceChildren(
      el('p', { class: 'small muted', 'data-tour-progress': '', text: `Welcome tour · step ${step + 1} of ${steps.length}` }),
      el('h3', { class: 'tour-title', text: String(s.title || '') }),
      el('p', { class: 'tour-text', text: String(s.text || '') }),
      el('div', { class: 'tour-buttons' }, back, next, skip));
    card.hidden = false;
    next.focus({ preventScroll: true });
  }

  async function go(n) {
    step = Math.max(0, Math.min(n, steps.length - 1));
    await save({ step, done: false });
    show(true);
  }

  async function finish(text) {
    close();
    await save({ step, done: true });
    env.say(text);
  }

  let auto = false; // the tour was started by itself (first sign-in)

  async function start(list, from = 0) {
    const travel = !auto;
    auto = false;
    if (Array.isArray(list) && list.length) {
      steps = list;
      try { localStorage.setItem(STEPS_KEY, JSON.stringify(list)); } catch { /* private mode */ }
    } else {
      steps = savedSteps();
    }
    if (!steps) { env.ask('start the tour'); return; }
    step = Math.max(0, Math.min(Number(from) || 0, steps.length - 1));
    await save({ step, done: false });
    show(travel);
  }

  // On load: resume a tour in progress; start it on a first sign-in.
  (async () => {
    const res = await api('GET', '/chat/tour').catch(() => ({ ok: false }));
    if (!res.ok) return;
    const t = res.data || {};
    if (!t.started) {
      // Every role has a tour of its own pages (the assistant picks the
      // steps by role: an auditor's walks the audit log and the chain check).
      if (!env.role) return;
      await save({ step: 0, done: false }); // once: another page load does not start it again
      auto = true;
      env.ask('start the tour');
      return;
    }
    if (t.done) return;
    steps = savedSteps();
    if (!steps) { auto = true; env.ask('resume the tour'); return; }
    step = Math.max(0, Math.min(Number(t.step) || 0, steps.length - 1));
    show(false);
  })();

  return { start };
}
