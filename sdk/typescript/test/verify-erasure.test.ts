// Erased bodies. The server has no API that erases (retention and GDPR
// erasure write `log.erased` records of their own), so this log is built
// here, record by record per docs/record-format.md, and its checkpoint
// signed with a throwaway key through node:crypto's Ed25519.
import assert from "node:assert/strict";
import { generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { describe, test } from "node:test";
import { verify, verifyExport } from "flightrec";

const { publicKey, privateKey } = generateKeyPairSync("ed25519");
const ORIGIN = "test.local/acme";
const KEY = verify.formatVerifierKey(ORIGIN, verify.ED25519, new Uint8Array(publicKey.export({ format: "der", type: "spki" }).subarray(12)));

interface Spec {
  type: string;
  submittedBy: string;
  body: Record<string, unknown>;
  erase?: boolean;
}

function exportOf(specs: Spec[]): string[] {
  const lines: string[] = [];
  const leaves: Uint8Array[] = [];
  specs.forEach((spec, seq) => {
    const salt = randomBytes(32);
    const header = {
      v: 2,
      tenant: "acme",
      seq,
      id: `e-${seq}`,
      time: "2026-11-22T10:00:00.000000Z",
      received_at: "2026-11-22T10:00:00.000000Z",
      type: spec.type,
      status: "ok",
      submitted_by: spec.submittedBy,
      body_hash: verify.toHex(verify.bodyHash(salt, spec.body)),
    };
    leaves.push(verify.recordLeafHash(header));
    lines.push(JSON.stringify(spec.erase ? { header, body: null, salt: null } : { header, body: spec.body, salt: salt.toString("hex") }));
  });
  const text = `${ORIGIN}\n${leaves.length}\n${verify.toBase64(verify.rootFromLeaves(leaves))}\n`;
  const signature = Buffer.concat([Buffer.from(verify.parseVerifierKey(KEY).keyId, "hex"), sign(null, Buffer.from(text), privateKey)]);
  lines.push(JSON.stringify({ checkpoint: `${text}\n\u2014 ${ORIGIN} ${signature.toString("base64")}\n` }));
  return lines;
}

const record = (n: number): Spec => ({ type: "tool_call", submittedBy: "key:k1", body: { input: { n }, redactions: [] } });
const erasure = (submittedBy: string, ranges: [number, number][]): Spec => ({
  type: "log.erased",
  submittedBy,
  body: { metadata: { erased_seqs: ranges }, redactions: [] },
});

describe("erased bodies", () => {
  test("a log built here verifies whole, so the cases below fail for their erasure alone", async () => {
    const result = await verifyExport(exportOf([record(0), record(1), record(2)]), { trust: [KEY] });
    assert.equal(result.records, 3);
  });

  test("accepted when a log.erased record of flightrec's own names the seq, before or after it", async () => {
    const after = await verifyExport(exportOf([record(0), { ...record(1), erase: true }, { ...record(2), erase: true }, erasure("flightrec", [[1, 2]])]), { trust: [KEY] });
    assert.deepEqual(after.erasedSeqs, [1, 2]);
    const before = await verifyExport(exportOf([erasure("flightrec", [[5, 5], [2, 2]]), record(1), { ...record(2), erase: true }]), { trust: [KEY] });
    assert.deepEqual(before.erasedSeqs, [2]);
  });

  test("refused when no such record covers it: none, one sent by a client, or one naming other seqs", async () => {
    const cases: Spec[][] = [
      [record(0), { ...record(1), erase: true }],
      [record(0), { ...record(1), erase: true }, erasure("key:k1", [[0, 10]])],
      [record(0), { ...record(1), erase: true }, erasure("user:u1", [[1, 1]])],
      [record(0), { ...record(1), erase: true }, erasure("flightrec", [[2, 9]])],
    ];
    for (const specs of cases) {
      await assert.rejects(verifyExport(exportOf(specs), { trust: [KEY] }), { code: "erasure", line: 2, seq: 1 });
    }
  });
});
