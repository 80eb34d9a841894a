// Cosignatures from a real witness: `flightrec witness serve` follows a log
// whose server sends it every new checkpoint (FLIGHTREC_WITNESSES); proofs
// and checkpoints carry its cosignature, which the verifier checks.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { verify, verifyCheckpoint, verifyExport, verifyProofFile } from "flightrec";
import { startServer, type TestServer } from "./server.js";
import { flipChar, getJson, getText, ingest, linesOf, newLogKey, startWitness, type Receipt, type Witness } from "./verify-support.js";

describe("cosignatures from a real witness", () => {
  let witness: Witness;
  let server: TestServer;
  let logKey: { file: string; tenantKey: string; dir: string };
  let receipts: Receipt[];
  let cosigned: string;

  before(async () => {
    // The witness must know the log's key before the log exists: make the key first.
    logKey = await newLogKey();
    witness = await startWitness([logKey.tenantKey]);
    server = await startServer({
      env: { FLIGHTREC_LOG_KEY_FILE: logKey.file, FLIGHTREC_WITNESSES: `${witness.url} ${witness.key}` },
    });
    receipts = await ingest(server, Array.from({ length: 5 }, (_, i) => ({ type: "tool_call", run_id: "witnessed", input: { i } })));
    // Cosigning runs beside ingest: wait until the newest checkpoint covers every record and carries the cosignature.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const note = await getText(server, "/v1/log/checkpoint");
      const size = Number(note.split("\n")[1]);
      if (size > receipts.at(-1)!.seq && note.includes(`\u2014 ${verify.parseVerifierKey(witness.key).name} `)) {
        cosigned = note;
        break;
      }
      if (Date.now() > deadline) throw new Error(`no cosigned checkpoint covering seq ${receipts.at(-1)!.seq} in 60 s:\n${note}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  });
  after(async () => {
    await server?.cleanup();
    await witness?.stop();
    if (logKey) rmSync(logKey.dir, { recursive: true, force: true });
  });

  test("the log's checkpoint verifies with the witness required, and says when it cosigned", () => {
    const checkpoint = verifyCheckpoint(cosigned, { trust: [logKey.tenantKey], witnesses: [witness.key] });
    assert.equal(checkpoint.cosignatures.length, 1);
    assert.equal(checkpoint.cosignatures[0]!.witness, "witness.test/w1");
    assert.ok(Math.abs(checkpoint.cosignatures[0]!.time - Date.now() / 1000) < 600);
  });

  test("a tlog-proof file carries the cosignature", async () => {
    const id = receipts[2]!.id;
    const proof = await getText(server, `/v1/events/${id}/proof?format=tlog-proof`);
    const json = await getJson<{ header: object; body: string; salt: string }>(server, `/v1/events/${id}/proof`);
    const result = verifyProofFile(proof, JSON.stringify(json), { trust: [logKey.tenantKey], witnesses: [witness.key] });
    assert.deepEqual(result.checkpoint.cosignatures.map((c) => c.witness), ["witness.test/w1"]);
  });

  test("an export carries its checkpoint's cosignatures", async () => {
    const lines = linesOf(await getText(server, "/v1/events/export"));
    const result = await verifyExport(lines, { trust: [logKey.tenantKey], witnesses: [witness.key] });
    assert.deepEqual(result.checkpoint.cosignatures.map((c) => c.witness), ["witness.test/w1"]);
  });

  test("an export checks against another cosigned checkpoint of its size", async () => {
    const lines = linesOf(await getText(server, "/v1/events/export"));
    const size = Number((JSON.parse(lines.at(-2)!) as { checkpoint: string }).checkpoint.split("\n")[1]);
    const cosignedNow = await getText(server, "/v1/log/checkpoint");
    assert.equal(Number(cosignedNow.split("\n")[1]), size, "nothing was recorded since: the newest checkpoint is the export's");
    const result = await verifyExport(lines, { trust: [logKey.tenantKey], witnesses: [witness.key], checkpoint: cosignedNow });
    assert.equal(result.checkpoint.cosignatures.length, 1);
  });

  test("rejected: a missing witness, a flipped cosignature, a threshold not met", () => {
    const strangerWitness = verify.formatVerifierKey("witness.test/w2", verify.COSIGNATURE_V1, new Uint8Array(32).fill(3));
    assert.throws(() => verifyCheckpoint(cosigned, { trust: [logKey.tenantKey], witnesses: [witness.key, strangerWitness] }), {
      code: "cosignature",
      message: /cosigned by 1 of the required 2 witness\(es\); missing: witness.test\/w2/,
    });
    // One of the two is enough when the threshold says so.
    verifyCheckpoint(cosigned, { trust: [logKey.tenantKey], witnesses: [witness.key, strangerWitness], witnessThreshold: 1 });

    const at = cosigned.indexOf("\u2014 witness.test/w1 ") + "\u2014 witness.test/w1 ".length + 30;
    assert.throws(() => verifyCheckpoint(flipChar(cosigned, at), { trust: [logKey.tenantKey], witnesses: [witness.key] }), {
      code: "cosignature",
      message: /cosignature by witness witness.test\/w1 does not verify/,
    });
    // A log key passed off as a witness key, or the reverse, is refused up front.
    assert.throws(() => verifyCheckpoint(cosigned, { trust: [witness.key] }), { code: "key" });
    assert.throws(() => verifyCheckpoint(cosigned, { trust: [logKey.tenantKey], witnesses: [logKey.tenantKey] }), { code: "key" });
  });
});
