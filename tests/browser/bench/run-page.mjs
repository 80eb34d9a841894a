// Benchmark: the run page of a 5,000-event run in headless Chromium —
// first contentful paint, and when it is usable (the timeline is there and
// the player shows the state at the first event). Medians over
// BENCH_LOADS (default 20) loads, after one to warm the server's caches.
//
//   tests/browser/install && cargo build --release -p flightrec
//   FLIGHTREC_BIN=target/release/flightrec node tests/browser/bench/run-page.mjs

import { openBrowser, signIn, startServer } from '../e2e/server.mjs';

const EVENTS = Number(process.env.BENCH_RUN_EVENTS ?? 5000);
const LOADS = Number(process.env.BENCH_LOADS ?? 20);
const FILES = 50;

function runEvent(i) {
  const path = `src/module_${i % FILES}.rs`;
  const time = new Date(Date.parse('2026-11-22T10:00:00Z') + i * 250).toISOString();
  const base = { run_id: 'bench-run', id: `bench-run-${i}`, time, agent_id: 'bench-agent' };
  if (i < FILES) {
    const content = Array.from({ length: 40 }, (_, l) => `fn f${l}() -> u32 { ${l} }\n`).join('');
    return { ...base, type: 'read_file', input: { path }, output: content };
  }
  switch (i % 4) {
    case 0: return { ...base, type: 'edit_file', input: { path, old_str: `{ ${(i >> 2) % 40} }`, new_str: `{ ${i} }` } };
    case 1: return { ...base, type: 'thinking', content: `step ${i}: next, ${path}` };
    case 2: return { ...base, type: 'tool_call', tool: 'bash', input: { command: `cargo test -p m${i % 7}` } };
    default: return { ...base, type: 'tool_result', tool: 'bash', output: { exit_code: 0 } };
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

const server = await startServer();
try {
  for (let start = 0; start < EVENTS; start += 1000) {
    const batch = Array.from({ length: Math.min(1000, EVENTS - start) }, (_, k) => runEvent(start + k));
    await server.post('/v1/events/batch', batch);
  }
  const { browser, page } = await openBrowser([], { viewport: { width: 1366, height: 900 } });
  await signIn(page, server);

  const url = `${server.base}/runs/bench-run`;
  const load = async () => {
    await page.goto(url, { waitUntil: 'commit' });
    await page.waitForFunction(() => document.querySelector('#run')?.dataset.shown === '0', null, { timeout: 30_000 });
    return page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const paint = performance.getEntriesByName('first-contentful-paint')[0];
      return {
        ttfb: nav.responseStart,
        html: nav.responseEnd,
        bytes: nav.transferSize,
        paint: paint ? paint.startTime : NaN,
        usable: performance.now(),
        steps: document.querySelectorAll('#timeline button.step').length,
      };
    });
  };
  await load();
  const results = [];
  for (let i = 0; i < LOADS; i++) results.push(await load());
  await browser.close();
  const show = (key) => `${median(results.map((r) => r[key])).toFixed(0)} ms (max ${Math.max(...results.map((r) => r[key])).toFixed(0)})`;
  console.log(`run page, ${results[0].steps} events on the timeline, ${(results[0].bytes / 1024).toFixed(0)} KiB of HTML, ${LOADS} loads:`);
  console.log(`  server's first byte:     ${show('ttfb')}`);
  console.log(`  whole page received:     ${show('html')}`);
  console.log(`  first contentful paint:  ${show('paint')}`);
  console.log(`  usable (state shown):    ${show('usable')}`);
} finally {
  server.stop();
}
