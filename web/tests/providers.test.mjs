// Providers as users (issue 16 item 7), in Debian's Chromium against the
// real server (embedded database, demo patients, the real WASM chat
// plugins): an admin links a user to a provider on the Users page; signed
// in as that provider, the patient list, the dashboard and the assistant
// cover the provider's panel only, and another panel's patient is a 404.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, session as openSession, shot, ADMIN } from './harness.mjs';

const DOC = { email: 'doc@pfinni.local', password: 'provider-password-123', name: 'Dana Doctor', role: 'provider' };

let server;
let browser;
let panel; // {id, name, ids: Set, total, active}
let outsider; // a patient of another panel

before(async () => {
  server = await startServer({ basePath: '/pfinni', patients: 120 });
  browser = await launch();
  const all = await server.api('GET', '/patients?limit=200');
  assert.equal(all.status, 200, JSON.stringify(all.data));
  const provs = (await server.api('GET', '/providers')).data.items;
  // The provider with the most patients (demo data spreads them), so the
  // panel is neither empty nor everybody.
  let best = null;
  for (const p of provs) {
    const r = await server.api('GET', `/patients?provider_id=${encodeURIComponent(p.id)}&limit=200`);
    if (!best || r.data.total > best.total) best = { id: p.id, name: p.name, total: r.data.total, ids: new Set(r.data.items.map((x) => x.id)) };
  }
  assert.ok(best && best.total > 0 && best.total < all.data.total, 'a panel smaller than the practice');
  best.active = (await server.api('GET', `/patients?provider_id=${encodeURIComponent(best.id)}&status=active&limit=1`)).data.total;
  panel = best;
  outsider = all.data.items.find((p) => p.provider_id !== panel.id);
}, { timeout: 240_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

const session = (user) => openSession(browser, server, user);

test('an admin links a new provider user on the Users page', async () => {
  await server.tourSeen(ADMIN);
  const { ctx, page } = await session(ADMIN);
  await page.goto(server.url + '/admin/users');
  const form = page.locator('form[action$="/admin/users"]');
  await form.locator('[name="name"]').fill(DOC.name);
  await form.locator('[name="email"]').fill(DOC.email);
  await form.locator('#nu-role').selectOption('provider');
  await form.locator('[name="password"]').fill(DOC.password);
  // Without a provider the page explains what is missing.
  await form.getByRole('button', { name: 'Add user' }).click();
  await page.waitForLoadState('load');
  assert.match(await page.locator('.field-error').allTextContents().then((t) => t.join(' ')), /required for the provider role/);
  const again = page.locator('form[action$="/admin/users"]');
  await again.locator('[name="password"]').fill(DOC.password);
  await again.locator('#nu-provider').selectOption(panel.id);
  await again.getByRole('button', { name: 'Add user' }).click();
  await page.waitForURL(/notice=user/);
  await shot(page, 'providers-users-page');
  const users = await server.api('GET', '/users');
  const doc = users.data.items.find((u) => u.email === DOC.email);
  assert.equal(doc?.role, 'provider');
  assert.equal(doc?.provider_id, panel.id);
  await server.tourSeen(DOC);
  await ctx.close();
});

test('a provider sees only their panel on the list and the dashboard', async () => {
  const { ctx, page, errors } = await session(DOC);
  // Dashboard: the figures count the panel.
  await page.goto(server.url + '/');
  await page.waitForSelector('html[data-ready="1"]');
  const total = await page.locator('.stat-total .stat-num').textContent();
  assert.equal(Number(total.replace(/,/g, '')), panel.total);
  await shot(page, 'providers-dashboard');

  // The list: the panel note, the count and every row belong to the panel.
  await page.goto(server.url + '/patients?limit=200');
  assert.match(await page.locator('#panel-note').textContent(), new RegExp('Your panel: the patients of ' + panel.name));
  assert.match(await page.locator('#result-count').textContent(), new RegExp(`of ${panel.total.toLocaleString('en-US')} patients`));
  const ids = await page.locator('input[name="ids"]').evaluateAll((els) => els.map((e) => e.value));
  assert.equal(ids.length, panel.total);
  for (const id of ids) assert.ok(panel.ids.has(id), `row ${id} is in the panel`);
  assert.ok(!ids.includes(outsider.id));
  await shot(page, 'providers-list');

  // Another panel's patient does not exist for them.
  const res = await page.goto(server.url + '/patients/' + outsider.id);
  assert.equal(res.status(), 404);
  assert.ok(!(await page.content()).includes(outsider.last_name), 'nothing of the patient is shown');
  assert.deepEqual(errors.filter((e) => /Content Security Policy|Refused/i.test(e)), [], 'no CSP violations');
  await ctx.close();
});

test('the assistant counts and finds within the panel', async () => {
  const { ctx, page } = await session(DOC);
  await page.goto(server.url + '/patients');
  await page.waitForSelector('html[data-ready="1"] #chat[data-ready="1"]', { state: 'attached' });
  if (await page.locator('#chat').isHidden()) await page.keyboard.press('Control+k');
  await page.locator('#chat').waitFor();
  await page.waitForSelector('#chat .chat-log[data-history]', { state: 'attached' });
  const ask = async (text) => {
    const n = await page.locator('.chat-log > li').count();
    const input = page.getByLabel('Message to the assistant');
    await input.fill(text);
    await input.press('Enter');
    await page.waitForFunction((n) => [...document.querySelectorAll('.chat-log > li')].slice(n).some((l) => l.classList.contains('msg-bot')), n, { timeout: 60_000 });
    await page.waitForFunction((n) => ![...document.querySelectorAll('.chat-log > li')].slice(n).some((l) => l.querySelector('[data-loading]')), n, { timeout: 60_000 });
    return page.locator(`.chat-log > li:nth-child(n+${n + 1}).msg-bot`).first();
  };
  const count = await ask('how many active patients?');
  assert.match(await count.textContent(), new RegExp(`\\b${panel.active}\\b`));
  const find = await ask(`find ${outsider.first_name} ${outsider.last_name}`);
  const text = await find.textContent();
  assert.ok(!text.includes(outsider.mrn), 'the other panel\'s patient is not found');
  assert.equal(await find.locator(`a[href*="${outsider.id}"]`).count(), 0);
  await shot(page, 'providers-assistant');
  await ctx.close();
});
