// Recording through the client: one event, the agent-audit shape, a batch,
// an invalid batch refused whole, and a bad key refused without showing it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { inspect } from "node:util";
import { ApiError, AuthenticationError, ConfigError, FlightrecClient, uuidv7 } from "flightrec";
import { startServer, type TestServer } from "./server.js";

describe("record", () => {
  let server: TestServer;
  let client: FlightrecClient;
  before(async () => {
    server = await startServer();
    client = new FlightrecClient({ apiKey: server.apiKey, server: server.url });
  });
  after(() => server.cleanup());

  test("one canonical event, camelCase in, camelCase out", async () => {
    const receipt = await client.record({ type: "tool_call", runId: "rec-1", tool: "bash", input: { cmd: "ls" }, durationMs: 12 });
    assert.match(receipt.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(typeof receipt.seq, "number");
    assert.match(receipt.leafHash, /^[0-9a-f]{64}$/);
    const stored = await client.events.get(receipt.id);
    assert.equal(stored.runId, "rec-1");
    assert.equal(stored.durationMs, 12);
    assert.deepEqual(stored.input, { cmd: "ls" });
    assert.equal(stored.seq, receipt.seq);
  });

  test("log() in the agent-audit shape", async () => {
    const receipt = await client.log({
      action: "llm_call",
      prompt: "What is 2+2?",
      response: "4",
      agentId: "math-bot",
      traceId: "rec-2",
      parentSpanId: "span-0",
      metadata: { model: "m-1", nested_key: { keep_me: 1 } },
    });
    const e = await client.events.get(receipt.id);
    assert.equal(e.type, "llm_call");
    assert.equal(e.input, "What is 2+2?");
    assert.equal(e.output, "4");
    assert.equal(e.agentId, "math-bot");
    assert.equal(e.runId, "rec-2");
    assert.equal(e.parentSpanId, "span-0");
    // user data keeps its own key names
    assert.deepEqual(e.metadata, { model: "m-1", nested_key: { keep_me: 1 } });
  });

  test("the same id twice is recorded once", async () => {
    const id = uuidv7();
    const a = await client.record({ id, type: "thinking", content: "hm" });
    const b = await client.record({ id, type: "thinking", content: "hm" });
    assert.deepEqual(a, b);
  });

  test("a batch gets receipts in order with consecutive seqs", async () => {
    const events = Array.from({ length: 25 }, (_, i) => ({ type: "tool_call", runId: "rec-batch", tool: `t${i}` }));
    const receipts = await client.recordBatch(events);
    assert.equal(receipts.length, 25);
    for (let i = 1; i < receipts.length; i++) assert.equal(receipts[i]!.seq, receipts[0]!.seq + i);
    const run = await client.runs.get("rec-batch");
    assert.equal(run.eventCount, 25);
  });

  test("an invalid event refuses the whole batch, naming its index", async () => {
    await assert.rejects(
      client.recordBatch([
        { type: "tool_call", runId: "rec-bad" },
        { type: "tool_call", runId: "rec-bad", status: "great" as never },
      ]),
      (e: unknown) => {
        assert.ok(e instanceof ApiError);
        assert.equal(e.status, 400);
        assert.equal(e.code, "invalid_event");
        assert.equal(e.details[0]?.index, 1);
        assert.equal(e.details[0]?.field, "status");
        return true;
      },
    );
    await assert.rejects(client.runs.get("rec-bad"), { name: "NotFoundError" });
  });

  test("a bad key gives a clear error that does not contain the key", async () => {
    const secret = "fr_this_key_is_wrong_0123456789abcdef0123";
    const bad = new FlightrecClient({ apiKey: secret, server: server.url });
    for (const call of [() => bad.log({ action: "x" }), () => bad.runs.list().toArray()]) {
      await assert.rejects(call(), (e: unknown) => {
        assert.ok(e instanceof AuthenticationError, String(e));
        assert.equal(e.status, 401);
        assert.match(e.message, /refused the API key/);
        assert.ok(!e.message.includes(secret));
        assert.ok(!inspect(e).includes(secret));
        return true;
      });
    }
    // the recorder sets the events aside as refused, with the same reason
    const recorder = bad.recorder({ flushOnExit: false });
    const id = recorder.log({ action: "x" });
    const report = await recorder.close();
    assert.equal(report.delivered, 0);
    assert.equal(report.rejected.length, 1);
    assert.equal(report.rejected[0]!.id, id);
    assert.equal(report.rejected[0]!.status, 401);
    assert.match(report.rejected[0]!.reason, /refused the API key/);
    assert.ok(!JSON.stringify(report).includes(secret));
    assert.ok(!inspect(recorder).includes(secret));
    assert.ok(!inspect(bad).includes(secret));
    assert.ok(!JSON.stringify(bad).includes(secret));
  });

  test("the server's aliases execution_id and timestamp are sent as given, never beside a canonical id or time", async () => {
    // docs/api.md: an event holding both an alias and its canonical name is refused
    const when = "2026-01-02T03:04:05.000000Z";
    const one = await client.record({ type: "thinking", runId: "rec-alias", execution_id: "alias-client-1", timestamp: when });
    assert.equal(one.id, "alias-client-1");
    const [two] = await client.recordBatch([{ type: "thinking", runId: "rec-alias", execution_id: "alias-client-2" }]);
    assert.equal(two!.id, "alias-client-2");

    const recorder = client.recorder();
    const a = recorder.record({ type: "thinking", runId: "rec-alias", execution_id: "alias-rec-1" });
    const b = recorder.record({ type: "thinking", runId: "rec-alias", timestamp: when });
    assert.equal(a, "alias-rec-1");
    const report = await recorder.close();
    assert.deepEqual(report.rejected.map((r) => r.reason), []);
    assert.equal(report.delivered, 2);
    assert.equal((await client.events.get(b)).time, when);
    assert.equal((await client.events.get("alias-client-1")).time, when);
  });

  test("missing configuration is a clear error", async () => {
    assert.throws(() => new FlightrecClient({ apiKey: "fr_x", server: "" }), ConfigError);
    assert.throws(() => new FlightrecClient({ server: "http://x", apiKey: "" }), /no API key/);
    await assert.rejects(client.log({} as never), /needs `action`/);
    assert.throws(() => client.recorder({ batchSize: 0 }), /batchSize must be a number above 0/);
  });
});
