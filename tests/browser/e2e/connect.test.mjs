// Connect an agent, end to end: a store without the demo, so the tenant
// has recorded nothing yet. The audit log sends the owner to the connect
// page; its snippets carry the server's URL; a snippet copies; the page
// notices the first event a client sends.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { OWNER, openBrowser, startServer } from './server.mjs';

const artifacts = new URL('../artifacts/', import.meta.url).pathname;
mkdirSync(artifacts, { recursive: true });

let server;
let browser;
let page;
const problems = [];

before(async () => {
  server = await startServer({ demo: false });
  let context;
  ({ browser, context, page } = await openBrowser(problems, { viewport: { width: 1280, height: 720 } }));
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base });
});

after(async () => {
  await browser?.close();
  server?.stop();
});

describe('connecting an agent', () => {
  it('is where a tenant that has recorded nothing lands', async () => {
    await page.goto(`${server.base}/login`);
    await page.fill('input[name=email]', OWNER.email);
    await page.fill('input[name=password]', OWNER.password);
    await page.click('button[type=submit]');
    await page.waitForURL(`${server.base}/connect`);
    assert.match(await page.textContent('#first-event'), /Waiting for the first event/);
    // The log itself stays one filter away.
    await page.goto(`${server.base}/?since=24h`);
    assert.equal(new URL(page.url()).pathname, '/');
  });

  it('fills every snippet with this server\'s URL and copies one', async () => {
    await page.goto(`${server.base}/connect`);
    for (const id of ['otlp', 'python-setup', 'typescript', 'mcp', 'curl']) {
      const text = await page.textContent(`#snippet-${id}`);
      assert.ok(text.includes(server.base), `${id}: ${text}`);
    }
    assert.match(await page.textContent('#snippet-otlp'), /OTEL_EXPORTER_OTLP_ENDPOINT=http:\/\/127\.0\.0\.1:\d+\n/);
    await page.click('button[data-copy=snippet-curl]');
    await page.locator('button[data-copy=snippet-curl]:has-text("Copied")').waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(copied, await page.textContent('#snippet-curl'));
    await page.screenshot({ path: `${artifacts}connect.png`, fullPage: true });
  });

  it('notices the first event a client sends', async () => {
    await page.goto(`${server.base}/connect`);
    // The curl snippet's own event, sent as an agent would.
    await server.post('/v1/events', {
      type: 'tool_call', run_id: 'first-run', agent_id: 'my-agent', tool: 'bash', status: 'ok',
    });
    const status = page.locator('#first-event.arrived');
    await status.waitFor({ timeout: 10_000 });
    const text = await status.textContent();
    assert.match(text, /First event received: tool_call from my-agent/);
    await page.click('#first-event a:has-text("see the audit log")');
    await page.waitForURL(/\/\?origin=client$/);
    assert.equal(await page.locator('#records tr.record').count(), 1);
    // Recording has begun: the audit log no longer sends anyone away.
    await page.goto(`${server.base}/`);
    assert.equal(new URL(page.url()).pathname, '/');
    await page.screenshot({ path: `${artifacts}connect-arrived.png`, fullPage: true });
  });

  it('had no script errors, CSP violations or dialogs', () => {
    assert.deepEqual(problems, []);
  });
});
