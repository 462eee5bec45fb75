// The chat panel's flows in Debian's Chromium against the real server
// (embedded SurrealDB, demo patients, the real intent and knowledge
// plugins), one test per capability of issue 10. chatSuite(base) runs
// every flow under a base path ('' or '/pfinni'); chat.test.mjs and
// chat-root.test.mjs call it. Tests start as soon as /readyz answers.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, startInsurerStub, launch, login, shot, watchErrors, ADMIN, STAFF, AUDITOR } from './harness.mjs';

export function chatSuite(base) {
  const tag = base ? 'base ' + base : 'root';
  describe(`chat panel (${tag})`, () => {
    let server;
    let browser;
    let insurer;

    before(async () => {
      // The stub insurer answers the eligibility checks (the insurance-x12
      // plugin is enabled by PFINNI_INSURANCE_URL).
      insurer = await startInsurerStub();
      server = await startServer({ basePath: base, patients: 200, env: { PFINNI_INSURANCE_URL: insurer.url } });
      await server.ensureUser(STAFF);
      await server.ensureUser(AUDITOR);
      // ensureUser marks the welcome tour seen; its own test uses a new user.
      if (process.env.WEBTEST_WAIT_PLUGINS) await pluginsReady();
      browser = await launch();
    }, { timeout: 180_000 });

      // ensureUser marks the welcome tour seen; its own test uses a new user.
    // pluginsReady waits for the intent plugins (only for a server whose
    // readiness does not wait for them yet: WEBTEST_WAIT_PLUGINS=1).
    async function pluginsReady() {
      for (let i = 0; i < 240; i++) {
        const ps = (await server.api('GET', '/plugins')).data;
        const list = Array.isArray(ps) ? ps : (ps?.items || []);
        if (list.filter((p) => p.enabled).every((p) => p.state === 'ready') && list.some((p) => p.name === 'intent-patients')) return;
        await new Promise((r) => setTimeout(r, 500));
      }
    }

    after(async () => {
      await browser?.close();
      await server?.stop();
      await insurer?.stop();
    });

    // Each user signs in once per suite and later sessions reuse the
    // cookie: the server allows 20 sign-ins a minute per client address,
    // and every test is a client at 127.0.0.1.
    const signedIn = new Map();
    async function session(user, opts = {}) {
      const state = user && signedIn.get(user.email);
      const ctx = await browser.newContext({ viewport: { width: 1360, height: 900 }, ...(state ? { storageState: state } : {}) });
      const page = await ctx.newPage();
      const errors = watchErrors(page);
      if (user && state) {
        await page.goto(server.url + '/');
        await page.waitForLoadState('load');
      } else if (user) {
        await login(page, server, user);
        signedIn.set(user.email, await ctx.storageState());
      }
      return { ctx, page, errors };
    }

    // openPanel opens the panel and waits for the conversation's history.
    async function openPanel(page) {
      await page.waitForSelector('html[data-ready="1"] #chat[data-ready="1"]', { state: 'attached' });
      if (await page.locator('#chat').isHidden()) await page.keyboard.press('Control+k');
      await page.locator('#chat').waitFor();
      await page.waitForSelector('#chat .chat-log[data-history]', { state: 'attached' });
    }

    // ask sends text from the panel and returns the answer's bubble (the
    // first answer drawn after the question), once its patient names (if
    // any) are fetched.
    async function ask(page, text) {
      await openPanel(page);
      const n = await page.locator('.chat-log > li').count();
      const input = page.getByLabel('Message to the assistant');
      await input.fill(text);
      await input.press('Enter');
      await page.waitForFunction((n) => [...document.querySelectorAll('.chat-log > li')].slice(n).some((l) => l.classList.contains('msg-bot')), n, { timeout: 30_000 });
      const bubble = page.locator(`.chat-log > li:nth-child(n+${n + 1}).msg-bot`).first();
      await page.waitForFunction((n) => ![...document.querySelectorAll('.chat-log > li')].slice(n).some((l) => l.querySelector('[data-loading]')), n);
      return bubble;
    }

    // capture collects every chat request the page sends, over the socket
    // or by POST (register it before the page loads).
    function capture(page) {
      const sent = [];
      const take = (s) => { try { const m = JSON.parse(s); if (m && typeof m.message === 'string') sent.push(m); } catch { /* not JSON */ } };
      page.on('websocket', (ws) => ws.on('framesent', (f) => take(String(f.payload))));
      page.on('request', (r) => { if (r.url().endsWith('/api/v1/chat') && r.method() === 'POST') take(r.postData()); });
      return sent;
    }

    // confirm presses Confirm and returns the result's bubble (intent
    // action.set_status), checking it is drawn once.
    async function confirm(page, box) {
      const sel = '.chat-log .msg-bot[data-intent="action.set_status"]';
      const before = await page.locator(sel).count();
      await box.getByRole('button', { name: 'Confirm' }).click();
      await page.waitForFunction(([sel, n]) => document.querySelectorAll(sel).length > n, [sel, before]);
      await page.waitForTimeout(300);
      assert.equal(await page.locator(sel).count(), before + 1, 'the result is shown once');
      return page.locator(sel).nth(before);
    }

    // walkTour presses Next from the first step to step k, waiting for
    // each step's page, progress and highlighted element.
    async function walkTour(page, card, steps, k) {
      for (let i = 1; i <= k; i++) {
        const next = card.locator('[data-tour-next]');
        if (steps[i].target !== steps[i - 1].target) await Promise.all([page.waitForURL(server.url + steps[i].target), next.click()]);
        else await next.click();
        await card.locator('[data-tour-progress]', { hasText: `step ${i + 1} of` }).waitFor();
        if (steps[i].highlight) await page.waitForSelector(`[data-tour-active="${steps[i].highlight}"]`);
      }
    }

    // skipTour presses Skip and waits until the server has stored the
    // tour as done (the card closes before the PUT answers).
    async function skipTour(page, card) {
      const saved = page.waitForResponse((r) => r.url().endsWith('/api/v1/chat/tour') && r.request().method() === 'PUT');
      await card.locator('[data-tour-skip]').click();
      assert.equal((await saved).status(), 200);
    }

    async function csrfOf(page) {
      return page.locator('meta[name=csrf-token]').getAttribute('content');
    }

    async function history(page) {
      const r = await page.request.get(server.url + '/api/v1/chat/history?limit=200');
      assert.equal(r.status(), 200);
      return (await r.json()).items;
    }

    const total = async (query) => (await server.api('GET', '/patients?limit=1&' + query)).data.total;

    async function createPatient(p) {
      const r = await server.api('POST', '/patients', { sex: 'female', date_of_birth: '1970-04-12', ...p });
      assert.equal(r.status, 201, JSON.stringify(r.data));
      return r.data;
    }

    // activePatient picks a demo patient in status active whose full name
    // finds only them (the assistant resolves names against the directory).
    const used = new Set();
    async function activePatient() {
      const list = (await server.api('GET', '/patients?status=active&limit=60')).data.items;
      for (const p of list) {
        if (used.has(p.id) || !/^[A-Za-z]+$/.test(p.first_name + p.last_name)) continue;
        const same = (await server.api('GET', '/patients?limit=5&q=' + encodeURIComponent(p.first_name + ' ' + p.last_name))).data;
        if (same.total === 1) { used.add(p.id); return p; }
      }
      throw new Error('no active demo patient with a unique name');
    }

    test('show me all active patients: names in a table, the count of the list page, Open in list', async () => {
      const { ctx, page, errors } = await session(STAFF);
      const sent = page.waitForRequest((r) => /\/ws\/chat$/.test(r.url()) || r.url().endsWith('/api/v1/chat')).catch(() => null);
      const bubble = await ask(page, 'show me all active patients');
      await sent;
      const want = await total('status=active');
      const count = bubble.locator('[data-chat-count]');
      assert.equal(await count.getAttribute('data-chat-count'), String(want));
      assert.match(await count.textContent(), new RegExp(`^Showing \\d+ of ${want}`));
      const rows = bubble.locator('tbody tr');
      assert.ok(await rows.count() > 0);
      // Names (fetched now through the patient API), linked to the patient.
      const first = rows.first().locator('td').first().locator('a');
      assert.match(await first.textContent(), /^[A-Z][\p{L}'’ -]+ [\p{L}'’ -]+$/u);
      assert.match(await first.getAttribute('href'), new RegExp(`^${base}/patients/[^/]+$`));
      assert.equal(await rows.first().locator('td').nth(2).textContent(), 'active');
      assert.match(await rows.first().locator('td').nth(1).textContent(), /^\d+$/);
      await shot(page, `chat-active-${tag.replace(/\W+/g, '')}`);
      // "Open in list" opens the same filter; the list counts the same.
      await bubble.getByRole('button', { name: 'Open in list' }).click();
      await page.waitForURL(/\/patients\?.*status=active/);
      assert.equal(new URL(page.url()).pathname, base + '/patients');
      assert.match(await page.locator('#result-count').textContent(), new RegExp(`of ${want.toLocaleString('en-US')} patients`));
      assert.deepEqual(errors.filter((e) => /Content Security Policy|Refused/i.test(e)), [], 'no CSP violations');
      await ctx.close();
    });

    test('find patients with upcoming birthdays: a table and the birthday filter in the list', async () => {
      const { ctx, page } = await session(STAFF);
      const bubble = await ask(page, 'find patients with upcoming birthdays');
      const n = Number(await bubble.locator('[data-chat-count]').getAttribute('data-chat-count'));
      assert.equal(n, await total('birthday_within_days=30'));
      await bubble.getByRole('button', { name: 'Open in list' }).click();
      await page.waitForURL(/birthday_within_days=30/);
      assert.match(await page.locator('#result-count').textContent(), n ? new RegExp(`of ${n.toLocaleString('en-US')} patients`) : /No patients match/);
      await ctx.close();
    });

    test('how do I add a new patient? — a button opens the form', async () => {
      const { ctx, page } = await session(STAFF);
      const bubble = await ask(page, 'how do I add a new patient?');
      await bubble.locator('[data-action-type=navigate]').first().click();
      await page.waitForURL(new RegExp(`${base}/patients/new$`));
      await page.getByRole('heading', { name: 'New patient' }).waitFor();
      await ctx.close();
    });

    test('where can I see churned patients? — a button opens the filtered list', async () => {
      const { ctx, page } = await session(STAFF);
      const bubble = await ask(page, 'where can I see churned patients?');
      await bubble.locator('[data-action-type=navigate]').first().click();
      await page.waitForURL(/\/patients\?.*status=churned/);
      assert.match(await page.locator('#result-count').textContent(), new RegExp(`of ${(await total('status=churned')).toLocaleString('en-US')} patients`));
      await ctx.close();
    });

    test('step-by-step onboarding guidance', async () => {
      const { ctx, page } = await session(STAFF);
      const bubble = await ask(page, 'how does onboarding work?');
      const text = await bubble.locator('.msg-text').textContent();
      assert.match(text, /1\).*2\).*3\)/s, 'numbered steps');
      assert.match(text, /active/);
      await bubble.locator('[data-action-type=navigate]').first().click();
      await page.waitForURL(/status=onboarding/);
      await ctx.close();
    });

    test('a statistics summary with its chart (SVG and the numbers as a table)', async () => {
      const { ctx, page } = await session(STAFF);
      const bubble = await ask(page, 'give me a summary');
      const svg = bubble.locator('svg[role=img]');
      await svg.waitFor();
      assert.match(await svg.locator('title').textContent(), /\d/);
      const cells = await bubble.locator('.chart-numbers tbody tr').evaluateAll((rs) => rs.map((r) => [r.cells[0].textContent, Number(r.cells[1].textContent)]));
      assert.ok(cells.length >= 2, JSON.stringify(cells));
      const stats = (await server.api('GET', '/patients/stats')).data;
      const by = stats.by_status || stats.ByStatus || {};
      for (const [label, v] of cells) {
        const k = label.toLowerCase();
        if (k in by) assert.equal(v, by[k], label);
      }
      await shot(page, `chat-summary-${tag.replace(/\W+/g, '')}`);
      await ctx.close();
    });

    test('form help on the new-patient form after a validation error (names and messages sent, never values)', async () => {
      const { ctx, page } = await session(STAFF);
      const captured = capture(page);
      await page.goto(server.url + '/patients/new');
      await page.getByLabel('MRN (medical record number)').fill('WEB-CHAT-FORM-1');
      await page.getByLabel('First name').fill('Odalys');
      await page.getByLabel('Last name').fill('Quennell');
      await page.getByLabel('Date of birth').fill('2099-01-01');
      await page.getByRole('button', { name: 'Create patient' }).click();
      await page.waitForLoadState('load');
      assert.equal(await page.getByLabel('Date of birth').getAttribute('aria-invalid'), 'true');
      await openPanel(page);
      const bubble = await ask(page, 'what went wrong?');
      const sent = captured.find((m) => m.message === 'what went wrong?');
      assert.ok(sent, 'the message was sent');
      assert.equal(sent.context.page, 'patient-form');
      assert.ok(sent.context.form.errors.some((e) => e.field === 'date_of_birth' && e.message.length > 0), JSON.stringify(sent.context));
      const raw = JSON.stringify(sent.context);
      for (const value of ['2099-01-01', 'Odalys', 'Quennell', 'WEB-CHAT-FORM-1']) assert.ok(!raw.includes(value), 'no typed value in the context: ' + value);
      assert.match(await bubble.locator('.msg-text').textContent(), /date of birth/i);
      await shot(page, `chat-form-help-${tag.replace(/\W+/g, '')}`);
      await ctx.close();
    });

    test('change a named patient to inactive → Confirm → the patient page and the audit log', async () => {
      const p = await activePatient();
      const { ctx, page } = await session(STAFF);
      const bubble = await ask(page, `set ${p.first_name} ${p.last_name} to inactive`);
      const box = bubble.locator('.chat-confirm');
      await box.waitFor();
      await box.locator('li', { hasText: 'Loading' }).first().waitFor({ state: 'detached' });
      assert.match(await box.textContent(), new RegExp(`Move 1 patient from active to inactive`));
      assert.match(await box.locator('li').first().textContent(), new RegExp(`${p.first_name} ${p.last_name}: active → inactive`));
      await shot(page, `chat-confirm-${tag.replace(/\W+/g, '')}`);
      const result = await confirm(page, box);
      assert.match(await result.locator('.msg-text').textContent(), /inactive/);
      await result.getByRole('button', { name: /Open patient/ }).click();
      await page.waitForURL(new RegExp(`/patients/${p.id}$`));
      assert.match(await page.locator('.sub').textContent(), /Inactive/);
      // The audit log names the user who confirmed.
      const events = (await server.api('GET', `/audit?record=${encodeURIComponent(p.id)}`)).data;
      const items = events.items || events;
      const staff = (await server.api('GET', '/users')).data;
      const staffId = (staff.items || staff).find((u) => u.email === STAFF.email).id;
      assert.ok(items.some((e) => /status/.test(e.action) && e.actor === staffId), JSON.stringify(items.slice(0, 5)));
      await ctx.close();
      const admin = await session(ADMIN);
      await admin.page.goto(server.url + `/audit?record=${encodeURIComponent(p.id)}`);
      const row = admin.page.locator('.audit-table tbody tr', { hasText: /status/ }).first();
      assert.match(await row.textContent(), new RegExp(`${STAFF.name}|${STAFF.email}`));
      await admin.ctx.close();
    });

    test('is <patient> covered? → Check eligibility → the result in the panel, the patient page, and the history', async () => {
      const last = 'Coverdale' + (base ? 'b' : 'r');
      const p = await createPatient({ mrn: 'CHAT-ELIG-' + tag.length, first_name: 'Imogen', last_name: last, status: 'active',
        insurance: { payer: 'Acme Health', member_id: 'ACT' + (base ? '801' : '802'), group: 'G1' } });
      const { ctx, page, errors } = await session(STAFF);
      const bubble = await ask(page, `is Imogen ${last} covered?`);
      const check = bubble.locator('[data-check-eligibility]');
      await check.waitFor();
      assert.equal(await check.textContent(), 'Check eligibility');
      assert.doesNotMatch(await bubble.locator('.msg-text').textContent(), new RegExp(last), 'the reply names nobody');
      const sel = '.chat-log .msg-bot[data-intent="action.check_eligibility"]';
      await check.click();
      await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 1, sel, { timeout: 60_000 });
      const result = page.locator(sel).first();
      const card = result.locator('.chat-eligibility');
      assert.equal(await card.getAttribute('data-eligibility-status'), 'active');
      assert.equal(await card.locator('[data-eligibility-badge]').textContent(), 'Covered');
      assert.equal(await card.locator('[data-fact="plan"]').textContent(), 'STUB GOLD PPO');
      assert.equal(await card.locator('[data-fact="coverage"]').textContent(), '2026-01-01 to 2026-12-31');
      assert.ok((await card.locator('.benefits li').allTextContents()).some((t) => /co-pay \$20\.00, in network/.test(t)), 'the office co-pay');
      assert.match(await result.locator('.chat-patients').textContent(), new RegExp(`Imogen ${last}`), 'the name is fetched at display time');
      await shot(page, `chat-eligibility-${tag.replace(/\W+/g, '')}`);
      // The history keeps the check's id and status: after a reload the
      // card is drawn again, its details fetched as the user.
      const stored = (await history(page)).filter((m) => m.intent === 'action.check_eligibility').at(-1);
      assert.deepEqual(Object.keys(stored.data.eligibility).sort(), ['check', 'ref', 'status']);
      assert.doesNotMatch(JSON.stringify(stored), /STUB GOLD|Acme|ACT80|Coverdale|Imogen/);
      await page.reload();
      await openPanel(page);
      const again = page.locator(sel).last().locator('.chat-eligibility');
      await again.locator('[data-fact="plan"]').waitFor();
      assert.equal(await again.locator('[data-fact="plan"]').textContent(), 'STUB GOLD PPO');
      // The link opens the patient page, whose Eligibility block shows the same check.
      await page.locator(sel).last().getByRole('button', { name: 'Open patient' }).click();
      await page.waitForURL(new RegExp(`/patients/${p.id}(#eligibility)?$`));
      assert.equal(await page.locator('[data-eligibility-status]').first().getAttribute('data-eligibility-status'), 'active');
      assert.deepEqual(errors.filter((e) => /Content Security Policy|Refused/i.test(e)), [], 'no CSP violations');
      await ctx.close();
      // An auditor asking the same is offered no check.
      const aud = await session(AUDITOR);
      const refused = await ask(aud.page, `is Imogen ${last} covered?`);
      assert.equal(await refused.locator('[data-check-eligibility]').count(), 0);
      assert.match(await refused.locator('.msg-text').textContent(), /role/i);
      await aud.ctx.close();
    });

    test('a used or foreign action id gives a clear message and changes nothing', async () => {
      const p = await activePatient();
      const { ctx, page } = await session(STAFF);
      const bubble = await ask(page, `set ${p.first_name} ${p.last_name} to inactive`);
      const ok = bubble.locator('[data-confirm]');
      const id = await ok.getAttribute('data-confirm');
      // Another user (the admin) cannot use it.
      const foreign = await server.api('POST', `/chat/actions/${id}/confirm`, {});
      assert.equal(foreign.status, 404);
      // This user cancels it in another tab; the button here is then stale.
      const other = await ctx.newPage();
      await other.goto(server.url + '/');
      const res = await other.request.post(server.url + `/api/v1/chat/actions/${id}/cancel`, { headers: { 'X-CSRF-Token': await csrfOf(other) } });
      assert.equal(res.status(), 204);
      await ok.click();
      await page.getByRole('alert').filter({ hasText: /no longer available/ }).waitFor();
      assert.equal((await server.api('GET', `/patients/${p.id}`)).data.status, 'active', 'nothing changed');
      await ctx.close();
    });

    test('an auditor asking for the same change gets no Confirm', async () => {
      const p = await activePatient();
      const { ctx, page } = await session(AUDITOR);
      const bubble = await ask(page, `set ${p.first_name} ${p.last_name} to inactive`);
      assert.match(await bubble.locator('.msg-text').textContent(), /role/i);
      assert.equal(await bubble.locator('[data-confirm]').count(), 0);
      assert.equal(await page.getByRole('button', { name: 'Confirm' }).count(), 0);
      assert.equal((await server.api('GET', `/patients/${p.id}`)).data.status, 'active');
      await ctx.close();
    });

    test('ticked rows + "move these to inactive": one confirmation for exactly those patients', async () => {
      const a = await createPatient({ mrn: 'CHAT-SEL-A' + tag.length, first_name: 'Selma', last_name: 'Rowntree' + (base ? 'b' : 'r'), status: 'active' });
      // Another birth date and sex: the directory's duplicate check would hold back a second Rowntree born the same day.
      const b = await createPatient({ mrn: 'CHAT-SEL-B' + tag.length, first_name: 'Selwyn', last_name: 'Rowntree' + (base ? 'b' : 'r'), status: 'active', sex: 'male', date_of_birth: '1983-09-23' });
      const { ctx, page } = await session(STAFF);
      await page.goto(server.url + '/patients?q=Rowntree' + (base ? 'b' : 'r'));
      await page.waitForSelector('html[data-ready="1"]');
      for (const p of [a, b]) await page.locator(`input[name=ids][value="${p.id}"]`).check();
      const bubble = await ask(page, 'move these to inactive');
      const box = bubble.locator('.chat-confirm');
      await box.waitFor();
      assert.equal(await box.locator('[data-confirm]').count(), 1, 'one confirmation');
      await box.locator('li', { hasText: 'Loading' }).first().waitFor({ state: 'detached' });
      const moves = await box.locator('[data-patient-move]').evaluateAll((ls) => ls.map((l) => l.dataset.patientMove).sort());
      assert.deepEqual(moves, [a.id, b.id].sort());
      assert.match(await box.textContent(), /Move 2 patients from active to inactive/);
      const result = await confirm(page, box);
      assert.match(await result.locator('.msg-text').textContent(), /inactive/);
      for (const p of [a, b]) assert.equal((await server.api('GET', `/patients/${p.id}`)).data.status, 'inactive');
      await ctx.close();
    });

    test('the welcome tour on a new staff user\'s first sign-in: walks the pages, resumes, skips, restarts', async () => {
      const user = { email: `tour${base ? 'b' : 'r'}@pfinni.local`, password: 'tour-password-12345', name: 'Tess Tour', role: 'staff', firstSignIn: true };
      await server.ensureUser(user);
      const { ctx, page } = await session(user);
      const card = page.locator('[data-tour-card]');
      await card.waitFor({ timeout: 30_000 });
      assert.match(await card.locator('[data-tour-progress]').textContent(), /step 1 of (\d+)/);
      assert.equal(await page.locator('[data-tour-active]').count(), 1, 'the step\'s element is highlighted');
      // Walk to the first step about the patient list: the panel opens its page.
      const steps = JSON.parse(await page.evaluate(() => localStorage.getItem('pfinni.tour.steps')));
      const k = steps.findIndex((s) => s.target.startsWith('/patients'));
      assert.ok(k > 0, JSON.stringify(steps));
      await walkTour(page, card, steps, k);
      assert.equal(new URL(page.url()).pathname, `${base}${steps[k].target}`);
      await page.waitForSelector('[data-tour-active]');
      const progress = await card.locator('[data-tour-progress]').textContent();
      await shot(page, `chat-tour-${tag.replace(/\W+/g, '')}`);
      // Resume after a reload.
      await page.reload();
      await card.waitFor();
      assert.equal(await card.locator('[data-tour-progress]').textContent(), progress);
      // Skip: the tour is done and does not come back.
      await skipTour(page, card);
      await card.waitFor({ state: 'hidden' });
      const st = await (await page.request.get(server.url + '/api/v1/chat/tour')).json();
      assert.equal(st.done, true);
      await page.reload();
      await page.waitForSelector('html[data-ready="1"] #chat[data-ready="1"]', { state: 'attached' });
      await page.waitForTimeout(300);
      assert.ok(await card.isHidden());
      // Restart from the panel.
      await ask(page, 'start the tour');
      await card.waitFor();
      assert.match(await card.locator('[data-tour-progress]').textContent(), /step 1 of/);
      await ctx.close();
    });

    test('the welcome tour of a new auditor walks the audit pages only: the log, its filters, the chain check', async () => {
      const user = { email: `touraud${base ? 'b' : 'r'}@pfinni.local`, password: 'tour-password-12345', name: 'Ari Auditor', role: 'auditor', firstSignIn: true };
      await server.ensureUser(user);
      const { ctx, page } = await session(user);
      const card = page.locator('[data-tour-card]');
      await card.waitFor({ timeout: 30_000 });
      const steps = JSON.parse(await page.evaluate(() => localStorage.getItem('pfinni.tour.steps')));
      assert.ok(steps.length >= 3, JSON.stringify(steps));
      for (const s of steps) assert.ok(s.target.startsWith('/audit'), `an auditor's step is about an audit page: ${JSON.stringify(s)}`);
      assert.match(await card.locator('[data-tour-progress]').textContent(), new RegExp(`step 1 of ${steps.length}`));
      assert.equal(await page.locator('[data-tour-active]').count(), 1, 'the step\'s element is highlighted');
      const k = steps.findIndex((s) => s.target === '/audit/verify');
      assert.ok(k > 0, JSON.stringify(steps));
      await walkTour(page, card, steps, k);
      assert.equal(new URL(page.url()).pathname, `${base}/audit/verify`);
      await page.waitForSelector('[data-tour-active="audit-verify"]');
      assert.ok(steps.some((s) => s.highlight === 'audit-filters'), 'a step shows the filters (a user\'s activity)');
      await skipTour(page, card);
      await card.waitFor({ state: 'hidden' });
      assert.equal((await (await page.request.get(server.url + '/api/v1/chat/tour')).json()).done, true);
      await ctx.close();
    });

    test('history after a reload: the conversation is back, names fetched again', async () => {
      const { ctx, page } = await session(STAFF);
      const bubble = await ask(page, 'show me the inactive patients');
      const name = await bubble.locator('tbody tr a').first().textContent();
      await page.reload();
      await page.waitForSelector('html[data-ready="1"]');
      assert.ok(await page.locator('#chat').isVisible(), 'the panel stays open');
      await page.locator('.chat-log .msg-user', { hasText: 'show me the inactive patients' }).last().waitFor();
      const again = page.locator('.chat-log .msg-bot').last();
      await again.locator('tbody tr a').first().waitFor();
      assert.equal(await again.locator('tbody tr a').first().textContent(), name);
      // The stored history keeps references, not names.
      const items = await history(page);
      assert.ok(!JSON.stringify(items).includes(name), 'no patient name in the stored history');
      await ctx.close();
    });

    test('a second tab receives the message and its answer', async () => {
      const { ctx, page } = await session(STAFF);
      const tab2 = await ctx.newPage();
      await tab2.goto(server.url + '/patients');
      await openPanel(page);
      await openPanel(tab2);
      await tab2.waitForFunction(() => document.getElementById('chat').dataset.conn === 'online');
      await page.waitForFunction(() => document.getElementById('chat').dataset.conn === 'online');
      const text = 'how many patients are there in total?';
      await ask(page, text);
      await tab2.locator('.chat-log .msg-user', { hasText: text }).waitFor({ timeout: 15_000 });
      await tab2.locator('.chat-log .msg-user', { hasText: text }).locator('xpath=following-sibling::li[contains(@class,"msg-bot")]').first().waitFor();
      // The tab that asked shows the exchange once (no echo).
      await page.waitForTimeout(500);
      assert.equal(await page.locator('.chat-log .msg-user', { hasText: text }).count(), 1);
      assert.equal(await tab2.locator('.chat-log .msg-user', { hasText: text }).count(), 1);
      await ctx.close();
    });

    test('a dropped WebSocket: "reconnecting…", the message is sent once, POST while down', async () => {
      const { ctx, page } = await session(STAFF);
      let conns = 0;
      let allow = true;
      let dropAfterReply = true;
      await page.routeWebSocket(/\/ws\/chat$/, (ws) => {
        conns++;
        if (!allow) { ws.close({ code: 1011, reason: 'test: network down' }); return; }
        const srv = ws.connectToServer();
        srv.onMessage((m) => {
          if (dropAfterReply && conns === 1 && /"type":"reply"/.test(m)) {
            // The message reached the server; its answer is lost with the connection.
            dropAfterReply = false;
            allow = false;
            ws.close({ code: 4000, reason: 'test: connection lost' });
            srv.close();
            return;
          }
          ws.send(m);
        });
      });
      await page.reload();
      await openPanel(page);
      await page.waitForFunction(() => document.getElementById('chat').dataset.conn === 'online');
      const text = 'how many active patients are there?';
      const input = page.getByLabel('Message to the assistant');
      await input.fill(text);
      await input.press('Enter');
      await page.locator('[data-chat-conn]', { hasText: /reconnecting/i }).waitFor();
      await shot(page, `chat-reconnecting-${tag.replace(/\W+/g, '')}`);
      // While the socket is down the panel asks over HTTP. (A reconnect
      // attempt is opened by the route and closed at once; a message sent
      // in that instant is lost with it, and the panel says so: ask again.)
      for (let attempt = 1; ; attempt++) {
        const posted = page.waitForRequest((r) => r.url().endsWith('/api/v1/chat') && r.method() === 'POST', { timeout: 60_000 }).then(() => true, () => false);
        await ask(page, 'how many churned patients are there?');
        if (await posted) break;
        assert.ok(attempt < 3, 'the panel asks over HTTP while the socket is down');
      }
      allow = true;
      await page.waitForFunction(() => document.getElementById('chat').dataset.conn === 'online', null, { timeout: 30_000 });
      // The first answer arrives from the history; the message was stored once.
      await page.locator('.chat-log .msg-user', { hasText: text }).waitFor();
      const items = await history(page);
      assert.equal(items.filter((m) => m.role === 'user' && m.text === text).length, 1, 'sent exactly once');
      assert.equal(await page.locator('.chat-log .msg-user', { hasText: text }).count(), 1);
      await ctx.close();
    });

    test('a 4,001-byte message is explained before sending', async () => {
      const { ctx, page } = await session(STAFF);
      await openPanel(page);
      let asked = 0;
      page.on('request', (r) => { if (r.url().endsWith('/api/v1/chat')) asked++; });
      page.on('websocket', (ws) => ws.on('framesent', () => { asked++; }));
      const input = page.getByLabel('Message to the assistant');
      await input.fill('é'.repeat(2000) + 'a'); // 4,001 bytes of UTF-8, 2,001 characters
      const note = page.locator('[data-chat-limit]');
      await note.waitFor();
      assert.match(await note.textContent(), /4,001 bytes.*at most 4,000/);
      await input.press('Enter');
      await page.waitForTimeout(300);
      assert.equal(asked, 0, 'nothing was sent');
      assert.equal(await input.inputValue(), 'é'.repeat(2000) + 'a', 'the text is kept to shorten');
      await input.press('End');
      await input.press('Backspace');
      await note.waitFor({ state: 'hidden' });
      await ctx.close();
    });

    test('keyboard: Ctrl+K opens and focuses, Esc closes; replies in an aria-live region', async () => {
      const { ctx, page } = await session(STAFF);
      await page.waitForSelector('html[data-ready="1"] #chat[data-ready="1"]', { state: 'attached' });
      if (await page.locator('#chat').isVisible()) { await page.getByLabel('Message to the assistant').focus(); await page.keyboard.press('Escape'); }
      assert.ok(await page.locator('#chat').isHidden());
      await page.keyboard.press('Control+k');
      assert.ok(await page.locator('#chat').isVisible());
      assert.ok(await page.getByLabel('Message to the assistant').evaluate((e) => e === document.activeElement));
      await ask(page, 'what can you do?');
      await page.waitForFunction(() => document.querySelector('[data-chat-live]').textContent.length > 10);
      assert.equal(await page.locator('[data-chat-live]').getAttribute('aria-live'), 'polite');
      await page.keyboard.press('Escape');
      assert.ok(await page.locator('#chat').isHidden());
      assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('chat-launch')), true);
      await ctx.close();
    });

    test('the page tells the panel where the user is: page id and patient on screen', async () => {
      const p = await createPatient({ mrn: 'CHAT-CTX-' + tag.length, first_name: 'Cordelia', last_name: 'Vantongeren' + (base ? 'b' : 'r') });
      const contract = (await server.api('GET', '/chat/contract'));
      const pages = contract.status === 200 ? (contract.data.pages || []).map((x) => x.id ?? x) : null;
      const { ctx, page } = await session(ADMIN);
      const seen = {};
      const chips = {};
      for (const [path, want] of [['/', 'dashboard'], ['/patients', 'patients'], [`/patients/${p.id}`, 'patient'], ['/patients/new', 'patient-form'],
        ['/providers', 'providers'], ['/imports', 'imports'], ['/audit', 'audit'], ['/admin/users', 'users'], ['/admin/plugins', 'plugins'],
        ['/admin/settings', 'settings'], ['/help', 'help'], ['/review', 'review'], ['/admin/jobs', 'jobs'], ['/admin/webhooks', 'webhooks'],
        ['/admin/backups', 'backups'], ['/account/email', 'email'], ['/help/api', 'help'], ['/audit/verify', 'audit']]) {
        await page.goto(server.url + path);
        seen[path] = await page.locator('body').getAttribute('data-page');
        assert.equal(seen[path], want, path);
        if (pages) assert.ok(pages.includes(seen[path]), `${seen[path]} is a page id of the contract`);
        // The suggestion chips are this page's (from the contract when it is served).
        await page.waitForSelector('html[data-ready="1"] #chat[data-ready="1"]', { state: 'attached' });
        const want4 = contract.status === 200 ? (contract.data.suggestions?.[want] || []).slice(0, 4) : null;
        if (want4) await page.waitForFunction((w) => JSON.stringify([...document.querySelectorAll('[data-chat-chips] .chip')].map((c) => c.dataset.chatSay)) === JSON.stringify(w), want4);
        chips[want] = await page.locator('[data-chat-chips] .chip').evaluateAll((cs) => cs.map((c) => c.dataset.chatSay));
      }
      assert.notDeepEqual(chips.dashboard, chips.patients, 'the chips change with the page');
      assert.notDeepEqual(chips.patients, chips['patient-form'], 'the chips change with the page');
      await page.goto(server.url + `/patients/${p.id}`);
      assert.equal(await page.locator('body').getAttribute('data-patient-id'), p.id);
      // The message carries it.
      const captured = capture(page);
      await page.reload();
      await ask(page, 'what do the statuses mean?');
      const body = captured.find((m) => m.message === 'what do the statuses mean?');
      assert.deepEqual(body.context, { page: 'patient', patient_id: p.id });
      await ctx.close();
    });

    test('contract: the panel draws every action type the server may send, and sends only known context keys', async (t) => {
      const contract = await server.api('GET', '/chat/contract');
      if (contract.status !== 200) { t.skip('waiting for server: GET /api/v1/chat/contract'); return; }
      const { ACTION_TYPES } = await import('../src/chat-actions.js');
      for (const type of contract.data.action_types) assert.ok(ACTION_TYPES.includes(type), `the panel draws action type ${type}`);
      // A message from a page with every kind of context: ticked rows and a form error.
      const { ctx, page } = await session(STAFF);
      const captured = capture(page);
      await page.goto(server.url + '/patients?status=active');
      await page.locator('input[name=ids]').first().check();
      await ask(page, 'how many are selected?');
      const sent = captured.find((m) => m.message === 'how many are selected?');
      for (const k of Object.keys(sent)) assert.ok(['message', 'context', 'session'].includes(k), 'request key ' + k);
      for (const k of Object.keys(sent.context)) assert.ok(contract.data.context_keys.includes(k), 'context key ' + k);
      assert.ok(contract.data.pages.includes(sent.context.page));
      assert.equal(sent.context.selection.length, 1);
      assert.equal(await page.locator('.chat-log .msg-error').count(), 0, 'the server accepted the context');
      await ctx.close();
    });

    test('alert frames: a notice in the panel and a badge on the Assistant button', async () => {
      const { ctx, page } = await session(STAFF);
      // The staff user reads a patient; then another user (the admin,
      // through the API) changes its status: a real alert (core/alerts).
      const p = (await server.api('GET', '/patients?status=inactive&limit=1')).data.items[0];
      await page.goto(server.url + '/patients/' + p.id);
      await page.waitForSelector('html[data-ready="1"] #chat[data-ready="1"]', { state: 'attached' });
      await page.waitForFunction(() => document.getElementById('chat').dataset.conn === 'online');
      // An answer on the socket proves the server has subscribed it to the
      // user's alerts (it does so before it reads the first message).
      await ask(page, 'any alerts?');
      await page.getByLabel('Message to the assistant').focus();
      await page.keyboard.press('Escape');
      await page.locator('#chat').waitFor({ state: 'hidden' });
      const r = await server.api('POST', `/patients/${p.id}/status`, { to: 'active', version: p.version });
      assert.equal(r.status, 200, JSON.stringify(r.data));
      await page.locator('[data-chat-badge]').first().waitFor({ timeout: 120_000 });
      assert.ok(Number(await page.locator('[data-chat-badge]').first().textContent()) >= 1);
      await page.keyboard.press('Control+k');
      await page.locator('[data-chat-alerts] li[data-kind="status_changed"]', { hasText: /moved from inactive to active by another user/ }).waitFor();
      assert.ok(await page.locator('[data-chat-badge]').first().isHidden());
      await ctx.close();
    });
  });
}
