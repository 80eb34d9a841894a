// C2SP tlog-proof files from the real server (the HTTP API, and the files
// `flightrec log proof -o` writes), verified with the record they prove; and
// the single-proof calls against the log's own proof endpoints.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { verify, verifyConsistency, verifyInclusion, verifyProofFile, verifyCheckpoint, VerificationError } from "flightrec";
import { serverBinary, startServer, type TestServer } from "./server.js";
import { flipChar, getJson, getText, ingest, replaceIn, run, trustOf, type Receipt } from "./verify-support.js";

interface ProofJson {
  header: verify.RecordHeader;
  body: string | null;
  salt: string | null;
  leaf_hash: string;
  proof: { leaf_index: number; tree_size: number; hashes: string[] };
  checkpoint: string;
}

describe("tlog-proof files", () => {
  let server: TestServer;
  let trust: string[];
  let receipts: Receipt[];
  let proofText: string;
  let recordJson: string;
  let dir: string;

  before(async () => {
    server = await startServer();
    receipts = await ingest(
      server,
      Array.from({ length: 11 }, (_, i) => ({ type: "tool_call", run_id: "proofs", input: { step: i, note: "ünïcode ✓" } })),
    );
    trust = await trustOf(server);
    const id = receipts[6]!.id;
    proofText = await getText(server, `/v1/events/${id}/proof?format=tlog-proof`);
    const json = await getJson<ProofJson>(server, `/v1/events/${id}/proof`);
    recordJson = JSON.stringify({ header: json.header, body: json.body, salt: json.salt });
    dir = mkdtempSync(join(tmpdir(), "flightrec-proof-"));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await server.cleanup();
  });

  test("a proof file from the API verifies with its record", () => {
    const result = verifyProofFile(proofText, recordJson, { trust });
    assert.equal(result.seq, receipts[6]!.seq);
    assert.equal(result.leafHash, receipts[6]!.leaf_hash);
    assert.equal(result.bodyErased, false);
    assert.ok(result.checkpoint.treeSize > result.seq);
  });

  test("the files `flightrec log proof -o` writes verify too (and a body given as an object)", async () => {
    const file = join(dir, "rec.tlog-proof");
    const out = await run(serverBinary(), ["log", "proof", receipts[2]!.id, "-o", file, "--key", trust[0]!], {
      FLIGHTREC_SERVER: server.url,
      FLIGHTREC_API_KEY: server.apiKey,
    });
    assert.equal(out.code, 0, out.stderr);
    const record = JSON.parse(readFileSync(join(dir, "rec.json"), "utf8")) as verify.RecordLine;
    const result = verifyProofFile(readFileSync(file, "utf8"), record, { trust });
    assert.equal(result.seq, receipts[2]!.seq);
    if (typeof record.body === "string") record.body = JSON.parse(record.body) as Record<string, unknown>;
    assert.equal(verifyProofFile(readFileSync(file, "utf8"), record, { trust }).seq, receipts[2]!.seq);
  });

  test("rejected: a flipped audit path hash, a changed index, another record, a flipped signature, the wrong key", () => {
    const lines = proofText.split("\n");
    const tamperedPath = [...lines.slice(0, 3), flipChar(lines[3]!, 10), ...lines.slice(4)].join("\n");
    assert.throws(() => verifyProofFile(tamperedPath, recordJson, { trust }), { code: "inclusion", message: /different root/ });

    const otherIndex = proofText.replace(/^index \d+$/m, `index ${receipts[5]!.seq}`);
    assert.throws(() => verifyProofFile(otherIndex, recordJson, { trust }), { code: "inclusion", message: /proof is for entry/ });

    const header = JSON.parse(recordJson) as { header: { time: string } };
    const otherHeader = replaceIn(recordJson, header.header.time, header.header.time.replace(/.$/, "X"));
    assert.throws(() => verifyProofFile(proofText, otherHeader, { trust }), { code: "inclusion" });

    const otherBody = replaceIn(recordJson, "ünïcode", "unicode");
    assert.throws(() => verifyProofFile(proofText, otherBody, { trust }), { code: "body_hash" });

    const sigAt = proofText.indexOf("\u2014 ") + 2 + "flightrec.local/default ".length + 20;
    assert.throws(() => verifyProofFile(flipChar(proofText, sigAt), recordJson, { trust }), (e: unknown) => {
      assert.ok(e instanceof VerificationError);
      assert.equal(e.code, "signature");
      assert.ok(e.line !== undefined && lines[e.line - 1] === "flightrec.local/default", `line ${e.line}`);
      return true;
    });

    const stranger = verify.formatVerifierKey("flightrec.local/default", verify.ED25519, new Uint8Array(32).fill(7));
    assert.throws(() => verifyProofFile(proofText, recordJson, { trust: [stranger] }), { code: "signature" });
    assert.throws(() => verifyProofFile("c2sp.org/tlog-proof@v2\n", recordJson, { trust }), { code: "malformed", line: 1 });
  });

  test("the log's inclusion and consistency proofs, checked against verified checkpoints", async () => {
    const older = verifyCheckpoint(await getText(server, "/v1/log/checkpoint"), { trust });
    const added = await ingest(server, [{ type: "thinking", input: { more: true } }, { type: "thinking", input: { more: 2 } }]);
    // A proof of the newest record makes the server sign a checkpoint covering it.
    const newer = verifyCheckpoint(
      (await getJson<ProofJson>(server, `/v1/events/${added[1]!.id}?proof=true`)).checkpoint,
      { trust },
    );
    assert.ok(newer.treeSize > older.treeSize);

    const inclusion = await getJson<{ leaf_index: number; tree_size: number; hashes: string[] }>(
      server,
      `/v1/log/proof/inclusion?seq=${receipts[3]!.seq}&tree_size=${newer.treeSize}`,
    );
    const good = { leafIndex: inclusion.leaf_index, treeSize: inclusion.tree_size, leafHash: receipts[3]!.leaf_hash, proof: inclusion.hashes, rootHash: newer.rootHash };
    verifyInclusion(good);
    assert.throws(() => verifyInclusion({ ...good, leafHash: receipts[4]!.leaf_hash }), { code: "inclusion" });

    const consistency = await getJson<{ old_size: number; new_size: number; hashes: string[] }>(
      server,
      `/v1/log/proof/consistency?from=${older.treeSize}&to=${newer.treeSize}`,
    );
    const ok = { oldSize: consistency.old_size, newSize: consistency.new_size, oldRoot: older.rootHash, newRoot: newer.rootHash, proof: consistency.hashes };
    verifyConsistency(ok);
    assert.throws(() => verifyConsistency({ ...ok, proof: ok.proof.map((h, i) => (i === 0 ? flipChar(h, 0) : h)) }), { code: "consistency" });
    assert.throws(() => verifyConsistency({ ...ok, oldRoot: newer.rootHash }), { code: "consistency" });
  });
});
