// The dashboard, end to end: the real server (demo loaded, plus a few
// seeded records), Debian's Chromium through playwright-core. Every check
// compares what the page shows with what the API answers.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { OWNER, openBrowser, parseCsv, startServer } from './server.mjs';
import { seriousViolations } from './axe.mjs';

const RUN = 'demo-run-fix-pagination';
const XSS = '<script>alert(1)</script>';
const artifacts = new URL('../artifacts/', import.meta.url).pathname;
mkdirSync(artifacts, { recursive: true });

let server;
let browser;
let page;
const problems = [];

const shoot = (name) => page.screenshot({ path: `${artifacts}${name}.png`, fullPage: true });
const rowCount = () => page.locator('#records tr.record').count();
const apiCount = async (query) => (await server.get(`/v1/events?${query}&limit=50`)).events.length;

before(async () => {
  // A master key of the run's own: the settings page turns encryption at
  // rest on and destroys its keys.
  server = await startServer({ env: { FLIGHTREC_MASTER_KEY: randomBytes(32).toString('base64') } });
  const now = Date.now();
  await server.post('/v1/events', {
    type: 'tool_call', tool: 'bash', actor: { type: 'system', id: 'xss-bot' },
    resource: { type: 'document', id: 'doc-xss-1' }, content: XSS, message: '<img src=x id=injected>',
  });
  await server.post('/v1/events', {
    type: 'user_input', time: new Date(now - 3 * 86400_000).toISOString(), message: 'an old request',
    actor: { type: 'human', id: 'u-old', email: 'old@test.invalid' },
  });
  // More than a page of the table.
  await server.post('/v1/events/batch', Array.from({ length: 60 }, (_, i) => ({
    type: 'llm_call', agent_id: 'batch-agent', run_id: 'nightly', verb: 'llm:chat', input: { prompt: `step ${i}` },
  })));
  await server.post('/v1/compliance-rules/packs', { packId: 'gdpr' });
  await server.post('/v1/events', { type: 'tool_result', run_id: 'support-1', output: 'write to jane.doe@example.org' });

  // Any script error, CSP violation or dialog (an injected alert) fails the suite.
  ({ browser, page } = await openBrowser(problems, {
    viewport: { width: 1366, height: 900 },
    acceptDownloads: true,
    expected: (text) => text.includes('status of 4'),
  }));
});

after(async () => {
  await browser?.close();
  server?.stop();
});

describe('the dashboard', () => {
  it('signs in and comes back to the page asked for', async () => {
    await page.goto(`${server.base}/runs`);
    assert.match(page.url(), /\/login\?next=%2Fruns$/);
    assert.deepEqual(await seriousViolations(page), [], 'the sign-in page (axe-core)');
    await shoot('login');
    await page.fill('input[name=email]', OWNER.email);
    await page.fill('input[name=password]', 'wrong password');
    await page.click('button[type=submit]');
    await page.locator('#login .error').waitFor({ state: 'visible' });
    await page.fill('input[name=password]', OWNER.password);
    await page.click('button[type=submit]');
    await page.waitForURL(`${server.base}/runs`);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'fr_session');
    assert.ok(session.httpOnly, 'the session cookie is HttpOnly');
    assert.equal(session.sameSite, 'Strict');
    await shoot('runs');
  });

  it('shows hero cards equal to the API totals', async () => {
    await page.goto(`${server.base}/`);
    const stats = await server.get('/v1/stats?since=24h');
    assert.ok(stats.fail > 0 && stats.warn > 0, 'the demo has failures and warnings');
    assert.equal(await page.textContent('#card-total .value'), String(stats.total));
    assert.equal(await page.textContent('#card-fail .value'), String(stats.fail));
    assert.equal(await page.textContent('#card-warn .value'), String(stats.warn));
    await page.selectOption('select[name=since]', 'all');
    await page.waitForURL(/since=all/);
    const all = await server.get('/v1/stats?since=all');
    assert.equal(await page.textContent('#card-total .value'), String(all.total));
    assert.ok(all.total > stats.total, 'the old record counts only in the wider window');
    await shoot('audit');
  });

  it('charts events over time with the figures of /v1/stats, in a table too', async () => {
    for (const [since, groupBy] of [['24h', 'hour'], ['30d', 'day']]) {
      await page.goto(`${server.base}/?since=${since}`);
      const rows = await page.$$eval('#chart-table tbody tr', (trs) => trs.map((tr) => ({
        key: tr.dataset.key,
        cells: [...tr.querySelectorAll('td')].map((td) => Number(td.textContent)),
      })));
      const stats = await server.get(`/v1/stats?since=${since}&group_by=${groupBy}`);
      const byKey = new Map(rows.map((r) => [r.key, r.cells]));
      for (const g of stats.groups) {
        const [total, ok, warn, fail] = byKey.get(g.key) ?? [];
        assert.deepEqual([total, warn, fail], [g.total, g.warn, g.fail], `${since}: ${g.key}`);
        assert.equal(ok, g.total - g.warn - g.fail);
      }
      // Every other bar is an empty hour or day.
      const counted = rows.reduce((sum, r) => sum + r.cells[0], 0);
      assert.equal(counted, stats.total, `${since}: the bars add up to the window's total`);
      assert.ok(rows.length >= stats.groups.length);
      assert.equal(await page.locator('#chart-over-time svg g.chart-bar').count(), rows.length);
      const caption = await page.textContent('#chart-over-time figcaption');
      assert.match(caption, new RegExp(`Events per ${groupBy} by status`));
    }
    await page.goto(`${server.base}/?since=24h`);
    await page.click('#chart-over-time summary');
    await page.locator('#chart-table').waitFor({ state: 'visible' });
    await shoot('audit-chart');
  });

  it('narrows the rows with each filter, shows a chip, and restores them when it is removed', async () => {
    await page.goto(`${server.base}/`);
    const all = await rowCount();
    assert.equal(all, await apiCount('since=24h'));
    const filters = [
      ['select[name=type]', 'edit_file', 'type=edit_file', 'Action: edit_file'],
      ['select[name=resource_type]', 'api_key', 'resource_type=api_key', 'Resource type: api_key'],
      ['select[name=actor_type]', 'human', 'actor_type=human', 'Actor type: human'],
      ['select[name=origin]', 'flightrec', 'origin=flightrec', 'Origin: flightrec'],
      ['select[name=since]', '7d', 'since=7d', 'When: Last 7 days'],
    ];
    for (const [select, value, query, chip] of filters) {
      await page.selectOption(select, value);
      await page.waitForURL((url) => url.search.includes(query));
      const expected = await apiCount(query.startsWith('since') ? query : `${query}&since=24h`);
      assert.equal(await rowCount(), expected, `rows for ${query}`);
      if (query.startsWith('since')) {
        // Both windows fill a page; the wider one holds more.
        const total = (await server.get(`/v1/stats?${query}`)).total;
        assert.equal(await page.textContent('#card-total .value'), String(total));
        assert.ok(total > (await server.get('/v1/stats?since=24h')).total, `${query} widens the window`);
      } else {
        assert.notEqual(expected, all, `${query} changes the rows`);
      }
      if (query === 'origin=flightrec') {
        // flightrec's own records are marked apart from what clients sent.
        const senders = await page.locator('#records .sender').allTextContents();
        assert.ok(senders.length > 0 && senders.every((s) => s === 'flightrec'), senders.join(','));
      }
      await page.locator('.chip', { hasText: chip }).waitFor();
      await page.click(`.chip:has-text("${chip}") a`);
      await page.waitForURL((url) => !url.search.includes(query));
      assert.equal(await rowCount(), all, `removing ${chip} restores the rows`);
    }
    // Text filters apply on Enter.
    for (const [input, value, query, chip] of [
      ['input[name=actor]', 'admin@example.com', 'actor=admin%40example.com', 'Actor: admin@example.com'],
      ['input[name=q]', 'pagination', 'q=pagination', 'Search: pagination'],
    ]) {
      await page.fill(input, value);
      await page.press(input, 'Enter');
      await page.waitForURL((url) => url.search.includes(query));
      const expected = await apiCount(`${query}&since=24h`);
      assert.equal(await rowCount(), expected, `rows for ${query}`);
      assert.notEqual(expected, all);
      await page.locator('.chip', { hasText: chip }).waitFor();
      if (input.includes('q')) await shoot('audit-filtered');
      await page.click('a.clear');
      await page.waitForURL(`${server.base}/`);
      assert.equal(await rowCount(), all);
    }
  });

  it('moves through rows with j and k and searches with /', async () => {
    await page.goto(`${server.base}/`);
    await page.keyboard.press('j');
    const first = await page.$$eval('#records tr.record', (trs) => trs[0].dataset.seq);
    const focusedSeq = () => page.evaluate(() => document.activeElement.closest('tr.record')?.dataset.seq);
    assert.equal(await focusedSeq(), first);
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    const third = await page.$$eval('#records tr.record', (trs) => trs[2].dataset.seq);
    assert.equal(await focusedSeq(), third);
    await page.keyboard.press('k');
    const second = await page.$$eval('#records tr.record', (trs) => trs[1].dataset.seq);
    assert.equal(await focusedSeq(), second);
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute(`#payload-${second}`, 'hidden'), null, 'Enter opens the row');
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement.name), 'q');
    // Typing in the search box types: j is a letter there.
    await page.keyboard.type('jk');
    assert.equal(await page.inputValue('input[name=q]'), 'jk');
  });

  it('follows the system into dark mode', async () => {
    const background = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto(`${server.base}/`);
    const light = await background();
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await background();
    assert.notEqual(dark, light);
    const [r, g, b] = dark.match(/\d+/g).map(Number);
    assert.ok(r + g + b < 150, `a dark background: ${dark}`);
    await shoot('audit-dark');
    await page.emulateMedia({ colorScheme: 'light' });
  });

  it('opens a row to its whole payload', async () => {
    await page.goto(`${server.base}/?type=key.revoked`);
    const row = page.locator('#records tr.record').first();
    const id = await row.getAttribute('data-id');
    await row.locator('button.expand').click();
    const payload = page.locator('#records tr.payload:not([hidden]) pre.json');
    await payload.waitFor();
    const shown = JSON.parse(await payload.textContent());
    assert.deepEqual(shown, await server.get(`/v1/events/${encodeURIComponent(id)}`));
    assert.ok(shown.metadata.before && shown.metadata.after, 'before and after are there');
    await shoot('audit-expanded');
  });

  it('pages through every record with a cursor', async () => {
    await page.goto(`${server.base}/?since=all`);
    const total = (await server.get('/v1/stats?since=all')).total;
    const seen = new Set();
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 10);
      for (const id of await page.locator('#records tr.record').evaluateAll((rows) => rows.map((r) => r.dataset.id))) seen.add(id);
      if (!(await page.locator('#older').count())) break;
      await Promise.all([page.waitForURL(/cursor=/), page.click('#older')]);
      assert.ok(page.url().includes('since=all'), 'the filters stay on the next page');
    }
    assert.equal(seen.size, total);
  });

  it('exports every matching record as CSV', async () => {
    await page.goto(`${server.base}/?since=all`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const rows = parseCsv(readFileSync(await download.path(), 'utf8'));
    const header = rows.shift();
    assert.ok(header.includes('metadata') && header.includes('id'), `columns: ${header}`);
    const total = (await server.get('/v1/stats?since=all')).total;
    assert.equal(rows.length, total);
    assert.ok(total > 50, 'more than one page of the table');
  });

  it('renders a record full of markup as text', async () => {
    await page.goto(`${server.base}/?q=xss-bot`);
    await page.locator('#records button.expand').first().click();
    const payload = await page.locator('#records tr.payload:not([hidden]) pre.json').textContent();
    assert.ok(payload.includes(XSS), 'the script tag shows as text');
    assert.equal(await page.locator('#injected').count(), 0, 'no element was injected');
    assert.equal(await page.locator('main script').count(), 0);
    await shoot('audit-xss');
  });

  it('plays, pauses, seeks, changes speed and steps through a run', async () => {
    await page.goto(`${server.base}/runs/${RUN}`);
    const shown = () => page.locator('#run').getAttribute('data-shown');
    await page.waitForFunction(() => document.querySelector('#run').dataset.shown === '0');
    await page.selectOption('#speed', '4');
    assert.equal(await page.locator('#run').getAttribute('data-speed'), '4');
    await page.click('#play');
    await page.waitForFunction(() => Number(document.querySelector('#run').dataset.shown) >= 2);
    await page.click('#play');
    assert.equal(await page.getAttribute('#play', 'aria-pressed'), 'false');
    const paused = await shown();
    await page.waitForTimeout(1500);
    assert.equal(await shown(), paused, 'paused means paused');
    // Seek with the scrubber to the time of event 12.
    const offset = await page.locator('button.step[data-index="12"]').getAttribute('data-offset');
    await page.locator('#scrubber').fill(offset);
    await page.waitForFunction(() => document.querySelector('#run').dataset.shown === '12');
    await page.click('#next');
    await page.waitForFunction(() => document.querySelector('#run').dataset.shown === '13');
    await page.click('#prev');
    await page.click('#prev');
    await page.waitForFunction(() => document.querySelector('#run').dataset.shown === '11');
  });

  it('shows, at an event, the file content and diff of GET /v1/runs/{id}/state', async () => {
    const end = await server.get(`/v1/runs/${RUN}/state`);
    const edits = end.changes.filter((c) => c.kind === 'edit' && c.applied && c.diff);
    assert.ok(edits.length > 0, 'the demo edits a file');
    for (const change of edits) {
      await page.click(`button.step[data-index="${change.index}"]`);
      await page.waitForFunction((i) => document.querySelector('#run').dataset.shown === String(i), change.index);
      const state = await server.get(`/v1/runs/${RUN}/state?event=${change.index}`);
      assert.equal(await page.getAttribute('#file-name', 'data-path'), change.path);
      assert.equal(await page.textContent('#file-content'), state.files[change.path].content);
      const last = state.changes.filter((c) => c.path === change.path).at(-1);
      assert.equal(await page.textContent('#file-diff'), last.diff);
      assert.equal(await page.locator('#context > li').count(), state.context.length);
    }
    await shoot('run');
  });

  it('grows a run that is still being written, live', async () => {
    await server.post('/v1/events', { type: 'start', run_id: 'live-1', message: 'live run' });
    await page.goto(`${server.base}/runs/live-1`);
    await page.waitForFunction(() => document.querySelector('#run').dataset.shown === '0');
    await server.post('/v1/events', { type: 'thinking', run_id: 'live-1', content: 'thinking live' });
    await server.post('/v1/events', { type: 'read_file', run_id: 'live-1', input: { path: 'a.txt' }, output: 'hello' });
    await page.waitForFunction(() => document.querySelectorAll('#timeline button.step').length === 3);
    await page.click('button.step[data-index="2"]');
    await page.waitForFunction(() => document.querySelector('#file-content').textContent === 'hello');
    await server.post('/v1/events', { type: 'complete', run_id: 'live-1' });
    await page.waitForFunction(() => document.querySelector('#run-status').textContent === 'completed');
    assert.equal(await page.textContent('#run-count'), '4');
  });

  it('compares two runs that differ, as GET /v1/runs/{id}/compare does', async () => {
    const other = 'demo-run-dependency-upgrade';
    await page.goto(`${server.base}/runs/${RUN}`);
    await page.getByLabel('Compare with run').fill(other);
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.waitForURL(`${server.base}/runs/${RUN}/compare?with=${other}`);
    const api = await server.get(`/v1/runs/${RUN}/compare?with=${other}`);
    assert.ok(api.first_difference !== null, 'the demo runs differ');
    const rows = page.locator('#compare-steps tbody tr');
    assert.equal(await rows.count(), api.steps.length);
    assert.equal(await page.locator('#compare-steps tbody tr.differs').count(), api.steps.filter((r) => r.differs).length);
    // Each row shows the events the API aligned there, or says one run did not take it.
    for (const [i, row] of api.steps.entries()) {
      const cells = rows.nth(i).locator('td');
      for (const [k, side] of [[0, row.a], [1, row.b]]) {
        const text = await cells.nth(k).textContent();
        if (side) assert.ok(text.includes(`#${side.index}`) && text.includes(side.type), `row ${i}: ${text}`);
        else assert.match(text, /not in this run/);
      }
    }
    await page.locator('#compare-summary a').click();
    assert.equal(new URL(page.url()).hash, `#step-${api.first_difference}`);
    const files = await page.locator('#compare-files > li').evaluateAll((lis) => lis.map((li) => [li.querySelector('code').textContent, li.className]));
    assert.deepEqual(files, api.files.map((f) => [f.path, f.outcome.replace('_', '-')]));
    await shoot('compare');
  });

  it('renders the span tree', async () => {
    await page.goto(`${server.base}/runs/${RUN}`);
    await page.click('a:has-text("Trace")');
    await page.waitForURL(`${server.base}/runs/${RUN}/trace`);
    await page.locator('#span-tree').waitFor();
    const tree = await server.get(`/v1/runs/${RUN}/tree`);
    const count = (spans) => spans.reduce((n, s) => n + 1 + count(s.children), 0);
    assert.equal(await page.locator('#span-tree > li').count(), count(tree.spans));
    assert.ok(await page.locator('#span-tree li[data-depth="1"]').count() > 0, 'children are nested');
    await shoot('trace');
  });

  it('checks a record\'s inclusion proof in the browser', async () => {
    const { events } = await server.get('/v1/events?limit=1&type=edit_file');
    await page.goto(`${server.base}/integrity?event=${encodeURIComponent(events[0].id)}`);
    await page.waitForFunction(() => /Verified|Not verified/.test(document.querySelector('#verdict').textContent));
    assert.match(await page.textContent('#verdict'), /^Verified: record \d+ is in the signed log/);
    assert.equal(await page.locator('#steps li.nopass').count(), 0);
    assert.ok(await page.locator('#steps li.pass').count() >= 6);
    await shoot('integrity');
    // A proof tampered with on the way is caught, at the step it breaks.
    await page.route('**/v1/events/*?proof=true', async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      body.proof.hashes[0] = body.proof.hashes[0].replace(/^./, (c) => (c === '0' ? '1' : '0'));
      await route.fulfill({ response, json: body });
    });
    await page.click('#verify button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#verdict').className === 'nopass');
    assert.match(await page.textContent('#steps li.nopass'), /Root matches the signed checkpoint/);
    await page.unroute('**/v1/events/*?proof=true');
    // A record that is not there is not verified.
    await page.fill('input[name=event]', 'no-such-record');
    await page.click('#verify button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#verdict').className === 'nopass');
  });

  it('lists alerts and resolves one', async () => {
    await page.goto(`${server.base}/alerts`);
    const open = (await server.get('/v1/alerts?status=open')).alerts;
    assert.ok(open.length > 0, 'the GDPR pack raised an alert');
    await page.locator('#alerts tbody tr[data-id]').first().waitFor();
    assert.equal(await page.locator('#alerts tbody tr[data-id]').count(), open.length);
    await shoot('alerts');
    const id = await page.locator('#alerts tbody tr[data-id]').first().getAttribute('data-id');
    await page.click(`#alerts tr[data-id="${id}"] button.resolve`);
    await page.waitForFunction((id) => !document.querySelector(`#alerts tr[data-id="${id}"]`), id);
    assert.equal((await server.get(`/v1/alerts/${id}`)).status, 'resolved');
  });

  it('creates an API key, shows it once, and revokes it', async () => {
    await page.goto(`${server.base}/settings`);
    await page.fill('#keys input[name=name]', 'from-the-browser');
    await page.check('#keys input[value=read]');
    await page.click('#keys button[type=submit]');
    await page.locator('#secret').waitFor({ state: 'visible' });
    const secret = await page.textContent('#secret-value');
    assert.match(secret, /^fr_/);
    const row = page.locator('#keys tr', { hasText: 'from-the-browser' });
    await row.waitFor();
    await shoot('settings');
    await row.locator('button:has-text("Revoke")').click();
    await page.locator('#keys tr', { hasText: 'from-the-browser' }).locator('text=revoked').waitFor();
    const keys = (await server.get('/v1/auth/api-keys')).api_keys;
    assert.ok(keys.find((k) => k.name === 'from-the-browser').revoked_at);
    assert.ok(!(await page.content()).includes(secret) || (await page.isVisible('#secret')), 'the secret is only in the once-only box');
  });

  it('adds an agent and a custom rule, and changes a role', async () => {
    await page.goto(`${server.base}/settings`);
    await page.fill('#agents input[name=name]', 'browser-agent');
    await page.click('#agents button[type=submit]');
    await page.locator('#agents td', { hasText: 'browser-agent' }).waitFor();
    await page.fill('#compliance input[name=name]', 'Ticket numbers');
    await page.fill('#compliance input[name=pattern]', '\\bTCK-\\d{4}\\b');
    await page.click('#compliance button[type=submit]');
    await page.locator('#compliance td', { hasText: 'Ticket numbers' }).waitFor();
    const rule = (await server.get('/v1/compliance-rules')).rules.find((r) => r.name === 'Ticket numbers');
    assert.equal(rule.pattern, '\\bTCK-\\d{4}\\b');
    await server.post('/v1/users', { email: 'member@test.invalid', role: 'member', password: 'a long enough password' });
    await page.reload();
    const select = page.locator('#users select[aria-label="Role of member@test.invalid"]');
    await select.selectOption('auditor');
    for (let i = 0; i < 50; i++) {
      const users = (await server.get('/v1/users')).users;
      if (users.find((u) => u.email === 'member@test.invalid').role === 'auditor') break;
      assert.ok(i < 49, 'the role changed');
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  it('sets retention and erases a person\'s records, shown as the API says', async () => {
    await page.goto(`${server.base}/settings`);
    await page.locator('#lifecycle-now', { hasText: 'Bodies are kept' }).waitFor();
    await page.fill('#retention input[name=auditLogRetention]', '400d');
    await page.click('#retention button[type=submit]');
    await page.locator('#lifecycle-now', { hasText: 'kept for 400d' }).waitFor();
    assert.equal((await server.get('/v1/settings')).audit_log_retention, '400d');
    assert.equal(await page.inputValue('#retention input[name=auditLogRetention]'), '400d');
    await page.fill('#retention input[name=auditLogRetention]', 'forever');
    await page.click('#retention button[type=submit]');
    assert.equal((await server.get('/v1/settings')).audit_log_retention, '400d', 'a bad value changes nothing');

    const before = (await server.get('/v1/events?actor=old@test.invalid')).events;
    assert.equal(before.length, 1);
    await page.selectOption('#erasure select[name=kind]', 'actor');
    await page.fill('#erasure input[name=value]', 'old@test.invalid');
    await page.fill('#erasure input[name=reason]', 'asked by the person');
    await page.click('#erasure button[type=submit]');
    await page.locator('#lifecycle tbody[data-list=erasures] tr', { hasText: 'done' }).waitFor({ timeout: 60_000 });
    const row = page.locator('#lifecycle tbody[data-list=erasures] tr', { hasText: 'asked by the person' });
    assert.match(await row.textContent(), /actor.*done\s*1/);
    const [erased] = (await server.get(`/v1/events?type=user_input&q=request&limit=50`)).events
      .filter((e) => e.id === before[0].id);
    assert.equal(erased, undefined, 'no longer found by its words');
    const again = await server.get(`/v1/events/${before[0].id}`);
    assert.equal(again.erased, true);
    assert.equal(again.message, undefined);
    await shoot('settings-lifecycle');
  });

  it('encrypts at rest from the settings, finds what it sealed, and destroys its keys', async () => {
    await page.goto(`${server.base}/settings`);
    await page.locator('#encryption-now', { hasText: 'without encryption' }).waitFor();
    await page.check('#encryption-setting input[name=auditLogEncryption]');
    await page.click('#encryption-setting button[type=submit]');
    await page.locator('#encryption-now', { hasText: 'are encrypted' }).waitFor();
    assert.equal((await server.get('/v1/settings')).audit_log_encryption, true);
    await server.post('/v1/events', { type: 'thinking', run_id: 'sealed-run', content: 'a sealedword thought' });
    for (let i = 0; (await apiCount('q=sealedword')) === 0; i++) {
      assert.ok(i < 100, 'search finds the encrypted body');
      await new Promise((r) => setTimeout(r, 100));
    }
    await shoot('settings-encryption');

    // (The suite's browser accepts every confirmation dialog.)
    await page.fill('#shred input[name=reason]', 'end of the trial');
    await page.fill('#shred input[name=confirm]', 'someone-else');
    await page.click('#shred button[type=submit]');
    await page.locator('#shred .error', { hasText: 'confirm' }).waitFor();
    assert.equal((await server.get('/v1/settings')).audit_log_encryption, true, 'nothing destroyed');
    await page.fill('#shred input[name=confirm]', 'default');
    await page.click('#shred button[type=submit]');
    await page.locator('#encryption-now', { hasText: 'without encryption' }).waitFor();
    const [gone] = (await server.get('/v1/events?run_id=sealed-run')).events;
    assert.equal(gone.erased, true, 'the encrypted body is unreadable');
    assert.equal(gone.content, undefined);
    assert.equal(await apiCount('q=sealedword'), 0);
  });

  it('follows the log live, pauses and resumes', async () => {
    await page.goto(`${server.base}/?type=deploy.live&since=all`);
    await page.locator('#no-records').waitFor();
    assert.equal(await page.locator('#records').isHidden(), true);
    const live = page.locator('#live');
    await live.click();
    assert.equal(await live.getAttribute('aria-pressed'), 'true');
    const ids = () => page.locator('#records tr.record').evaluateAll((rows) => rows.map((r) => r.dataset.id));
    const waitForRows = (n) => page.waitForFunction((n) => document.querySelectorAll('#records tr.record').length === n, n);

    const first = await server.post('/v1/events', { type: 'deploy.live', message: 'first' });
    await server.post('/v1/events', { type: 'something.else', message: 'not shown' });
    await waitForRows(1);
    assert.deepEqual(await ids(), [first.receipt.id]);
    assert.equal(await page.locator('#no-records').count(), 0);
    assert.equal(await page.locator('#records tr.record.new').count(), 1);

    await live.click(); // pause
    assert.equal(await live.textContent(), 'Resume');
    const second = await server.post('/v1/events', { type: 'deploy.live', message: 'second' });
    await page.locator('#live-status', { hasText: 'new records waiting' }).waitFor();
    assert.equal(await page.locator('#records tr.record').count(), 1, 'nothing added while paused');

    await live.click(); // resume
    await waitForRows(2);
    // Newest first, as the API lists them.
    const api = await server.get('/v1/events?type=deploy.live&since=all');
    assert.deepEqual(await ids(), api.events.map((e) => e.id));
    assert.deepEqual(await ids(), [second.receipt.id, first.receipt.id]);
    await shoot('audit-live');
  });

  it('charts alerts over time by severity, as GET /v1/alerts lists them', async () => {
    await page.goto(`${server.base}/alerts`);
    const since = new Date(Date.now() - 30 * 86400_000).toISOString();
    const { alerts } = await server.get(`/v1/alerts?since=${encodeURIComponent(since)}&limit=1000`);
    assert.ok(alerts.length > 0, 'the suite raised alerts');
    const expected = {};
    for (const a of alerts) {
      const day = a.created_at.slice(0, 10);
      expected[day] ??= { low: 0, medium: 0, high: 0, critical: 0 };
      expected[day][a.severity] += 1;
    }
    await page.locator('#chart-over-time summary').click();
    const shown = await page.locator('#chart-table tbody tr').evaluateAll((trs) => trs.map((tr) => [
      tr.dataset.key, [...tr.querySelectorAll('td')].map((td) => Number(td.textContent))]));
    assert.equal(shown.length, 31, 'a bar a day, the empty ones too');
    for (const [day, [total, low, medium, high, critical]] of shown) {
      const want = expected[day] ?? { low: 0, medium: 0, high: 0, critical: 0 };
      assert.deepEqual({ low, medium, high, critical }, want, day);
      assert.equal(total, low + medium + high + critical);
    }
    assert.equal(await page.locator('#chart-over-time svg[role=img]').count(), 1);
    await shoot('alerts-chart');
  });

  it('shows rates and durations per agent with the figures of GET /v1/stats', async () => {
    await page.goto(`${server.base}/stats?by=agent&since=all`);
    const api = await server.get('/v1/stats?group_by=agent&since=all');
    const percent = (rate) => `${(rate * 100).toFixed(1)}%`;
    const shown = await page.locator('#stats-table tbody tr').evaluateAll((trs) => trs.map((tr) => ({
      key: tr.dataset.key,
      total: Number(tr.children[1].textContent),
      rates: [...tr.querySelectorAll('td.rate')].map((td) => [td.querySelector('span').textContent, Number(td.dataset.count)]),
      durations: tr.querySelector('td.durations span').textContent,
    })));
    assert.equal(shown.length, Math.min(api.groups.length, 50));
    const ms = (v) => (v === null ? '—' : v >= 100 ? `${v.toFixed(0)} ms` : `${v.toFixed(1)} ms`);
    for (const [i, group] of api.groups.slice(0, 50).entries()) {
      assert.deepEqual(shown[i], {
        key: group.key ?? '(none)',
        total: group.total,
        rates: [[percent(group.failure_rate), group.fail], [percent(group.block_rate), group.blocked], [percent(group.idempotency_hit_rate), group.idempotency_hits]],
        durations: ['p50', 'p95', 'p99'].map((p) => ms(group.duration_ms[p])).join(' / '),
      });
    }
    assert.equal(await page.locator('#stats-table tfoot td').first().textContent(), String(api.total));
    // A group leads to its records.
    const agent = api.groups.find((g) => g.key !== null).key;
    await page.locator('#stats-table tbody th a', { hasText: agent }).first().click();
    await page.waitForURL((url) => url.pathname === '/' && url.searchParams.get('agent_id') === agent);
    // Choosing another dimension applies at once.
    await page.goto(`${server.base}/stats`);
    await page.getByLabel('Per').selectOption('verb');
    await page.waitForURL((url) => url.searchParams.get('by') === 'verb');
    await shoot('stats');
  });

  it('requests a report, watches it being built, and downloads it', async () => {
    await page.goto(`${server.base}/reports`);
    await page.locator('#reports-status', { hasText: /No reports yet|\d+ report/ }).waitFor();
    const before = (await server.get('/v1/reports')).reports.length;
    await page.locator('#report-request select[name=type]').selectOption('compliance_summary');
    await page.locator('#report-request select[name=format]').selectOption('pdf');
    await page.getByRole('button', { name: 'Request' }).click();
    const ready = page.locator('#reports tbody tr[data-status="ready"]');
    await ready.first().waitFor({ timeout: 60_000 });
    const jobs = (await server.get('/v1/reports')).reports;
    assert.equal(jobs.length, before + 1);
    assert.equal(await page.locator('#reports tbody tr').count(), jobs.length);
    assert.equal(await ready.first().getAttribute('data-id'), jobs[0].id);
    assert.match(await ready.first().textContent(), new RegExp(`checkpoint of ${jobs[0].basis.checkpoint.size} records`));
    const [download] = await Promise.all([page.waitForEvent('download'), ready.first().locator('a.download').click()]);
    assert.equal(download.suggestedFilename(), `flightrec-compliance_summary-${jobs[0].id}.pdf`);
    const file = readFileSync(await download.path());
    assert.equal(file.subarray(0, 5).toString(), '%PDF-');
    await shoot('reports');
  });

  it('makes the log public from the settings, and the trust page says how to check it offline', async () => {
    await page.goto(`${server.base}/settings`);
    const now = page.locator('#public-log-now');
    await now.filter({ hasText: 'Private' }).waitFor();
    assert.equal((await fetch(`${server.base}/logs/default/checkpoint`)).status, 404, 'private: not served');
    await page.locator('#public-log-setting input[name=publicLog]').check();
    await page.locator('#public-log-setting button[type=submit]').click();
    await now.filter({ hasText: 'Public' }).waitFor();
    const open = await fetch(`${server.base}/logs/default/checkpoint`);
    assert.equal(open.status, 200, 'public: served without a key');
    assert.equal((await server.get('/v1/settings')).public_log, true);

    await page.goto(`${server.base}/integrity`);
    assert.match(await page.locator('#witnesses').textContent(), /No witness is configured/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#trust-file').click()]);
    const trust = readFileSync(await download.path(), 'utf8');
    const key = (await server.get('/v1/log/public-key')) ?? '';
    assert.ok(trust.includes(String(key).trim()), `the trust file holds the log's key:\n${trust}`);
    await shoot('integrity');
  });

  it('has no serious or critical accessibility violation on any page, light or dark (axe-core)', async () => {
    const event = (await server.get('/v1/events?limit=1')).events[0];
    const pages = [
      '/', '/?status=fail&since=all', `/events/${event.id}`, '/runs', `/runs/${RUN}`, `/runs/${RUN}/trace`,
      `/runs/${RUN}/compare?with=demo-run-dependency-upgrade`, '/stats', '/alerts', '/reports', '/integrity', '/settings', '/connect',
    ];
    const found = [];
    for (const colorScheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme });
      for (const path of pages) {
        await page.goto(`${server.base}${path}`);
        await page.waitForLoadState('networkidle');
        for (const v of await seriousViolations(page)) found.push({ path, colorScheme, ...v });
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    assert.deepEqual(found, []);
  });

  it('fits 1280×720 and a tablet (768×1024) without scrolling sideways', async () => {
    const event = (await server.get('/v1/events?limit=1')).events[0];
    const pages = ['/', `/events/${event.id}`, '/runs', `/runs/${RUN}`, `/runs/${RUN}/trace`,
      `/runs/${RUN}/compare?with=demo-run-dependency-upgrade`, '/stats', '/alerts', '/reports', '/integrity', '/settings', '/connect'];
    const wide = [];
    for (const viewport of [{ width: 1280, height: 720 }, { width: 768, height: 1024 }]) {
      await page.setViewportSize(viewport);
      for (const path of pages) {
        await page.goto(`${server.base}${path}`);
        await page.waitForLoadState('networkidle');
        const { scroll, client } = await page.evaluate(() => ({
          scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth,
        }));
        if (scroll > client) {
          // Name what sticks out, to say where to look.
          const culprit = await page.evaluate((client) => {
            const out = [...document.querySelectorAll('main *')].filter((el) => el.getBoundingClientRect().right > client + 1);
            const el = out[out.length - 1];
            return el ? `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className}: ${el.textContent.slice(0, 60)}` : '?';
          }, client);
          wide.push(`${path} at ${viewport.width}: ${scroll} px wide (${culprit})`);
        }
        if (path === '/') await shoot(`audit-${viewport.width}`);
      }
    }
    await page.setViewportSize({ width: 1366, height: 900 });
    assert.deepEqual(wide, []);
  });

  it('signs out', async () => {
    await page.goto(`${server.base}/login`);
    assert.equal(page.url(), `${server.base}/`, 'signed in, the sign-in page goes straight on');
    await page.click('button:has-text("Sign out")');
    await page.waitForURL(`${server.base}/login`);
    await page.goto(`${server.base}/settings`);
    assert.match(page.url(), /\/login\?next=%2Fsettings$/);
  });

  it('had no script errors, CSP violations or dialogs', () => {
    assert.deepEqual(problems, []);
  });
});
