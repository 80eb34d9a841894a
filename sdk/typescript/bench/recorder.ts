// Recorder benchmark against a local flightrec (the binary the tests use):
//  1. the cost of one `recorder.log()` on the caller's thread (µs, median and p99);
//  2. throughput: events/s from the first log() until close() has every receipt.
// Run: npm run bench (after `npm run build && npm run build:test`), FLIGHTREC_BIN set.
import { FlightrecClient } from "flightrec";
import { startServer } from "../test/server.js";

const OVERHEAD_CALLS = Number(process.env.BENCH_OVERHEAD_CALLS ?? 100_000);
const THROUGHPUT_EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);

const entry = (i: number) => ({
  action: "llm_call",
  prompt: `What is ${i} + ${i}?`,
  response: `${2 * i}`,
  agentId: "bench-agent",
  traceId: `bench-run-${Math.floor(i / 1000)}`,
  metadata: { model: "m-1", tokens: 42 },
});

const tick = () => new Promise<void>((r) => setImmediate(r));

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

async function main(): Promise<void> {
  const server = await startServer();
  try {
    const client = new FlightrecClient({ apiKey: server.apiKey, server: server.url });

    // 1. per-call overhead: time each log() alone; yield between chunks so the sender drains
    const recorder = client.recorder({ batchSize: 1000, maxBufferedEvents: 50_000, flushOnExit: false });
    for (let i = 0; i < 2000; i++) recorder.log(entry(i)); // warm up the JIT
    await recorder.flush();
    const samples = new Float64Array(OVERHEAD_CALLS);
    const entries = Array.from({ length: 1000 }, (_, i) => entry(i));
    for (let i = 0; i < OVERHEAD_CALLS; i++) {
      const e = entries[i % 1000]!;
      const t0 = process.hrtime.bigint();
      recorder.log(e);
      samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
      if (i % 1000 === 999) {
        await tick();
        while (recorder.stats().buffered > 20_000) await new Promise((r) => setTimeout(r, 5));
      }
    }
    await recorder.close();
    samples.sort();
    const median = percentile(samples, 50);
    const p99 = percentile(samples, 99);

    // 2. throughput: as fast as the recorder takes them, never letting the buffer overflow
    const counted = client.recorder({ batchSize: 1000, maxBufferedEvents: 50_000, flushOnExit: false });
    const started = performance.now();
    for (let i = 0; i < THROUGHPUT_EVENTS; i++) {
      counted.log(entries[i % 1000]!);
      if (i % 1000 === 999) {
        await tick();
        while (counted.stats().buffered > 40_000) await new Promise((r) => setTimeout(r, 2));
      }
    }
    const report = await counted.close();
    const seconds = (performance.now() - started) / 1000;
    if (report.delivered !== THROUGHPUT_EVENTS) throw new Error(`only ${report.delivered} of ${THROUGHPUT_EVENTS} delivered`);

    const result = {
      node: process.version,
      log_overhead_us: { calls: OVERHEAD_CALLS, median: +median.toFixed(2), p99: +p99.toFixed(2) },
      throughput: { events: THROUGHPUT_EVENTS, seconds: +seconds.toFixed(2), events_per_s: Math.round(THROUGHPUT_EVENTS / seconds) },
    };
    console.log(JSON.stringify(result));
    console.log(
      `log() overhead: median ${median.toFixed(2)} µs, p99 ${p99.toFixed(2)} µs over ${OVERHEAD_CALLS} calls; ` +
        `throughput: ${result.throughput.events_per_s} events/s (${THROUGHPUT_EVENTS} events, batches of 1000, all acknowledged)`,
    );
  } finally {
    await server.cleanup();
  }
}

await main();
