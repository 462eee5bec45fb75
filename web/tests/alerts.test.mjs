// Alerts in Debian's Chromium against the real server (embedded
// SurrealDB, demo patients, the job queue): the top bar's bell with its
// unread count and list, the chat panel's alert frames in every open tab,
// marking read, and the assistant's "any alerts?". Under /pfinni.
// The periodic rules are set to run once a year so that only the alerts
// these tests cause arrive; assertions still count relative to what is
// there, never exact totals.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, login, shot, watchErrors, STAFF } from './harness.mjs';

describe('alerts (base /pfinni)', () => {
  let server;
  let browser;
  let state; // the staff user's cookie: one sign-in per suite

  before(async () => {
    server = await startServer({
      basePath: '/pfinni', patients: 60,
      env: { PFINNI_ALERT_ONBOARDING_CRON: '0 0 1 1 *', PFINNI_ALERT_BIRTHDAY_CRON: '0 0 1 1 *' },
    });
    await server.ensureUser(STAFF);
    browser = await launch();
  }, { timeout: 180_000 });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function session() {
    const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 }, ...(state ? { storageState: state } : {}) });
    const page = await ctx.newPage();
    const errors = watchErrors(page);
    if (state) await page.goto(server.url + '/');
    else {
      await login(page, server, STAFF);
      state = await ctx.storageState();
    }
    return { ctx, page, errors };
  }

  // ready waits for the page's scripts and an open socket, then asks the
  // assistant "any alerts?" over it: the answer proves the server has
  // subscribed the socket to the user's alerts (it subscribes before it
  // reads the first message). The panel is closed again.
  async function ready(page) {
    await page.waitForSelector('html[data-ready="1"] #chat[data-ready="1"] ', { state: 'attached' });
    await page.waitForSelector('[data-alerts-bell][data-ready="1"]', { state: 'attached' });
    await page.waitForFunction(() => document.getElementById('chat').dataset.conn === 'online', null, { timeout: 120_000 });
    if (await page.locator('#chat').isHidden()) await page.keyboard.press('Control+k');
    await page.waitForSelector('#chat .chat-log[data-history]', { state: 'attached' });
    const n = await page.locator('.chat-log li[data-intent="alerts.summary"]').count();
    await page.getByLabel('Message to the assistant').fill('any alerts?');
    await page.keyboard.press('Enter');
    const answer = page.locator('.chat-log li[data-intent="alerts.summary"]').nth(n);
    await answer.waitFor({ timeout: 120_000 });
    await page.getByLabel('Message to the assistant').focus();
    await page.keyboard.press('Escape');
    await page.locator('#chat').waitFor({ state: 'hidden' });
    return (await answer.textContent()) || '';
  }

  const unread = (page) => page.locator('[data-alerts-bell]').getAttribute('data-unread').then(Number);

  test('a status change by another user rings the bell and the panel in every tab; marking read', async () => {
    const { ctx, page, errors } = await session();
    const list = await server.api('GET', '/patients?status=active&limit=1');
    assert.equal(list.status, 200);
    const p = list.data.items[0];
    const name = `${p.first_name} ${p.last_name}`;
    // The staff user reads the patient (its page); a second tab is open.
    await page.goto(server.url + '/patients/' + p.id);
    assert.match(await ready(page), /unread alert/);
    const second = await ctx.newPage();
    await second.goto(server.url + '/');
    await ready(second);
    const before0 = await unread(page);

    // Another user (the admin, through the API) changes its status.
    const r = await server.api('POST', `/patients/${p.id}/status`, { to: 'inactive', version: p.version });
    assert.equal(r.status, 200, JSON.stringify(r.data));

    for (const tab of [page, second]) {
      // The panel's notice and the Assistant button's badge ...
      await tab.locator('[data-chat-alerts] li[data-kind="status_changed"]', { hasText: 'moved from active to inactive' }).waitFor({ state: 'attached', timeout: 120_000 });
      await tab.locator('[data-chat-badge]').first().waitFor();
      // ... and the bell's count.
      await tab.waitForFunction((n) => Number(document.querySelector('[data-alerts-bell]').dataset.unread) > n, before0);
    }
    const notice = await page.locator('[data-chat-alerts] li[data-kind="status_changed"]').first().textContent();
    assert.ok(notice.includes(name), 'composed for a user who may read the patient: ' + notice);

    // The bell's list, its link to the patient, and marking one read.
    await page.locator('[data-alerts-bell]').click();
    const item = page.locator('#alerts li[data-kind="status_changed"]', { hasText: name });
    await item.waitFor();
    assert.match(await item.textContent(), /moved from active to inactive by another user/);
    assert.equal(await item.getByRole('link', { name: 'Open' }).getAttribute('href'), '/pfinni/patients/' + p.id);
    await shot(page, 'alerts-bell');
    const before1 = await unread(page);
    await item.getByRole('button', { name: 'Mark read' }).click();
    await page.waitForFunction((n) => Number(document.querySelector('[data-alerts-bell]').dataset.unread) === n - 1, before1);
    await item.getByRole('button', { name: 'Mark read' }).waitFor({ state: 'detached' });

    // Another change (back to active) makes one more unread alert. The
    // read one stays read after a reload; "Mark all read" empties the count.
    const back = await server.api('POST', `/patients/${p.id}/status`, { to: 'active', version: r.data.version });
    assert.equal(back.status, 200, JSON.stringify(back.data));
    await page.waitForFunction(() => Number(document.querySelector('[data-alerts-bell]').dataset.unread) > 0, null, { timeout: 120_000 });
    await page.reload();
    await page.waitForSelector('[data-alerts-bell][data-ready="1"]', { state: 'attached' });
    await page.locator('[data-alerts-bell]').click();
    await page.locator('#alerts li[data-kind="status_changed"].alert-read', { hasText: name }).waitFor();
    await page.getByRole('button', { name: 'Mark all read' }).click();
    await page.waitForFunction(() => document.querySelector('[data-alerts-bell]').dataset.unread === '0');
    assert.ok(await page.locator('[data-alerts-count]').isHidden());
    const left = await page.evaluate(async () => (await (await fetch('/pfinni/api/v1/alerts?unread=true')).json()).unread);
    assert.equal(left, 0);
    assert.deepEqual(errors, []);
    await ctx.close();
  });

  test('the assistant answers "any alerts?" from the same store', async () => {
    const { ctx, page } = await session();
    const p = (await server.api('GET', '/patients?status=onboarding&limit=1')).data.items[0];
    await page.goto(server.url + '/patients/' + p.id);
    await ready(page);
    const r = await server.api('POST', `/patients/${p.id}/status`, { to: 'active', version: p.version });
    assert.equal(r.status, 200, JSON.stringify(r.data));
    await page.waitForFunction(() => Number(document.querySelector('[data-alerts-bell]').dataset.unread) > 0, null, { timeout: 120_000 });
    const answer = await ready(page);
    assert.match(answer, /You have \d+ unread alerts?: .*status change/);
    assert.ok(!answer.includes(p.last_name), 'the answer (kept in the history) names no patient');
    await ctx.close();
  });
});
