// Small DOM helpers shared by the modules.

/** meta returns the content of <meta name=...>, or "". */
export function meta(name) {
  return document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
}

/** basePath is the app's path prefix (PFINNI_BASE_PATH), "" at the root. */
export function basePath() {
  return meta('pfinni-base');
}

/** el builds an element; text is set with textContent, never as HTML. */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v);
  }
  for (const c of children) if (c) e.append(c);
  return e;
}

/** api calls the JSON API under the base path with the CSRF token. */
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const token = meta('csrf-token');
  if (token) headers['X-CSRF-Token'] = token;
  let payload = body;
  if (body && !(body instanceof FormData)) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(basePath() + '/api/v1' + path, { method, headers, body: payload, credentials: 'same-origin' });
  let data = null;
  const ct = res.headers.get('Content-Type') || '';
  if (ct.includes('json')) data = await res.json().catch(() => null);
  return { status: res.status, ok: res.ok, data };
}
