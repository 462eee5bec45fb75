// Browser flows of issue 16 (items 4 and 6), in Debian's Chromium against
// the real server: saving a view from the patient list (and the one-time
// move of views an older version kept in localStorage), choosing it, its
// pinned count on the dashboard, and merging two records with the undo.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, login, shot, watchErrors, STAFF } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ basePath: '/pfinni', patients: 120 });
  await server.ensureUser(STAFF);
  browser = await launch();
}, { timeout: 300_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function session(user, init) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  if (init) await ctx.addInitScript(init);
  const page = await ctx.newPage();
  page.setDefaultTimeout(120_000);
  const errors = watchErrors(page);
  await login(page, server, user);
  return { ctx, page, errors };
}

const QUERY = 'status=onboarding&sort=-created_at';

test('saved views: saved from the list, moved from localStorage once, chosen, pinned on the dashboard', async () => {
  // An older version kept this view in the browser.
  const legacy = () => {
    if (!sessionStorage.getItem('legacy-set')) {
      localStorage.setItem('pfinni.views', JSON.stringify([{ name: 'Legacy churned', q: 'status=churned' }]));
      sessionStorage.setItem('legacy-set', '1');
    }
  };
  const { ctx, page, errors } = await session(STAFF, legacy);
  await page.goto(server.url + '/patients?' + QUERY);
  await page.waitForSelector('html[data-ready="1"]');
  const list = page.getByLabel('Saved views');
  await list.getByRole('link', { name: 'Legacy churned' }).waitFor();
  assert.equal(await page.evaluate(() => localStorage.getItem('pfinni.views')), null, 'the browser copy is gone once moved');

  // The save form sits under Filters, open when a filter is set.
  if (!(await page.locator('details.filter-more').evaluate((d) => d.open))) await page.locator('details.filter-more > summary').click();
  await page.getByLabel('Name for this view').fill('Overdue onboarding');
  await page.getByLabel('Pin on dashboard').check();
  await page.getByRole('button', { name: 'Save view' }).click();
  await list.getByRole('link', { name: 'Overdue onboarding' }).waitFor();
  assert.equal(await list.getByRole('link', { name: 'Overdue onboarding' }).getAttribute('aria-current'), 'true', 'the view matching the list is marked');
  // Saving the same name again is refused with the reason.
  await page.getByLabel('Name for this view').fill('overdue ONBOARDING');
  await page.getByRole('button', { name: 'Save view' }).click();
  await page.locator('[data-view-status]', { hasText: 'already have a view' }).waitFor();
  await shot(page, 'views-saved');

  // Choosing the view from the plain list opens its filter.
  await page.goto(server.url + '/patients');
  await list.getByRole('link', { name: 'Overdue onboarding' }).click();
  await page.waitForURL(/status=onboarding/);
  const want = await server.api('GET', '/patients?' + QUERY + '&limit=1');
  assert.equal(want.status, 200);
  const total = want.data.total;
  assert.ok(total > 0, 'the demo practice has patients in onboarding');
  const count = await page.locator('#result-count').textContent();
  assert.match(count.replace(/[,\s]/g, ''), new RegExp('of' + total + 'patients'));

  // Still there after a reload: kept on the server, not in the browser.
  await page.reload();
  await list.getByRole('link', { name: 'Legacy churned' }).waitFor();
  assert.equal(await list.locator('[data-view]').count(), 2, 'the browser views moved once, not twice');

  // The dashboard shows the pinned view with the list's total.
  await page.goto(server.url + '/');
  const pin = page.locator('[data-pinned-view="Overdue onboarding"]');
  await pin.waitFor();
  assert.equal((await pin.locator('.stat-num').textContent()).replace(/[,\s]/g, ''), String(total));
  assert.equal(await page.locator('[data-pinned-view="Legacy churned"]').count(), 0, 'only pinned views show');
  await shot(page, 'views-dashboard-pin');

  // Unpinning from the list takes it off the dashboard.
  await page.goto(server.url + '/patients');
  await list.getByRole('button', { name: 'Unpin Overdue onboarding from the dashboard' }).click();
  await list.getByRole('button', { name: 'Pin Overdue onboarding on the dashboard' }).waitFor();
  await page.goto(server.url + '/');
  await page.waitForSelector('html[data-ready="1"]');
  assert.equal(await page.locator('[data-pinned-view="Overdue onboarding"]').count(), 0);
  assert.deepEqual(errors.filter((e) => /Content Security Policy|Refused/i.test(e)), [], 'no CSP violations');
  await ctx.close();
});

test('merge: another record is merged from the patient page, its page redirects, and the merge is undone', async () => {
  const mk = (mrn, first, dob) => server.api('POST', '/patients', {
    mrn, first_name: first, last_name: 'Quillfeather', date_of_birth: dob, sex: 'female', confirm_duplicate: true,
  });
  const keep = await mk('WEB-MERGE-1', 'Henrietta', '1971-04-02');
  const from = await mk('WEB-MERGE-2', 'Henriette', '1971-04-02');
  assert.equal(keep.status, 201, JSON.stringify(keep.data));
  assert.equal(from.status, 201, JSON.stringify(from.data));
  const keepID = keep.data.id;
  const fromID = from.data.id;

  const { ctx, page, errors } = await session(STAFF);
  await page.goto(server.url + '/patients/' + keepID);
  await page.waitForSelector('html[data-ready="1"]');
  await page.getByRole('button', { name: 'Merge…' }).click();
  const dlg = page.getByRole('dialog', { name: 'Merge another record into this one' });
  await dlg.getByLabel('Find the other record').fill('Quillfeather');
  await dlg.getByRole('radio', { name: /Quillfeather, Henriette · MRN WEB-MERGE-2/ }).check();
  await dlg.getByRole('button', { name: 'Merge into this record' }).click();
  await page.locator('[data-merge-banner-item]').waitFor();
  assert.match(await page.locator('[data-merge-banner-item]').textContent(), new RegExp(fromID + ' was merged into this one'));
  assert.match(await page.locator('#identifiers').textContent(), /WEB-MERGE-2/, "the other record's MRN is kept as an identifier");
  await shot(page, 'merge-banner');

  // The merged-away record's page leads here.
  await page.goto(server.url + '/patients/' + fromID);
  await page.waitForURL(new RegExp('/patients/' + keepID + '\\?merged_from=' + fromID));
  await page.locator('[data-merged-from]').waitFor();
  const api = await server.api('GET', '/patients/' + fromID);
  assert.equal(api.status, 410);
  assert.equal(api.data.merged_into, keepID);

  // Undo: both records are back.
  await page.getByRole('button', { name: 'Undo merge' }).click();
  await page.waitForURL(/unmerged=/);
  await page.locator('[data-unmerged]').getByRole('link', { name: 'open the restored record' }).click();
  await page.waitForURL(new RegExp('/patients/' + fromID + '$'));
  assert.match(await page.locator('h1').textContent(), /Henriette Quillfeather/);
  assert.equal((await server.api('GET', '/patients/' + fromID)).status, 200);
  assert.deepEqual(errors.filter((e) => /Content Security Policy|Refused/i.test(e)), [], 'no CSP violations');
  await ctx.close();
});
