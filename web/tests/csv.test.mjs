// Browser flow of issue 16 item 5, in Debian's Chromium against the real
// server and the real importer-csv plugin: choosing a CSV on the imports
// page runs a dry run (nothing imported), shows the detected mapping as
// selects, the first rows with what would happen and why, and the counts;
// mapping a column the synonyms do not know runs it again; Commit imports
// the same file without a second upload.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, login, shot, watchErrors, STAFF } from './harness.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ basePath: '/pfinni', patients: 40 });
  await server.ensureUser(STAFF);
  browser = await launch();
}, { timeout: 300_000 });

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function total(q) {
  const r = await server.api('GET', '/patients?q=' + encodeURIComponent(q));
  assert.equal(r.status, 200);
  return r.data.total;
}

test('CSV preview: detected mapping, per-row validation, mapping edit, dry-run counts, commit', async () => {
  const demo = (await server.api('GET', '/patients?limit=1')).data.items[0];
  assert.ok(demo?.date_of_birth, 'a demo patient to duplicate');
  const csv = [
    'Chart #;Given;Nom de famille;DOB;Gender',
    'CSVWEB-1;Quilla;Vandersloot;1971-04-05;F',
    'CSVWEB-2;Rurik;Oyelaran;04/06/1972;M',
    'CSVWEB-3;Saoirse;Brannigan;1973-13-40;F',
    `CSVWEB-4;${demo.first_name};${demo.last_name};${demo.date_of_birth};${demo.sex === 'unknown' ? '' : demo.sex}`,
  ].join('\r\n') + '\r\n';

  const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(120_000);
  const errors = watchErrors(page);
  await login(page, server, STAFF);
  await page.goto(server.url + '/imports');
  await page.waitForSelector('html[data-ready="1"]');

  await page.locator('#import-files').setInputFiles({ name: 'new-patients.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  const preview = page.locator('[data-csv-preview]');
  await preview.waitFor({ state: 'visible' });
  // The synonyms: Chart # is the MRN, Given the first name, DOB the birth
  // date, Gender the sex; "Nom de famille" is not known: no last name.
  const field = (col) => preview.getByLabel(`Field for column ${col}`);
  await field('Chart #').waitFor();
  assert.equal(await field('Chart #').inputValue(), 'mrn');
  assert.equal(await field('Given').inputValue(), 'first_name');
  assert.equal(await field('DOB').inputValue(), 'date_of_birth');
  assert.equal(await field('Gender').inputValue(), 'sex');
  assert.equal(await field('Nom de famille').inputValue(), '');
  await preview.locator('[data-count="rejected"]', { hasText: '4 rejected' }).waitFor();
  assert.ok(await page.getByRole('button', { name: 'Commit import' }).isDisabled(), 'nothing to commit while every row is rejected');
  assert.match(await preview.locator('[data-row="row 2"]').innerText(), /last_name/);

  // Map the unknown column: the dry run runs again with the mapping.
  await field('Nom de famille').selectOption('last_name');
  await preview.locator('[data-count="create"]', { hasText: '2 create' }).waitFor();
  assert.equal(await preview.locator('[data-count="rejected"]').innerText(), '1 rejected');
  assert.equal(await preview.locator('[data-count="duplicate"]').innerText(), '1 duplicate');
  assert.equal(await preview.locator('[data-count="total"]').innerText(), '4 rows');
  const bad = preview.locator('[data-row="row 4"]');
  assert.equal(await bad.getAttribute('data-action'), 'rejected');
  assert.match(await bad.innerText(), /date_of_birth/);
  assert.match(await bad.innerText(), /not a date/);
  assert.equal(await preview.locator('[data-row="row 5"]').getAttribute('data-action'), 'duplicate');
  assert.match(await preview.locator('[data-row="row 2"]').innerText(), /Vandersloot/);
  await shot(page, 'csv-preview');
  assert.equal(await total('CSVWEB'), 0, 'the dry run imported nobody');

  // Commit: the same file, the same mapping, no second upload.
  await page.getByRole('button', { name: 'Commit import' }).click();
  await page.locator('[data-import-status]', { hasText: /Import done/ }).waitFor();
  await preview.waitFor({ state: 'hidden' });
  assert.equal(await total('Vandersloot'), 1);
  assert.equal(await total('Oyelaran'), 1);
  assert.equal(await total('Brannigan'), 0, 'the invalid row is not imported');
  const review = await server.api('GET', '/review');
  assert.equal(review.status, 200);
  assert.ok(JSON.stringify(review.data).includes(demo.id), 'the duplicate waits for review with the demo patient as candidate');
  assert.deepEqual(errors, []);
  await ctx.close();
});
