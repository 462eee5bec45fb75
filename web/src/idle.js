// Automatic logoff warning: a minute before the session's idle timeout
// (counted from the last request this page made), ask whether to stay;
// "Stay" touches the session, silence signs out.
import { meta, basePath, api } from './dom.js';

export function initIdle() {
  const idle = Number(meta('idle-timeout')) || 900;
  const dialog = document.getElementById('idle-warning');
  if (!dialog) return;
  const left = dialog.querySelector('[data-idle-left]');
  const warnAt = Math.max(idle - 60, Math.floor(idle * 0.8));
  let last = Date.now();
  const touch = () => { last = Date.now(); };
  document.addEventListener('htmx:afterRequest', touch);
  document.addEventListener('pfinni:request', touch);

  dialog.querySelector('[data-idle-stay]').addEventListener('click', async () => {
    const res = await api('GET', '/auth/me').catch(() => ({ ok: false }));
    if (res.ok || res.status === 404) {
      touch();
      dialog.close();
    } else {
      expire();
    }
  });

  function expire() {
    window.location.assign(basePath() + '/login?why=expired&next=' + encodeURIComponent(window.location.pathname.slice(basePath().length) || '/'));
  }

  setInterval(() => {
    const gone = (Date.now() - last) / 1000;
    if (gone >= idle) expire();
    else if (gone >= warnAt) {
      left.textContent = String(Math.max(0, Math.ceil(idle - gone)));
      if (!dialog.open) dialog.showModal();
    }
  }, 1000);
}
