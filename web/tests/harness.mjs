// Test harness for the browser flows: starts the real pfinni server (the
// binary from `make build`, or one built here with `go build`) on a free
// port with a fresh data folder — the embedded SurrealDB comes up with
// it — and drives Debian's Chromium through playwright-core. No browser
// is ever downloaded.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');
export const shots = join(here, 'screenshots');
mkdirSync(shots, { recursive: true });

export const ADMIN = { email: 'admin@pfinni.local', password: 'correct-horse-battery-staple' };
export const STAFF = { email: 'staff@pfinni.local', password: 'staff-password-12345', name: 'Sam Staff', role: 'staff' };
export const AUDITOR = { email: 'auditor@pfinni.local', password: 'auditor-password-123', name: 'Ada Auditor', role: 'auditor' };

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    s.on('error', reject);
  });
}

/** binary returns the pfinni binary, building it once when none is given. */
export function binary() {
  if (process.env.WEBTEST_PFINNI_BINARY && existsSync(process.env.WEBTEST_PFINNI_BINARY)) return process.env.WEBTEST_PFINNI_BINARY;
  const out = join(tmpdir(), 'pfinni-webtest-bin');
  execFileSync('go', ['build', '-o', out, './cmd/pfinni'], { cwd: repoRoot, stdio: 'inherit' });
  process.env.WEBTEST_PFINNI_BINARY = out;
  return out;
}

/**
 * startServer runs `pfinni serve` and resolves when /readyz answers.
 * opts: basePath ('' or '/pfinni'), patients (demo count), env (extra).
 */
export async function startServer(opts = {}) {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'pfinni-web-'));
  const base = opts.basePath ?? '/pfinni';
  // pfinni refuses unknown PFINNI_* variables: pass only ours.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PFINNI_')));
  const env = {
    ...inherited,
    PFINNI_DATA_DIR: data, PFINNI_HTTP_ADDR: `127.0.0.1:${port}`, PFINNI_BASE_PATH: base,
    PFINNI_ADMIN_EMAIL: ADMIN.email, PFINNI_ADMIN_PASSWORD: ADMIN.password,
    PFINNI_DEMO_PATIENTS: String(opts.patients ?? 300), PFINNI_LOG_LEVEL: 'warn',
    PFINNI_API_RATE_LIMIT: '100000',
    ...(opts.env || {}),
  };
  const proc = spawn(binary(), ['serve'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  const origin = `http://127.0.0.1:${port}`;
  const url = origin + base;
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  for (;;) {
    if (proc.exitCode !== null) throw new Error('pfinni exited early:\n' + log);
    try {
      const r = await fetch(url + '/readyz');
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) { proc.kill('SIGTERM'); throw new Error('pfinni did not become ready:\n' + log); }
    await new Promise((r) => setTimeout(r, 250));
  }
  const server = {
    url, origin, base, port, proc,
    log: () => log,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => { const t = setTimeout(() => { proc.kill('SIGKILL'); r(); }, 15_000); proc.on('exit', () => { clearTimeout(t); r(); }); });
      }
      rmSync(data, { recursive: true, force: true });
    },
    /** api calls the JSON API as the admin (bearer token). */
    async api(method, path, body) {
      if (!server.token) {
        const r = await fetch(url + '/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(ADMIN) });
        if (!r.ok) throw new Error('admin login failed: ' + r.status + ' ' + await r.text());
        server.token = (await r.json()).token;
      }
      const r = await fetch(url + '/api/v1' + path, {
        method, headers: { Authorization: 'Bearer ' + server.token, 'Content-Type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await r.text();
      let data = null;
      try { data = JSON.parse(text); } catch { data = text; }
      return { status: r.status, data };
    },
    /**
     * ensureUser creates a user (admin API) unless it exists. The user has
     * seen the welcome tour (it starts by itself on a first sign-in) unless
     * u.firstSignIn is true.
     */
    async ensureUser(u) {
      const r = await server.api('POST', '/users', { email: u.email, name: u.name, role: u.role, password: u.password });
      if (r.status !== 201 && r.status !== 200 && r.status !== 409) throw new Error('create user: ' + r.status + ' ' + JSON.stringify(r.data));
      if (!u.firstSignIn) await server.tourSeen(u);
    },
    /** tourSeen marks the welcome tour of user u as done. */
    async tourSeen(u) {
      const r = await fetch(url + '/api/v1/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: u.email, password: u.password }) });
      if (!r.ok) throw new Error('login ' + u.email + ': ' + r.status);
      const { token } = await r.json();
      const t = await fetch(url + '/api/v1/chat/tour', { method: 'PUT', headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' }, body: JSON.stringify({ step: 0, done: true }) });
      if (!t.ok && t.status !== 404) throw new Error('mark the tour seen: ' + t.status);
    },
  };
  await server.tourSeen(ADMIN);
  return server;
}

/**
 * startInsurerStub runs `pfinni dev insurer-stub` on a free port (the
 * stub insurer of docs/insurance.md: member ids ACT… active, INA…
 * inactive, NF… not found) and resolves with its X12 endpoint; pass it as
 * PFINNI_INSURANCE_URL to startServer.
 */
export async function startInsurerStub() {
  const port = await freePort();
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PFINNI_')));
  const proc = spawn(binary(), ['dev', 'insurer-stub', '--addr', `127.0.0.1:${port}`], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the insurer stub did not start:\n' + log)), 60_000);
    proc.stdout.on('data', (d) => { log += d; if (/listening/.test(log)) { clearTimeout(t); resolve(); } });
    proc.stderr.on('data', (d) => { log += d; });
    proc.on('exit', () => { clearTimeout(t); reject(new Error('the insurer stub exited:\n' + log)); });
  });
  return {
    url: `http://127.0.0.1:${port}/x12`,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => { const t = setTimeout(() => { proc.kill('SIGKILL'); r(); }, 5_000); proc.on('exit', () => { clearTimeout(t); r(); }); });
      }
    },
  };
}

/** launch starts Debian's Chromium. */
export function launch() {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

/** login signs in through the sign-in page. */
export async function login(page, server, user) {
  await page.goto(server.url + '/login');
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
  if (new URL(page.url()).pathname.endsWith('/login')) {
    const why = await page.locator('.error, [role="alert"]').first().textContent().catch(() => '');
    throw new Error(`sign-in as ${user.email} failed: ${why || 'still on the sign-in page'}`);
  }
}

/**
 * session opens a fresh browser context (1280×860) and page, signed in as
 * user when one is given; errors collects the page's errors (watchErrors).
 */
export async function session(browser, server, user) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  if (user) await login(page, server, user);
  return { ctx, page, errors };
}

/** shot saves a full-page screenshot under tests/screenshots/. */
export function shot(page, name) {
  return page.screenshot({ path: join(shots, name + '.png'), fullPage: true });
}

/** cspErrors collects Content-Security-Policy violations and page errors. */
export function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  return errors;
}
