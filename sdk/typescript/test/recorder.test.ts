// The batching recorder against the real server: batching, retries through
// 503s and lost answers, a server killed and restarted mid-run, refused
// events, a full buffer, and the flush at Node's beforeExit.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { BufferFullError, FlightrecClient, RecorderClosedError, type Receipt, type RecordedEvent } from "flightrec";
import { FaultProxy } from "./proxy.js";
import { startServer, type TestServer } from "./server.js";

const FAST_RETRY = { attempts: 30, initialDelayMs: 50, maxDelayMs: 500 };

async function runEvents(client: FlightrecClient, runId: string): Promise<RecordedEvent[]> {
  return client.runs.auditLog(runId, { limit: 10_000 }).toArray();
}

/** A port nothing listens on: one the OS just gave out and took back. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((ok) => probe.listen(0, "127.0.0.1", ok));
  const port = (probe.address() as AddressInfo).port;
  await new Promise((ok) => probe.close(ok));
  return port;
}

function assertExactlyOnce(events: RecordedEvent[], ids: Iterable<string>): void {
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e.id, (counts.get(e.id) ?? 0) + 1);
  for (const [id, n] of counts) assert.equal(n, 1, `event ${id} is on the server ${n} times`);
  for (const id of ids) assert.equal(counts.get(id), 1, `event ${id} was acknowledged but is not on the server`);
}

describe("recorder", () => {
  let server: TestServer;
  let client: FlightrecClient;
  before(async () => {
    server = await startServer();
    client = new FlightrecClient({ apiKey: server.apiKey, server: server.url });
  });
  after(() => server.cleanup());

  test("batches by size and interval; record() answers the id; flush waits for the server", async () => {
    const batches: Receipt[][] = [];
    const recorder = client.recorder({ batchSize: 100, flushIntervalMs: 50, flushOnExit: false, onDelivered: (r) => batches.push(r) });
    const ids = Array.from({ length: 250 }, (_, i) => recorder.record({ type: "tool_call", runId: "batching", tool: `t${i}` }));
    assert.equal(new Set(ids).size, 250);
    // 50 events left after two full batches: the interval sends them, with no flush asked
    const deadline = performance.now() + 10_000;
    while (recorder.stats().delivered < 250 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(recorder.stats().buffered, 0);
    assert.deepEqual(batches.map((b) => b.length), [100, 100, 50]);
    const report = await recorder.close();
    assert.equal(report.delivered, 250);
    assert.deepEqual(report.undelivered, []);
    const events = await runEvents(client, "batching");
    assertExactlyOnce(events, ids);
    assert.deepEqual(
      events.map((e) => e.id),
      ids,
      "run order follows record order",
    );
    assert.throws(() => recorder.record({ type: "late" }), RecorderClosedError);
  });

  test("a server answering 503 (honouring Retry-After) and then recovering loses nothing", async () => {
    const proxy = await FaultProxy.start(server.url);
    try {
      const viaProxy = new FlightrecClient({ apiKey: server.apiKey, server: proxy.url });
      proxy.inject(
        [{ status: 503, retryAfter: "1" }, { status: 503 }, { status: 429, retryAfter: "0" }, { status: 503 }],
        (m, p) => m === "POST" && p.startsWith("/v1/events/batch"),
      );
      const recorder = viaProxy.recorder({ batchSize: 50, flushIntervalMs: 20, flushOnExit: false, retry: FAST_RETRY });
      const ids = Array.from({ length: 120 }, (_, i) => recorder.log({ action: "tool_call", traceId: "503-run", prompt: { i } }));
      const report = await recorder.flush();
      assert.equal(report.delivered, 120);
      assert.deepEqual(report.rejected, []);
      const posts = proxy.seen.filter((s) => s.method === "POST");
      assert.ok(posts.length >= 7, `${posts.length} batch requests`);
      // the attempt after `Retry-After: 1` came at least a second later
      assert.ok(posts[1]!.at - posts[0]!.at >= 950, `retried after ${posts[1]!.at - posts[0]!.at} ms`);
      assertExactlyOnce(await runEvents(client, "503-run"), ids);
      await recorder.close();

      // a single call retries the same way, and a lost answer does not duplicate it
      proxy.inject([{ status: 503, retryAfter: "0" }, { dropAnswer: true }], (m, p) => m === "POST" && p === "/v1/events");
      const quick = new FlightrecClient({ apiKey: server.apiKey, server: proxy.url, retry: FAST_RETRY });
      const receipt = await quick.log({ action: "tool_call", traceId: "503-single" });
      assertExactlyOnce(await runEvents(client, "503-single"), [receipt.id]);
    } finally {
      await proxy.close();
    }
  });

  test("an answer lost after the server committed is retried without a duplicate", async () => {
    const proxy = await FaultProxy.start(server.url);
    try {
      const viaProxy = new FlightrecClient({ apiKey: server.apiKey, server: proxy.url });
      proxy.inject([{ dropAnswer: true }, { dropAnswer: true }], (m, p) => m === "POST" && p.startsWith("/v1/events/batch"));
      const recorder = viaProxy.recorder({ batchSize: 30, flushOnExit: false, retry: FAST_RETRY });
      const ids = Array.from({ length: 60 }, () => recorder.record({ type: "thinking", runId: "lost-answer", content: "…" }));
      const report = await recorder.close();
      assert.equal(report.delivered, 60);
      const events = await runEvents(client, "lost-answer");
      assert.equal(events.length, 60);
      assertExactlyOnce(events, ids);
    } finally {
      await proxy.close();
    }
  });

  test("a server SIGKILLed and restarted on the same port and data dir while recording", async () => {
    const own = await startServer();
    try {
      const c = new FlightrecClient({ apiKey: own.apiKey, server: own.url });
      const acknowledged = new Set<string>();
      const recorder = c.recorder({
        batchSize: 20,
        flushIntervalMs: 10,
        flushOnExit: false,
        retry: FAST_RETRY,
        onDelivered: (receipts) => receipts.forEach((r) => acknowledged.add(r.id)),
      });
      const recorded: string[] = [];
      let stop = false;
      const producer = (async () => {
        while (!stop) {
          for (let i = 0; i < 10; i++) recorded.push(recorder.record({ type: "tool_call", runId: "crash-run", tool: "t" }));
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await new Promise((r) => setTimeout(r, 600));
      const before = acknowledged.size;
      await own.kill();
      await new Promise((r) => setTimeout(r, 500));
      await own.restart();
      await new Promise((r) => setTimeout(r, 600));
      stop = true;
      await producer;
      const report = await recorder.close();
      assert.ok(before > 0, "some events were acknowledged before the kill");
      assert.deepEqual(report.undelivered, []);
      assert.deepEqual(report.rejected, []);
      assert.equal(report.delivered, recorded.length);
      assert.equal(acknowledged.size, recorded.length);
      const events = await runEvents(c, "crash-run");
      assertExactlyOnce(events, acknowledged);
      assert.equal(events.length, recorded.length);
    } finally {
      await own.cleanup();
    }
  });

  test("events the server refuses for good are reported with its reason; the rest are delivered", async () => {
    const rejectedSeen: string[] = [];
    const recorder = client.recorder({ flushOnExit: false, onRejected: (r) => rejectedSeen.push(...r.map((x) => x.id)) });
    const good1 = recorder.record({ type: "tool_call", runId: "refused" });
    const bad = recorder.record({ type: "tool_call", runId: "refused", status: "great" as never });
    const good2 = recorder.record({ type: "tool_call", runId: "refused" });
    const report = await recorder.close();
    assert.equal(report.delivered, 2);
    assert.equal(report.rejected.length, 1);
    assert.equal(report.rejected[0]!.id, bad);
    assert.equal(report.rejected[0]!.code, "invalid_event");
    assert.match(report.rejected[0]!.reason, /^status: must be one of ok, fail or warn/);
    assert.equal(report.rejected[0]!.event.status, "great");
    assert.deepEqual(rejectedSeen, [bad]);
    assertExactlyOnce(await runEvents(client, "refused"), [good1, good2]);
  });

  test("bounded memory: a full buffer throws (or drops, if asked), and close reports what is undelivered", async () => {
    const away = new FlightrecClient({ apiKey: server.apiKey, server: `http://127.0.0.1:${await closedPort()}`, retry: { attempts: 2, initialDelayMs: 10, maxDelayMs: 10 } });
    const strict = away.recorder({ maxBufferedEvents: 5, batchSize: 100, flushOnExit: false });
    for (let i = 0; i < 5; i++) strict.record({ type: "x" });
    assert.throws(() => strict.record({ type: "x" }), BufferFullError);
    await assert.rejects(strict.flush(), { name: "UnreachableError" });
    const report = await strict.close();
    assert.equal(report.undelivered.length, 5);
    assert.match(report.lastError ?? "", /unreachable/);

    const lossy = away.recorder({ maxBufferedEvents: 5, whenFull: "drop", flushOnExit: false });
    const ids = Array.from({ length: 8 }, () => lossy.record({ type: "x" }));
    const lossyReport = await lossy.close();
    assert.deepEqual(lossyReport.dropped, ids.slice(5));
    assert.equal(lossyReport.droppedCount, 3);
    assert.deepEqual(lossyReport.undelivered.map((u) => u.id), ids.slice(0, 5));

    const bytes = away.recorder({ maxBufferedBytes: 1000, flushOnExit: false });
    bytes.record({ type: "x", content: "a".repeat(600) });
    assert.throws(() => bytes.record({ type: "x", content: "a".repeat(600) }), /buffer is full/);
    await bytes.close();
  });

  test("bounded memory also for what is dropped or refused: the report keeps 10,000 of each and counts the rest", async () => {
    // an agent that goes on recording while the server is away (or its key is wrong) must not grow without bound
    const away = new FlightrecClient({ apiKey: server.apiKey, server: `http://127.0.0.1:${await closedPort()}`, retry: { attempts: 1, initialDelayMs: 10, maxDelayMs: 10 } });
    const lossy = away.recorder({ maxBufferedEvents: 1, whenFull: "drop", flushIntervalMs: 60_000, flushOnExit: false });
    const ids = Array.from({ length: 25_001 }, () => lossy.record({ type: "x" }));
    assert.equal(lossy.stats().dropped, 25_000);
    const report = await lossy.close();
    assert.equal(report.droppedCount, 25_000);
    assert.equal(report.dropped.length, 10_000);
    assert.deepEqual(report.dropped, ids.slice(1, 10_001));

    const badKey = new FlightrecClient({ apiKey: "fr_wrong_key_for_the_report_bound_0123456789", server: server.url });
    const refused = badKey.recorder({ batchSize: 1000, maxBufferedEvents: 20_000, flushOnExit: false });
    for (let i = 0; i < 10_500; i++) refused.record({ type: "x" });
    const refusedReport = await refused.close();
    assert.equal(refusedReport.rejectedCount, 10_500);
    assert.equal(refusedReport.rejected.length, 10_000);
    assert.equal(refused.stats().rejected, 10_500);
  });

  test("under Node, events still buffered at exit are flushed on beforeExit", async () => {
    const script = fileURLToPath(new URL("./exit-child.mjs", import.meta.url));
    writeFileSync(
      script,
      `import { FlightrecClient } from "flightrec";
const client = new FlightrecClient({ apiKey: process.env.K, server: process.env.S });
const recorder = client.recorder({ flushIntervalMs: 60_000 });
for (let i = 0; i < 42; i++) recorder.record({ type: "tool_call", runId: "exit-run" });
`,
    );
    const code = await new Promise<number | null>((ok) => {
      const child = spawn(process.execPath, [script], { env: { ...process.env, K: server.apiKey, S: server.url }, stdio: "inherit" });
      child.on("exit", ok);
    });
    assert.equal(code, 0);
    const run = await client.runs.get("exit-run");
    assert.equal(run.eventCount, 42);
  });
});
