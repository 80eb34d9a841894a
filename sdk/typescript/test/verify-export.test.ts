// Verifying real exports of the real server (unfiltered and filtered, whole
// text and streamed), and rejecting tampered ones, each with its reason and
// the line it is on.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FlightrecClient, splitLines, verifyExport, VerificationError, verify, type VerificationFailure } from "flightrec";
import { startServer, type TestServer } from "./server.js";
import { api, flipChar, getText, ingest, lineOfSeq, linesOf, replaceIn, trustOf, withLine } from "./verify-support.js";

/** Events whose bodies exercise JCS: key order by UTF-16, numbers, escapes, non-ASCII. */
function trickyEvents(run: string, n: number): object[] {
  return Array.from({ length: n }, (_, i) => ({
    type: i === 0 ? "start" : i === n - 1 ? "complete" : "tool_call",
    run_id: run,
    tool: "bash",
    input: {
      cmd: `echo ${i}`,
      "\u20ac": "euro",
      "\r": "cr",
      "\ud83d\ude00": "emoji",
      "\u00f6": ["ö", "\u2028", "tab\there", 'quote"back\\slash', "</script>"],
      numbers: [0, -0.5, 1e21, 1e-7, 0.1 + 0.2, 333333333.33333329, 2 ** 53, i],
      nested: { z: null, a: true, m: { b: [], a: {} } },
    },
    output: { ok: i % 3 !== 0, text: "x".repeat(i * 7) },
    metadata: { i },
  }));
}

async function rejects(lines: string[] | string, trust: string[], code: VerificationFailure, where: { line?: number; seq?: number; message?: RegExp }): Promise<VerificationError> {
  try {
    await verifyExport(typeof lines === "string" ? lines : lines.join("\n") + "\n", { trust });
  } catch (e) {
    assert.ok(e instanceof VerificationError, `not a VerificationError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if ("line" in where) assert.equal(e.line, where.line, e.message);
    if ("seq" in where) assert.equal(e.seq, where.seq, e.message);
    if (where.message) assert.match(e.message, where.message);
    return e;
  }
  assert.fail(`a tampered export verified (expected ${code})`);
}

describe("verifying a real export", () => {
  let server: TestServer;
  let trust: string[];
  let full: string[];
  let filtered: string[];

  before(async () => {
    server = await startServer();
    await ingest(server, trickyEvents("run-a", 25));
    await ingest(server, trickyEvents("run-b", 12));
    await ingest(server, [{ type: "thinking", run_id: "run-a", input: { text: "one more, alone" } }]);
    // Numbers a double cannot hold exactly, sent as raw JSON text: the server keeps them as doubles, JCS prints them as ECMAScript does.
    const raw = await api(server, "/v1/events/batch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '[{"type":"log","run_id":"numbers","input":{"big":12345678901234567890,"odd":9007199254740993,"neg":-9223372036854775809,"f":1.0,"g":100000000000000000000000,"h":0.1e1,"e":1E2,"tiny":5e-324}}]',
    });
    assert.equal(raw.status, 201, await raw.text());
    trust = await trustOf(server);
    full = linesOf(await getText(server, "/v1/events/export"));
    filtered = linesOf(await getText(server, "/v1/events/export?run_id=run-b"));
  });
  after(() => server.cleanup());

  test("an unfiltered export verifies: bodies, the tree rebuilt from seq 0, the signed checkpoint", async () => {
    const result = await verifyExport(full.join("\n") + "\n", { trust });
    assert.equal(result.filtered, false);
    assert.equal(result.records, full.length - 2);
    assert.equal(result.firstSeq, 0);
    assert.equal(result.lastSeq, result.records - 1);
    assert.equal(result.checkpoint.treeSize, result.records);
    assert.equal(result.checkpoint.origin, "flightrec.local/default");
    assert.deepEqual(result.versions, { 2: result.records });
    assert.deepEqual(result.erasedSeqs, []);
    assert.deepEqual(result.warnings, []);
  });

  test("a filtered export verifies record by record through its inclusion proofs", async () => {
    assert.ok(filtered.slice(0, -2).every((l) => (JSON.parse(l) as { proof?: unknown }).proof !== undefined));
    const result = await verifyExport(filtered, { trust });
    assert.equal(result.filtered, true);
    assert.equal(result.records, 12);
    assert.ok(result.firstSeq > 0);
  });

  test("streamed straight from the HTTP response", async () => {
    const res = await api(server, "/v1/events/export");
    const result = await verifyExport(splitLines(res.body as unknown as AsyncIterable<Uint8Array>), { trust });
    assert.ok(result.records >= full.length - 2);
  });

  test("a run's jsonl export, read through the client as users do, verifies", async () => {
    const client = new FlightrecClient({ server: server.url, apiKey: server.apiKey });
    const runExport = await client.runs.exportAuditLog("run-a", { format: "jsonl" });
    const result = await verifyExport(runExport.lines(), { trust });
    assert.equal(result.records, 26);
    const eventsExport = await client.events.export({});
    assert.equal((await verifyExport(eventsExport.lines(), { trust })).filtered, false);
  });

  test("the verifier recomputes what the server computed: every receipt's leaf hash", async () => {
    const [receipt] = await ingest(server, [{ type: "log", input: { "b": 1, "a": [1.5, "ü"] } }]);
    const event = JSON.parse(await getText(server, `/v1/events/${receipt!.id}?proof=true`)) as { header: verify.RecordHeader; body: string; salt: string };
    assert.equal(verify.toHex(verify.recordLeafHash(event.header)), receipt!.leaf_hash);
    const checked = verify.checkRecord({ header: event.header, body: JSON.parse(event.body) as object, salt: event.salt });
    assert.equal(checked.erased, false);
  });

  describe("tampered exports are rejected with a reason and a place", () => {
    test("one flipped byte in a body", async () => {
      const i = lineOfSeq(full, 5);
      await rejects(withLine(full, i, replaceIn(full[i]!, "echo ", "echO ")), trust, "body_hash", { line: i + 1, seq: 5, message: /body does not match the header/ });
    });

    test("one flipped byte in a salt", async () => {
      const i = lineOfSeq(full, 6);
      const at = full[i]!.indexOf('"salt":"') + 20;
      await rejects(withLine(full, i, flipChar(full[i]!, at)), trust, "body_hash", { line: i + 1, seq: 6 });
    });

    test("one flipped byte in a header's body_hash", async () => {
      const i = lineOfSeq(full, 7);
      const at = full[i]!.indexOf('"body_hash":"') + 20;
      await rejects(withLine(full, i, flipChar(full[i]!, at)), trust, "body_hash", { line: i + 1, seq: 7 });
    });

    test("one flipped byte in a header: the rebuilt root no longer matches the signed one", async () => {
      const i = lineOfSeq(full, 8);
      const at = full[i]!.indexOf('"time":"') + 10;
      await rejects(withLine(full, i, flipChar(full[i]!, at)), trust, "root", { line: full.length - 1, message: /rebuild the root .* the signed checkpoint says/ });
    });

    test("one flipped byte in a header of a filtered export: its own proof fails, on its line", async () => {
      const at = filtered[3]!.indexOf('"time":"') + 10;
      const seq = (JSON.parse(filtered[3]!) as { header: { seq: number } }).header.seq;
      await rejects(withLine(filtered, 3, flipChar(filtered[3]!, at)), trust, "inclusion", { line: 4, seq });
    });

    test("one flipped byte in a proof hash", async () => {
      const at = filtered[2]!.indexOf('"hashes":["') + 15;
      await rejects(withLine(filtered, 2, flipChar(filtered[2]!, at)), trust, "inclusion", { line: 3, message: /leads to the root/ });
    });

    test("a header with a changed seq, or a member a version 2 header does not have", async () => {
      const i = lineOfSeq(full, 9);
      await rejects(withLine(full, i, replaceIn(full[i]!, '"seq":9,', '"seq":10,')), trust, "sequence", { line: i + 1, seq: 10 });
      await rejects(withLine(full, i, replaceIn(full[i]!, '"seq":9,', '"seq":9,"extra":"x",')), trust, "header", { line: i + 1, message: /no member `extra`/ });
      await rejects(withLine(full, i, replaceIn(full[i]!, '"submitted_by":', '"submitted_byx":')), trust, "header", { line: i + 1 });
      await rejects(withLine(full, i, replaceIn(full[i]!, '"v":2', '"v":3')), trust, "header", { line: i + 1, message: /version 3/ });
    });

    test("one flipped byte in the checkpoint's signature", async () => {
      const last = full.length - 2;
      const at = full[last]!.indexOf("\\n\\n\u2014 ") + 40 + 12;
      await rejects(withLine(full, last, flipChar(full[last]!, at)), trust, "signature", { line: last + 1, message: /does not verify/ });
    });

    test("a checkpoint whose size or root was changed", async () => {
      const last = full.length - 2;
      const size = full.length - 2;
      await rejects(withLine(full, last, replaceIn(full[last]!, `\\n${size}\\n`, `\\n${size - 1}\\n`)), trust, "signature", { line: last + 1 });
    });

    test("a dropped line: in the middle, the last record, the checkpoint", async () => {
      await rejects([...full.slice(0, 4), ...full.slice(5)], trust, "sequence", { line: 5, seq: 5, message: /record 4 is missing/ });
      await rejects([...full.slice(0, -3), ...full.slice(-2)], trust, "root", { message: /the last 1 are missing/ });
      await rejects(full.slice(0, -2), trust, "malformed", { message: /no checkpoint line/ });
      await rejects([full[3]!, full[2]!, ...full.slice(4)].slice(0), trust, "sequence", { line: 1 });
    });

    test("a record appended after the checkpoint", async () => {
      await rejects([...full, full[3]!], trust, "sequence", { line: full.length + 1 });
    });

    test("the wrong key: another log's key of the same name, or a key for another log", async () => {
      const other = await startServer();
      try {
        const otherTrust = await trustOf(other);
        await rejects(full, otherTrust, "signature", { message: /no signature by the trusted key/ });
        // both servers' keys (one name, as two self-hosted servers have) in one trust file: this log's still verifies, listed first or second
        for (const both of [[...otherTrust, ...trust], [...trust, ...otherTrust]]) {
          const result = await verifyExport(full.join("\n") + "\n", { trust: both });
          assert.equal(result.checkpoint.logKey, trust[0]);
        }
      } finally {
        await other.cleanup();
      }
      const key = verify.parseVerifierKey(trust[0]!);
      const elsewhere = verify.formatVerifierKey("flightrec.local/another", verify.ED25519, key.publicKey);
      await rejects(full, [elsewhere], "signature", { message: /no trusted key for the log flightrec.local\/default/ });
    });

    test("a body erased outside an erasure, even beside a client's own log.erased record", async () => {
      // A client may record type log.erased, but only flightrec's own covers anything.
      const [forged] = await ingest(server, [{ type: "log.erased", metadata: { erased_seqs: [[0, 1_000_000]] } }]);
      const lines = linesOf(await getText(server, "/v1/events/export"));
      assert.ok(lines.some((l) => l.includes(forged!.id)));
      const i = lineOfSeq(lines, 4);
      const record = JSON.parse(lines[i]!) as { header: object; body: unknown; salt: unknown };
      const erased = JSON.stringify({ header: record.header, body: null, salt: null });
      await rejects(withLine(lines, i, erased), trust, "erasure", { line: i + 1, seq: 4, message: /outside an erasure/ });
      // Half erased (salt gone, body kept) is no erasure at all.
      await rejects(withLine(lines, i, JSON.stringify({ ...record, salt: null })), trust, "malformed", { line: i + 1 });
    });

    test("a public_key line naming another key is ignored, with a warning: keys come from the caller", async () => {
      const stranger = verify.formatVerifierKey("flightrec.local/default", verify.ED25519, new Uint8Array(32).fill(5));
      const result = await verifyExport(withLine(full, full.length - 1, JSON.stringify({ public_key: stranger })), { trust });
      assert.equal(result.warnings.length, 1);
      assert.match(result.warnings[0]!, /not a key you trust; it was ignored/);
    });

    test("a forged value beside the genuine one under the same key (JSON.parse keeps the last; a reader keeping the first shows the forgery)", async () => {
      const i = lineOfSeq(full, 5);
      const forgedBody = replaceIn(full[i]!, '"body":{', '"body":{"input":{"cmd":"rm -rf /"},');
      await rejects(withLine(full, i, forgedBody), trust, "malformed", { line: i + 1, message: /repeats the key "input"/ });
      const forgedHeader = replaceIn(full[i]!, '"header":{', '"header":{"type":"key.revoked",');
      await rejects(withLine(full, i, forgedHeader), trust, "malformed", { line: i + 1, message: /repeats the key "type"/ });
      const forgedLine = replaceIn(filtered[0]!, '{"header":', '{"header":{"v":2},"header":');
      await rejects(withLine(filtered, 0, forgedLine), trust, "malformed", { line: 1, message: /repeats the key "header"/ });
      // the same names in different objects, and escaped spellings of different names, are fine
      assert.equal(verify.repeatedKey('{"a":{"a":1},"b":[{"a":1},{"a":2}],"c\\\\":"\\\\","c":"}:{"}'), undefined);
      assert.equal(verify.repeatedKey('{"x":[1,{"y":2}],"\\u0078":3}'), "x");
    });

    test("lines that are not an export at all", async () => {
      await rejects(["not json", ...full], trust, "malformed", { line: 1 });
      await rejects([JSON.stringify({ hello: 1 }), ...full], trust, "malformed", { line: 1 });
      await rejects(full.slice(-2), trust, "malformed", { message: /no record/ });
    });
  });
});
