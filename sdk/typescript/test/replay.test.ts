// The replay cursor against the real server: pacing checked against the
// recorded gaps, every control, and state equal to the server's own
// `GET /v1/runs/{id}/state`.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FlightrecClient, type ReplayEvent, type RunState } from "flightrec";
import { startServer, type TestServer } from "./server.js";

const T0 = Date.parse("2026-11-22T10:00:00.000Z");
// offsets (ms) of the run's events from T0
const OFFSETS = [0, 300, 900, 1000, 1400, 1400, 1700, 2500];
const TOLERANCE_MS = 100;

const at = (ms: number) => new Date(T0 + ms).toISOString();

function runEvents(runId: string) {
  const types = ["start", "read_file", "user_input", "edit_file", "tool_call", "write_file", "thinking", "complete"];
  return OFFSETS.map((ms, i) => {
    const base = { runId, time: at(ms), type: types[i]! };
    switch (types[i]) {
      case "read_file":
        return { ...base, input: { path: "src/sum.rs" }, output: "fn total(n: u32) -> u32 {\n    (0..n).sum()\n}\n" };
      case "user_input":
        return { ...base, content: "the total is off by one" };
      case "edit_file":
        return { ...base, input: { path: "src/sum.rs", old_str: "(0..n)", new_str: "(0..=n)" } };
      case "tool_call":
        return { ...base, tool: "bash", input: { cmd: "cargo test" }, output: "ok" };
      case "write_file":
        return { ...base, input: { path: "NOTES.md", content: "fixed\n" } };
      case "thinking":
        return { ...base, content: "done" };
      default:
        return base;
    }
  });
}

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
function keysToSnake(o: unknown): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o as Record<string, unknown>).map(([k, v]) => [snake(k), v]));
}
/** The SDK's state turned back into the server's JSON, to compare with what the server answers. */
function stateToWire(s: RunState): Record<string, unknown> {
  const top = keysToSnake(s);
  top.files = Object.fromEntries(Object.entries(s.files).map(([path, f]) => [path, keysToSnake(f)]));
  for (const list of ["context", "changes", "problems"] as const) top[list] = (s[list] as unknown[]).map(keysToSnake);
  return top;
}

describe("replay", () => {
  let server: TestServer;
  let client: FlightrecClient;
  before(async () => {
    server = await startServer();
    client = new FlightrecClient({ apiKey: server.apiKey, server: server.url });
    await client.recordBatch(runEvents("fix-1"));
  });
  after(() => server.cleanup());

  async function serverState(runId: string, query: string): Promise<unknown> {
    const r = await fetch(`${server.url}/v1/runs/${runId}/state?${query}`, { headers: { "x-api-key": server.apiKey } });
    assert.equal(r.status, 200);
    return r.json();
  }

  test("events come in run order, each after its recorded gap over the speed", async () => {
    const speed = 2;
    const replay = await client.runs.replay("fix-1", { speed });
    const seen: Array<{ e: ReplayEvent; at: number }> = [];
    for await (const e of replay) seen.push({ e, at: performance.now() });
    assert.deepEqual(seen.map((s) => s.e.index), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(seen[1]!.e.type, "read_file");
    assert.equal(seen[1]!.e.runId, "fix-1");
    for (let i = 1; i < seen.length; i++) {
      const expected = (OFFSETS[i]! - OFFSETS[i - 1]!) / speed;
      const actual = seen[i]!.at - seen[i - 1]!.at;
      assert.ok(Math.abs(actual - expected) <= TOLERANCE_MS, `gap ${i}: ${actual.toFixed(0)} ms, recorded ${expected} ms`);
    }
    assert.deepEqual(replay.end, { events: 8, reason: "completed" });
  });

  test("maxGapMs caps a long gap", async () => {
    const replay = await client.runs.replay("fix-1", { speed: 1, fromEvent: 6, maxGapMs: 200 });
    const times: number[] = [];
    for await (const _ of replay) times.push(performance.now());
    assert.equal(times.length, 2);
    assert.ok(Math.abs(times[1]! - times[0]! - 200) <= TOLERANCE_MS, `${times[1]! - times[0]!} ms`);
  });

  test("pause and resume: the time paused is added, not lost", async () => {
    const replay = await client.runs.replay("fix-1", { speed: 1 });
    const it = replay[Symbol.asyncIterator]();
    const first = await it.next();
    assert.equal(first.value?.index, 0);
    const t0 = performance.now();
    replay.pause();
    assert.equal(replay.paused, true);
    setTimeout(() => replay.resume(), 500);
    const second = await it.next();
    const waited = performance.now() - t0;
    assert.equal(second.value?.index, 1);
    // 300 ms recorded gap + 500 ms paused
    assert.ok(Math.abs(waited - 800) <= TOLERANCE_MS, `waited ${waited.toFixed(0)} ms`);
    replay.close();
    assert.equal((await it.next()).done, true);
  });

  test("step shows the next event at once while paused, and stays paused", async () => {
    const replay = await client.runs.replay("fix-1", { speed: 1 });
    const it = replay[Symbol.asyncIterator]();
    await it.next();
    replay.pause();
    const t0 = performance.now();
    replay.step();
    const next = await it.next();
    assert.equal(next.value?.index, 1);
    assert.ok(performance.now() - t0 < TOLERANCE_MS);
    assert.equal(replay.paused, true);
    replay.close();
  });

  test("setSpeed acts on the next gap", async () => {
    const replay = await client.runs.replay("fix-1", { speed: 1, fromEvent: 1 });
    const it = replay[Symbol.asyncIterator]();
    await it.next(); // event 1
    replay.setSpeed(4);
    assert.equal(replay.speed, 4);
    const t0 = performance.now();
    await it.next(); // event 2: 600 ms recorded → 150 ms
    const waited = performance.now() - t0;
    assert.ok(Math.abs(waited - 150) <= TOLERANCE_MS, `waited ${waited.toFixed(0)} ms`);
    assert.throws(() => replay.setSpeed(0), /speed is above 0/);
    replay.close();
  });

  test("seekToEvent and seekTo jump; position follows", async () => {
    const replay = await client.runs.replay("fix-1", { speed: 1000 });
    const it = replay[Symbol.asyncIterator]();
    assert.equal((await it.next()).value?.index, 0);
    replay.seekToEvent(5);
    const fifth = await it.next();
    assert.equal(fifth.value?.index, 5);
    assert.equal(fifth.value?.type, "write_file");
    assert.equal(replay.position, 6);
    // the first event after 10:00:00.950 is event 3 (at 1.000 s)
    assert.equal(await replay.seekTo(new Date(T0 + 950)), 3);
    assert.equal((await it.next()).value?.index, 3);
    // back to the start
    replay.seekToEvent(0);
    assert.equal((await it.next()).value?.index, 0);
    replay.close();
  });

  test("getStateAt(n) equals the server's state at event n, for every n", async () => {
    const replay = await client.runs.replay("fix-1");
    for (let n = 0; n < OFFSETS.length; n++) {
      const state = await replay.getStateAt(n);
      assert.deepEqual(stateToWire(state), await serverState("fix-1", `event=${n}`), `state at event ${n}`);
    }
    const afterEdit = await replay.getStateAt(3);
    assert.equal(afterEdit.files["src/sum.rs"]?.content, "fn total(n: u32) -> u32 {\n    (0..=n).sum()\n}\n");
    assert.equal(afterEdit.lastIndex, 3);
    const byTime = await replay.getStateAt(new Date(T0 + 1000));
    assert.deepEqual(stateToWire(byTime), await serverState("fix-1", `at=${encodeURIComponent(at(1000))}`));
    assert.equal(byTime.events, 4);
    await assert.rejects(replay.getStateAt(99), { status: 400 });
    replay.close();
  });

  test("state() follows the cursor", async () => {
    const replay = await client.runs.replay("fix-1", { speed: 1000 });
    assert.equal((await replay.state()).status, "not_started");
    const it = replay[Symbol.asyncIterator]();
    await it.next();
    await it.next();
    const state = await replay.state();
    assert.equal(state.events, 2);
    assert.deepEqual(stateToWire(state), await serverState("fix-1", "event=1"));
    replay.close();
  });

  test("a live run is followed until it completes", async () => {
    await client.record({ type: "start", runId: "live-1" });
    const replay = await client.runs.replay("live-1", { speed: 1000 });
    const types: string[] = [];
    const reading = (async () => {
      for await (const e of replay) types.push(e.type);
    })();
    await new Promise((r) => setTimeout(r, 300));
    await client.record({ type: "thinking", runId: "live-1", content: "still here" });
    await client.record({ type: "complete", runId: "live-1" });
    await reading;
    assert.deepEqual(types, ["start", "thinking", "complete"]);
    assert.equal(replay.end?.reason, "completed");
  });

  test("a stream cut by a server restart is reopened where it stopped", async () => {
    const own = await startServer();
    try {
      const c = new FlightrecClient({ apiKey: own.apiKey, server: own.url, retry: { attempts: 40, initialDelayMs: 50, maxDelayMs: 500 } });
      await c.recordBatch([{ type: "start", runId: "cut-1" }, { type: "thinking", runId: "cut-1", content: "one" }]);
      const replay = await c.runs.replay("cut-1", { speed: 1000 });
      const seen: number[] = [];
      const reading = (async () => {
        for await (const e of replay) seen.push(e.index);
      })();
      const deadline = performance.now() + 10_000;
      while (seen.length < 2 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(seen, [0, 1]);
      await own.kill();
      await own.restart();
      await c.recordBatch([{ type: "thinking", runId: "cut-1", content: "two" }, { type: "complete", runId: "cut-1" }]);
      await reading;
      assert.deepEqual(seen, [0, 1, 2, 3]);
      assert.equal(replay.end?.reason, "completed");
    } finally {
      await own.cleanup();
    }
  });

  test("an unknown run fails at replay(), not mid-loop", async () => {
    await assert.rejects(client.runs.replay("no-such-run"), { name: "NotFoundError" });
  });
});
