// The same server at the root path (no PFINNI_BASE_PATH): sign-in, the
// dashboard's assets and an htmx search all resolve without a prefix.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, login, shot, watchErrors, STAFF } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ basePath: '', patients: 100 });
  await server.ensureUser(STAFF);
  browser = await launch();
}, { timeout: 180_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('at the root path: sign in, dashboard, as-you-type search, tablet width', async () => {
  const ctx = await browser.newContext({ viewport: { width: 800, height: 1000 } });
  const page = await ctx.newPage();
  const errors = watchErrors(page);
  const assets = [];
  page.on('response', (r) => { if (r.url().includes('/assets/')) assets.push([new URL(r.url()).pathname, r.status()]); });
  await login(page, server, STAFF);
  assert.equal(new URL(page.url()).pathname, '/');
  await page.waitForSelector('html[data-ready="1"]');
  assert.deepEqual([...new Set(assets.map(([p, s]) => p + ' ' + s))].sort(), ['/assets/app.css 200', '/assets/app.js 200']);
  await shot(page, 'root-dashboard-tablet');
  await page.getByRole('link', { name: 'Patients' }).first().click();
  // Wait for the list page (and its script) before using its shortcut.
  await page.waitForURL(/\/patients(\?|$)/);
  await page.waitForSelector('html[data-ready="1"] #q');
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'q');
  await page.keyboard.type('a');
  await page.waitForURL(/\/patients\?q=a/);
  await shot(page, 'root-patients-tablet');
  assert.deepEqual(errors, []);
  await ctx.close();
});
