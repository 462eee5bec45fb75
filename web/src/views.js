// Saved views of the patient list: a name and the filter's query
// string, kept in this browser (localStorage). Opening one is a plain
// link, so the address (and the back button) carry the state as usual.
import { basePath, el } from './dom.js';

const KEY = 'pfinni.views';

function load() {
  try { return JSON.parse(localStorage.getItem(KEY) || '[]'); } catch { return []; }
}

export function initViews() {
  const list = document.querySelector('[data-view-list]');
  if (!list) return;
  const name = document.querySelector('[data-view-name]');
  const render = () => {
    list.replaceChildren();
    for (const v of load()) {
      const a = el('a', { href: basePath() + '/patients' + (v.q ? '?' + v.q : ''), text: v.name });
      const x = el('button', { type: 'button', 'aria-label': 'Delete view ' + v.name, text: '×' });
      x.addEventListener('click', () => {
        localStorage.setItem(KEY, JSON.stringify(load().filter((w) => w.name !== v.name)));
        render();
      });
      list.append(el('span', { class: 'view-chip' }, a, x));
    }
  };
  document.querySelector('[data-view-save]')?.addEventListener('click', () => {
    const n = name.value.trim();
    if (!n) { name.focus(); return; }
    const q = new URLSearchParams(window.location.search);
    q.delete('cursor');
    q.delete('from');
    const views = load().filter((w) => w.name !== n);
    views.push({ name: n, q: q.toString() });
    localStorage.setItem(KEY, JSON.stringify(views.slice(-20)));
    name.value = '';
    render();
  });
  render();
}
