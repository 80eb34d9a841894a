// Reading back: event search pages by itself, runs list and get (with the
// audit log and its filters), alerts, and the exports.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FlightrecClient } from "flightrec";
import { startServer, type TestServer } from "./server.js";

const T0 = Date.parse("2026-11-22T09:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

describe("read", () => {
  let server: TestServer;
  let client: FlightrecClient;
  before(async () => {
    server = await startServer();
    client = new FlightrecClient({ apiKey: server.apiKey, server: server.url });
    const events = [];
    for (let i = 0; i < 130; i++) {
      events.push({ runId: "page-run", time: at(i), type: i % 2 ? "tool_call" : "thinking", tool: i % 2 ? "grep" : undefined, content: i % 2 ? undefined : `thought ${i}`, agentId: "pager" });
    }
    await client.recordBatch(events);
    await client.recordBatch([
      { runId: "run-b", time: at(200), type: "start" },
      { runId: "run-c", time: at(300), type: "start" },
      { runId: "run-c", time: at(301), type: "complete" },
    ]);
  });
  after(() => server.cleanup());

  test("events.search walks every page on demand", async () => {
    const pager = client.events.search({ runId: "page-run", limit: 50 });
    const pages = [];
    for await (const page of pager.pages()) pages.push(page.items.length);
    assert.deepEqual(pages, [50, 50, 30]);
    const all = await pager.toArray();
    assert.equal(all.length, 130);
    assert.equal(new Set(all.map((e) => e.id)).size, 130);
    // newest first
    assert.equal(all[0]!.time, "2026-11-22T09:02:09.000000Z");
    const some = await client.events.search({ runId: "page-run", type: "tool_call", limit: 7 }).toArray(10);
    assert.equal(some.length, 10);
    assert.ok(some.every((e) => e.type === "tool_call" && e.agentId === "pager"));
    const none = await client.events.search({ runId: "page-run", status: "fail" }).toArray();
    assert.deepEqual(none, []);
  });

  test("runs.list pages and maps to camelCase", async () => {
    const runs = await client.runs.list({ limit: 2 }).toArray();
    assert.deepEqual(runs.map((r) => r.runId).sort(), ["page-run", "run-b", "run-c"]);
    const c = runs.find((r) => r.runId === "run-c")!;
    assert.equal(c.status, "completed");
    assert.equal(c.eventCount, 2);
    assert.equal(c.firstTime, "2026-11-22T09:05:00.000000Z");
    const completed = await client.runs.list({ status: "completed" }).toArray();
    assert.deepEqual(completed.map((r) => r.runId), ["run-c"]);
  });

  test("runs.get with the audit log, filtered by time and type", async () => {
    const plain = await client.runs.get("page-run");
    assert.equal(plain.eventCount, 130);
    assert.equal(plain.auditLog, undefined);
    const run = await client.runs.get("page-run", {
      include: ["auditLog"],
      auditLog: { from: at(10), to: new Date(T0 + 19_000), types: ["tool_call"] },
    });
    assert.deepEqual(
      run.auditLog!.map((e) => e.time),
      [11, 13, 15, 17, 19].map((s) => at(s).replace("Z", "000Z")),
    );
    assert.equal(run.auditLogNextCursor, null);
    const cut = await client.runs.get("page-run", { include: ["auditLog"], auditLog: { limit: 100 } });
    assert.equal(cut.auditLog!.length, 100);
    assert.ok(cut.auditLogNextCursor);
    const rest = await client.runs.get("page-run", { include: ["auditLog"], auditLog: { limit: 100, cursor: cut.auditLogNextCursor! } });
    assert.equal(rest.auditLog!.length, 30);
    const every = await client.runs.auditLog("page-run", { limit: 40 }).toArray();
    assert.equal(every.length, 130);
    assert.equal(every[0]!.content, "thought 0", "run order, oldest first");
    await assert.rejects(client.runs.get("no-such-run"), { name: "NotFoundError", status: 404 });
  });

  test("alerts: list, get, resolve", async () => {
    const install = await fetch(`${server.url}/v1/compliance-rules/packs`, {
      method: "POST",
      headers: { "x-api-key": server.apiKey, "content-type": "application/json" },
      body: JSON.stringify({ packId: "finance" }),
    });
    assert.equal(install.status, 201);
    const receipt = await client.record({ type: "tool_call", runId: "pay-run", tool: "charge", input: { card: "4111 1111 1111 1111" } });
    const alerts = await client.alerts.list({ runId: "pay-run" }).toArray();
    assert.equal(alerts.length, 1);
    const alert = alerts[0]!;
    assert.equal(alert.ruleId, "finance.credit_card");
    assert.equal(alert.eventId, receipt.id);
    assert.equal(alert.status, "open");
    assert.ok(!alert.excerpt.includes("4111"));
    assert.deepEqual(await client.alerts.get(alert.id), alert);
    const resolved = await client.alerts.resolve(alert.id);
    assert.equal(resolved.status, "resolved");
    assert.deepEqual(await client.alerts.list({ runId: "pay-run", status: "open" }).toArray(), []);
  });

  test("exportAuditLog streams the verifiable jsonl, and the other formats", async () => {
    const jsonl = await client.runs.exportAuditLog("run-c", { format: "jsonl" });
    const lines: string[] = [];
    for await (const line of jsonl.lines()) lines.push(line);
    assert.equal(lines.length, 4, lines.join("\n"));
    const records = lines.slice(0, 2).map((l) => JSON.parse(l));
    assert.deepEqual(records.map((r) => r.header.type), ["start", "complete"]);
    assert.ok(records.every((r) => r.salt && r.body && r.proof), "a run's lines carry inclusion proofs");
    assert.match(JSON.parse(lines[2]!).checkpoint, /^flightrec\.local\/default\n/);
    assert.ok(JSON.parse(lines[3]!).public_key);

    const json = JSON.parse(await (await client.runs.exportAuditLog("run-c", { format: "json" })).text());
    assert.equal(json.run_id, "run-c");
    assert.equal(json.events.length, 2);

    const csv = await (await client.runs.exportAuditLog("run-c", { format: "csv" })).text();
    assert.equal(csv.trim().split("\n").length, 3);

    // chunks, as one would pipe them to a file
    let bytes = 0;
    for await (const chunk of await client.runs.exportAuditLog("page-run")) bytes += chunk.length;
    assert.ok(bytes > 130 * 100);

    const all = await client.events.export({ runId: "run-b" });
    assert.equal(all.format, "jsonl");
    assert.equal((await all.text()).trim().split("\n").length, 3);
    await assert.rejects(client.runs.exportAuditLog("run-c", { format: "pdf" as never }), /format must be one of/);
  });
});
