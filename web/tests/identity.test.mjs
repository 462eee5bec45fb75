// Patient identity in Debian's Chromium against the real server: the
// duplicate warning of the new-patient form (candidates with links, then
// "Create anyway") and the Review page (an imported document without
// identifier beside its candidate; "Same person" resolves it).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, login, shot, watchErrors, STAFF } from './harness.mjs';

describe('identity (base /pfinni)', () => {
  let server;
  let browser;

  before(async () => {
    server = await startServer({ basePath: '/pfinni', patients: 0 });
    await server.ensureUser(STAFF);
    browser = await launch();
  }, { timeout: 180_000 });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function session() {
    const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 } });
    const page = await ctx.newPage();
    const errors = watchErrors(page);
    await login(page, server, STAFF);
    return { ctx, page, errors };
  }

  test('the new-patient form warns of a likely duplicate and creates it on request', async () => {
    const made = await server.api('POST', '/patients', { mrn: 'ID-1', first_name: 'Marguerite', last_name: 'Okonkwo', date_of_birth: '1971-04-12', sex: 'female' });
    assert.equal(made.status, 201, JSON.stringify(made.data));
    const { ctx, page, errors } = await session();
    await page.goto(server.url + '/patients/new');
    await page.getByLabel('MRN').fill('ID-2');
    await page.getByLabel('First name').fill('Marguerite');
    await page.getByLabel('Last name').fill('Okonkwa');
    await page.getByLabel('Date of birth').fill('1971-04-12');
    await page.getByRole('button', { name: 'Create patient' }).click();
    const dup = page.locator('#duplicates tr.duplicate');
    await dup.first().waitFor({ timeout: 120_000 });
    assert.equal(await dup.count(), 1);
    const link = dup.first().locator('a');
    assert.equal(await link.textContent(), 'Marguerite Okonkwo');
    assert.match(await link.getAttribute('href'), new RegExp('/pfinni/patients/' + made.data.id + '$'));
    assert.match(await dup.first().textContent(), /same_birth_date/);
    await shot(page, 'identity-duplicate-warning');
    await page.getByRole('button', { name: 'Create anyway' }).click();
    await page.waitForURL(/\/pfinni\/patients\/p_[^/]+\?notice=created/, { timeout: 120_000 });
    assert.match(await page.locator('h1').textContent(), /Okonkwa/);
    await page.locator('#identifiers').waitFor();
    assert.match(await page.locator('#identifiers').textContent(), /ID-2/);
    // The warning page itself answers 409 (the browser logs it); nothing else.
    assert.deepEqual(errors.filter((e) => !/status of 409/.test(e)), []);
    await ctx.close();
  });

  test('the Review page compares a document with its candidate; same person resolves it', async () => {
    const made = await server.api('POST', '/patients', { mrn: 'RV-1', first_name: 'Theodora', last_name: 'Vasquez', date_of_birth: '1988-08-08', sex: 'female', confirm_duplicate: true });
    assert.equal(made.status, 201, JSON.stringify(made.data));
    // Import, through the API, a document that has no identifier.
    const doc = '<Patient xmlns="http://hl7.org/fhir"><name><family value="Vasquez"/><given value="Theodora"/></name>'
      + '<gender value="female"/><birthDate value="1988-08-08"/></Patient>';
    const form = new FormData();
    form.append('files', new Blob([doc], { type: 'application/xml' }), 'theodora.xml');
    const up = await fetch(server.url + '/api/v1/imports', { method: 'POST', headers: { Authorization: 'Bearer ' + server.token }, body: form });
    const body = await up.text();
    assert.equal(up.status, 202, body);
    const job = JSON.parse(body);
    let done;
    for (let i = 0; i < 600 && !(done && done.status === 'done'); i++) {
      await new Promise((r) => setTimeout(r, 200));
      done = (await server.api('GET', '/imports/' + job.id)).data;
    }
    assert.equal(done.files[0].result, 'needs_review');

    const { ctx, page, errors } = await session();
    await page.goto(server.url + '/review');
    const item = page.locator('[data-review-item]');
    await item.first().waitFor({ timeout: 120_000 });
    assert.equal(await item.count(), 1);
    const table = item.first().locator('table.review-compare');
    assert.match(await table.textContent(), /no_identifier|1988-08-08/);
    assert.match(await item.first().locator('thead').textContent(), /Theodora Vasquez/);
    await shot(page, 'identity-review');
    await item.first().getByRole('button', { name: 'Same person' }).first().click();
    await page.waitForURL(/\/pfinni\/review\?notice=reviewed/, { timeout: 120_000 });
    await page.locator('#review-empty').waitFor();
    const list = await server.api('GET', '/review');
    assert.equal(list.status, 200);
    assert.equal(list.data.items.length, 0);
    assert.deepEqual(errors, []);
    await ctx.close();
  });
});
