// Operations flows of issue 15 in Debian's Chromium against the real
// server under /pfinni: the admin's Backups page lists a backup made
// through the API and makes another; the API reference under Help shows
// the routes; /repo shows the roadmap.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, session, shot, ADMIN, STAFF } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ basePath: '/pfinni', patients: 20 });
  await server.ensureUser(STAFF);
  browser = await launch();
}, { timeout: 180_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the Backups page lists a backup made through the API, and backs up now', async () => {
  const made = await server.api('POST', '/backups');
  assert.equal(made.status, 201, JSON.stringify(made.data));
  assert.match(made.data.name, /^pfinni-\d{8}T\d{9}Z\.pfbak$/);
  assert.ok(made.data.records > 20, 'the patients and more');

  const { ctx, page, errors } = await session(browser, server, ADMIN);
  await page.getByRole('link', { name: 'Backups' }).click();
  await page.getByRole('heading', { name: 'Backups' }).waitFor();
  const row = page.locator(`tr[data-backup="${made.data.name}"]`);
  await row.waitFor();
  assert.equal(await row.locator('[data-sha256]').getAttribute('data-sha256'), made.data.content_sha256);

  await page.getByRole('button', { name: 'Back up now' }).click();
  await page.getByRole('status').filter({ hasText: 'written.' }).waitFor();
  assert.equal(await page.locator('tr[data-backup]').count(), 2, 'the API one and the new one');
  const listed = await server.api('GET', '/backups');
  assert.equal(listed.data.items.length, 2);
  await shot(page, 'backups-page');
  assert.deepEqual(errors, []);
  await ctx.close();

  const staff = await session(browser, server, STAFF);
  const res = await staff.page.goto(server.url + '/admin/backups');
  assert.equal(res.status(), 403, 'admins only');
  await staff.ctx.close();
});

test('Help links the API reference, which shows every route with its roles', async () => {
  const { ctx, page, errors } = await session(browser, server, STAFF);
  await page.goto(server.url + '/help');
  await page.getByRole('link', { name: 'API reference' }).click();
  await page.getByRole('heading', { name: 'API reference', level: 1 }).waitFor();
  const op = page.locator('tr[data-op="GET /api/v1/patients"]');
  await op.waitFor();
  assert.match(await op.textContent(), /staff/);
  const backups = page.locator('tr[data-op="POST /api/v1/backups"]');
  assert.match(await backups.textContent(), /admin/);
  await shot(page, 'api-reference');
  assert.deepEqual(errors, []);
  await ctx.close();
});

test('/repo shows the roadmap computed from TASKS.md', async () => {
  const { ctx, page } = await session(browser, server);
  const res = await page.goto(server.url + '/repo');
  assert.equal(res.status(), 200);
  await page.getByRole('heading', { name: 'Roadmap', level: 2 }).waitFor();
  assert.ok(await page.getByText('Computed by').first().isVisible());
  await ctx.close();
});
