// Benchmark: the audit log's first page (`/`, its cards, the chart of the
// window and 50 rows) over BENCH_RECORDS (default 1,000,000) records
// spread over 30 days, in headless Chromium: the server's first byte and
// the first contentful paint, for the default 24-hour view and for the
// last 30 days. Medians over BENCH_LOADS (default 20) loads, after one to
// warm the server's caches.
//
//   tests/browser/install && cargo build --release -p flightrec
//   FLIGHTREC_BIN=target/release/flightrec node tests/browser/bench/audit-page.mjs

import { openBrowser, signIn, startServer } from '../e2e/server.mjs';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 1_000_000);
const LOADS = Number(process.env.BENCH_LOADS ?? 20);
const SPAN_MS = 30 * 86400_000;
const TYPES = ['llm_call', 'tool_call', 'tool_result', 'thinking', 'read_file', 'edit_file'];
const FILLER = 'the agent looked at the failing test and the module it covers; '.repeat(12);

// About a kilobyte each, the newest now and the oldest 30 days ago.
function event(i, now) {
  return {
    type: TYPES[i % TYPES.length],
    time: new Date(now - (SPAN_MS * (RECORDS - 1 - i)) / RECORDS).toISOString(),
    status: i % 50 === 0 ? 'fail' : i % 23 === 0 ? 'warn' : 'ok',
    agent_id: `agent-${i % 20}`,
    run_id: `run-${Math.floor(i / 500)}`,
    verb: i % 2 ? 'llm:chat' : 'fs:read_file',
    duration_ms: (i * 37) % 5000,
    content: `step ${i}: ${FILLER}`,
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

const server = await startServer();
try {
  const now = Date.now();
  const started = performance.now();
  const senders = Array.from({ length: 4 }, async (_, s) => {
    for (let start = s * 1000; start < RECORDS; start += 4000) {
      const batch = Array.from({ length: Math.min(1000, RECORDS - start) }, (_, k) => event(start + k, now));
      await server.post('/v1/events/batch', batch);
    }
  });
  await Promise.all(senders);
  console.log(`filled the log with ${RECORDS} records in ${((performance.now() - started) / 1000).toFixed(0)} s`);

  const { browser, page } = await openBrowser([], { viewport: { width: 1366, height: 900 } });
  await signIn(page, server);

  for (const [view, query] of [['last 24 hours (the default)', ''], ['last 30 days', '?since=30d']]) {
    const load = async () => {
      await page.goto(`${server.base}/${query}`, { waitUntil: 'load' });
      // Chromium reports the paint a moment after it happens.
      await page.waitForFunction(() => performance.getEntriesByName('first-contentful-paint').length > 0, null, { timeout: 10_000 });
      return page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation')[0];
        const paint = performance.getEntriesByName('first-contentful-paint')[0];
        return {
          ttfb: nav.responseStart,
          html: nav.responseEnd,
          paint: paint ? paint.startTime : NaN,
          bars: document.querySelectorAll('#chart-over-time g.chart-bar').length,
          rows: document.querySelectorAll('#records tr.record').length,
        };
      });
    };
    await load();
    const results = [];
    for (let i = 0; i < LOADS; i++) results.push(await load());
    const show = (key) => `${median(results.map((r) => r[key])).toFixed(0)} ms (max ${Math.max(...results.map((r) => r[key])).toFixed(0)})`;
    console.log(`audit page, ${view}: ${results[0].bars} bars, ${results[0].rows} rows, ${LOADS} loads`);
    console.log(`  server's first byte:     ${show('ttfb')}`);
    console.log(`  whole page received:     ${show('html')}`);
    console.log(`  first contentful paint:  ${show('paint')}`);
  }
  await browser.close();
} finally {
  server.stop();
}
