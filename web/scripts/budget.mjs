// Budgets of issue 5, printed (no assertions): for the dashboard and the
// patient list at 10,000 patients —
//   * JS + CSS transferred (gzip) on a first visit         target <= 150 KB
//   * server time per page, p50 / p95 over sequential requests target <= 30 ms
//   * time until the list is interactive in headless Chromium   target <= 500 ms
// The real server is started with 10,000 demo patients (see tests/harness.mjs).
// Run: make web-budget  (or: cd web && node scripts/budget.mjs)
import { startServer, launch, ADMIN } from '../tests/harness.mjs';

const N = Number(process.env.BUDGET_PATIENTS || 10000);
const ROUNDS = Number(process.env.BUDGET_ROUNDS || 200);

const server = await startServer({ basePath: '/pfinni', patients: N, timeoutMs: 300_000 });
const browser = await launch();
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(server.url + '/login');
  await page.fill('#email', ADMIN.email);
  await page.fill('#password', ADMIN.password);
  await Promise.all([page.waitForURL(server.url + '/'), page.click('button[type=submit]')]);
  const total = (await server.api('GET', '/patients?limit=1')).data.total;
  console.log(`pfinni web budgets — ${total} patients, base path ${server.base}\n`);

  // 1. Transferred JS + CSS on a first visit (fresh cache).
  const fresh = await browser.newContext();
  await fresh.addCookies(await ctx.cookies());
  const fp = await fresh.newPage();
  await fp.goto(server.url + '/patients', { waitUntil: 'load' });
  const res = await fp.evaluate(() => performance.getEntriesByType('resource')
    .filter((r) => /\.(js|css)(\?|$)/.test(r.name))
    .map((r) => ({ name: new URL(r.name).pathname, transfer: r.transferSize, body: r.encodedBodySize, decoded: r.decodedBodySize })));
  let sum = 0;
  for (const r of res) {
    sum += r.body;
    console.log(`  ${r.name.padEnd(28)} ${(r.body / 1024).toFixed(1).padStart(6)} KB gzip (${(r.decoded / 1024).toFixed(1)} KB raw)`);
  }
  console.log(`JS + CSS transferred (gzip): ${(sum / 1024).toFixed(1)} KB   (target <= 150 KB)\n`);
  await fresh.close();

  // 2. Server time per page (loopback, sequential, session cookie).
  const cookie = (await ctx.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
  const pages = {
    'dashboard  /': '/',
    'list       /patients': '/patients',
    'list+filter ?status=active&sort=-created_at': '/patients?status=active&sort=-created_at',
    'search     ?q=Jonh Smtih (htmx fragment)': '/patients?q=Jonh%20Smtih',
  };
  console.log(`server time per page over ${ROUNDS} requests (ms):`);
  for (const [label, path] of Object.entries(pages)) {
    const headers = { Cookie: cookie };
    if (label.includes('htmx')) Object.assign(headers, { 'HX-Request': 'true', 'HX-Target': 'results' });
    for (let i = 0; i < 10; i++) await (await fetch(server.url + path, { headers })).arrayBuffer();
    const ts = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      const r = await fetch(server.url + path, { headers });
      await r.arrayBuffer();
      ts.push(performance.now() - t0);
      if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
    }
    ts.sort((a, b) => a - b);
    const q = (p) => ts[Math.min(ts.length - 1, Math.floor(p * ts.length))].toFixed(1);
    console.log(`  ${label.padEnd(46)} p50 ${q(0.5).padStart(6)}   p95 ${q(0.95).padStart(6)}   (target p95 <= 30)`);
  }

  // 3. Time until the list is interactive: navigation start until the
  // script has wired the page (htmx ready, handlers bound).
  const tti = [];
  for (let i = 0; i < 7; i++) {
    const c2 = await browser.newContext();
    await c2.addCookies(await ctx.cookies());
    const p2 = await c2.newPage();
    await p2.goto(server.url + '/patients');
    await p2.waitForSelector('html[data-ready="1"]');
    tti.push(Number(await p2.evaluate(() => document.documentElement.dataset.readyAt)));
    await c2.close();
  }
  tti.sort((a, b) => a - b);
  console.log(`\ntime to interactive, patient list (cold cache, 7 runs): median ${tti[3]} ms, max ${tti[6]} ms   (target <= 500 ms)`);
} finally {
  await browser.close();
  await server.stop();
}
