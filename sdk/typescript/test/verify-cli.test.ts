// The installed `flightrec-verify` bin, run as a process: exit 0 for a valid
// export or proof, 1 with the reason for an invalid one, 2 for a usage mistake
// or an unreadable file.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startServer, type TestServer } from "./server.js";
import { getJson, getText, ingest, lineOfSeq, linesOf, replaceIn, runVerifyBin, trustOf, withLine } from "./verify-support.js";

describe("flightrec-verify (the bin)", () => {
  let server: TestServer;
  let dir: string;
  let trust: string[];
  const file = (name: string): string => join(dir, name);

  before(async () => {
    server = await startServer();
    const receipts = await ingest(server, Array.from({ length: 20 }, (_, i) => ({ type: "tool_call", run_id: "cli", input: { i } })));
    trust = await trustOf(server);
    dir = mkdtempSync(join(tmpdir(), "flightrec-verify-cli-"));
    const full = await getText(server, "/v1/events/export");
    writeFileSync(file("export.jsonl"), full);
    writeFileSync(file("trust.txt"), await getText(server, "/v1/log/trust"));
    const lines = linesOf(full);
    const i = lineOfSeq(lines, 10);
    writeFileSync(file("tampered.jsonl"), withLine(lines, i, replaceIn(lines[i]!, '"i":7', '"i":8')).join("\n") + "\n");
    writeFileSync(file("filtered.jsonl"), await getText(server, "/v1/events/export?run_id=cli"));
    const id = receipts[4]!.id;
    writeFileSync(file("rec.tlog-proof"), await getText(server, `/v1/events/${id}/proof?format=tlog-proof`));
    const json = await getJson<{ header: object; body: string; salt: string }>(server, `/v1/events/${id}/proof`);
    writeFileSync(file("rec.json"), JSON.stringify({ header: json.header, body: json.body, salt: json.salt }));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await server.cleanup();
  });

  test("a valid export: exit 0 and what was verified", async () => {
    const out = await runVerifyBin(["export", file("export.jsonl"), "--key", trust[0]!]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^OK: 23 records \(23 v2\) of tenant default, seq 0–22, the whole log/);
    // --trust FILE, and --key given a file of keys, as flightrec's own CLI takes it.
    const withFile = await runVerifyBin(["export", file("export.jsonl"), "--key", file("trust.txt")]);
    assert.equal(withFile.code, 0, withFile.stderr);
    const filtered = await runVerifyBin(["export", file("filtered.jsonl"), "--trust", file("trust.txt")]);
    assert.equal(filtered.code, 0, filtered.stderr);
    assert.match(filtered.stdout, /OK: 20 records .* each by its inclusion proof/);
  });

  test("--json prints the result as JSON", async () => {
    const out = await runVerifyBin(["export", file("export.jsonl"), "--trust", file("trust.txt"), "--json"]);
    assert.equal(out.code, 0, out.stderr);
    const result = JSON.parse(out.stdout) as { records: number; checkpoint: { rootHash: string; treeSize: number } };
    assert.equal(result.records, 23);
    assert.match(result.checkpoint.rootHash, /^[0-9a-f]{64}$/);
  });

  test("a tampered export: exit 1 and the reason, with its line and seq", async () => {
    const out = await runVerifyBin(["export", file("tampered.jsonl"), "--key", trust[0]!]);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /^INVALID \(body_hash\): line 11, seq 10: the body does not match the header/);
    assert.equal(out.stdout, "");
  });

  test("a proof file and its record: exit 0; the wrong record: exit 1", async () => {
    const ok = await runVerifyBin(["proof", file("rec.tlog-proof"), "--record", file("rec.json"), "--key", trust[0]!]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^OK: record .*, seq 7, is in the log, body matches its hash/);
    const exportLine = linesOf(await getText(server, "/v1/events/export"))[3]!;
    writeFileSync(file("other.json"), exportLine);
    const bad = await runVerifyBin(["proof", file("rec.tlog-proof"), "--record", file("other.json"), "--key", trust[0]!]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /INVALID \(inclusion\): seq 3: the proof is for entry 7/);
  });

  test("usage mistakes and unreadable files: exit 2", async () => {
    const cases: [string[], RegExp][] = [
      [["export", file("export.jsonl")], /give the log's verifier key/],
      [["export"], /which file/],
      [[], /export or proof/],
      [["check", file("export.jsonl"), "--key", trust[0]!], /unknown command check/],
      [["proof", file("rec.tlog-proof"), "--key", trust[0]!], /needs --record/],
      [["export", file("export.jsonl"), "--key", "name+only"], /not a verifier key/],
      [["export", file("export.jsonl"), "--key", file("no-such-keys.txt")], /cannot read the key file/],
      [["export", file("export.jsonl"), "--key", trust[0]!, "--witness-threshold", "2"], /witness threshold of 2/],
      [["export", file("missing.jsonl"), "--key", trust[0]!], /cannot read the export .*ENOENT/],
      [["export", file("export.jsonl"), "--trust", file("missing.txt")], /cannot read the trust file/],
      [["export", file("export.jsonl"), "--key", trust[0]!, "--bogus"], /Unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const out = await runVerifyBin(args);
      assert.equal(out.code, 2, `${args.join(" ")}: ${out.stderr}`);
      assert.match(out.stderr, message);
    }
    const help = await runVerifyBin(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage:/);
  });
});
