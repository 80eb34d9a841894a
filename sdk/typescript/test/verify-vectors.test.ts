// The verifier's building blocks against published test vectors: RFC 8785's
// own examples (JCS), the RFC 6962/9162 reference tree of Certificate
// Transparency (as published by transparency-dev/merkle), and Go's
// sumdb/note example note (signed-note). Data only; the code is ours.
import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { verify, VerificationError } from "flightrec";

const { canonicalize, leafHash, rootFromLeaves, fromHex, toHex, verifyInclusion, verifyConsistency, verifyNote } = verify;

const hex = (s: string): Uint8Array => fromHex(s)!;

describe("RFC 8785 (JCS)", () => {
  it("sorts members by UTF-16 code units, as the RFC's example 3.2.3 does", () => {
    const input = JSON.parse(
      '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One",' +
        '"\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
    );
    // (Re-parsing would reorder: JavaScript objects put integer-like keys first.)
    assert.equal(
      canonicalize(input),
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it("writes the RFC's 3.2.2 example (literals, numbers, escapes) byte for byte", () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    assert.equal(
      canonicalize(input),
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it("nests and sorts structures (the cyberphone structures vector)", () => {
    const input = JSON.parse('{"1":{"f":{"f":"hi","F":5},"\\n":56.0},"10":{},"":"empty","a":{},"111":[{}],"A":{}}');
    assert.equal(canonicalize(input), '{"":"empty","1":{"\\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}');
  });

  it("keeps non-ASCII as is and escapes only what JSON needs (the weird vector)", () => {
    const input = JSON.parse(
      '{"\\u20ac":"Euro Sign","1":"One","\\u0080":"Control\\u007f","\\ud83d\\ude02":"Smiley",' +
        '"\\u00f6":"Latin Small Letter O With Diaeresis","\\ufb33":"Hebrew Letter Dalet With Dagesh","</script>":"Browser Challenge"}',
    );
    assert.equal(
      canonicalize(input),
      '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude02":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it("prints numbers as ECMAScript does (RFC 8785 appendix B)", () => {
    const cases: [number, string][] = [
      [0, "0"],
      [-0, "0"],
      [1, "1"],
      [-1.5, "-1.5"],
      [9007199254740992, "9007199254740992"],
      [1e21, "1e+21"],
      [1e-7, "1e-7"],
      [0.000001, "0.000001"],
      [5e-324, "5e-324"],
      [1.7976931348623157e308, "1.7976931348623157e+308"],
      [295147905179352830000, "295147905179352830000"],
      [123456789012345680000, "123456789012345680000"],
      [0.1 + 0.2, "0.30000000000000004"],
    ];
    for (const [n, text] of cases) assert.equal(canonicalize(n), text, String(n));
  });

  it("refuses what has no canonical form", () => {
    assert.throws(() => canonicalize({ a: NaN }), /not a JSON number/);
    assert.throws(() => canonicalize([Infinity]), /not a JSON number/);
    assert.throws(() => canonicalize("\ud800x"), /lone UTF-16 surrogate/);
    assert.throws(() => canonicalize({ "\udc00": 1 }), /lone UTF-16 surrogate/);
    assert.throws(() => canonicalize({ a: undefined }), /undefined is not JSON data/);
    assert.throws(() => canonicalize(new Date(0)), /plain JSON objects/);
    assert.equal(canonicalize("\ud83d\ude00"), '"\ud83d\ude00"');
  });

  it("keeps a member named __proto__ as the data it is", () => {
    assert.equal(canonicalize(JSON.parse('{"b":1,"__proto__":{"x":2}}')), '{"__proto__":{"x":2},"b":1}');
  });
});

// RFC 6962's reference tree: 8 leaves, the root of every prefix, and the
// node hashes that make its proofs (transparency-dev/merkle testonly).
const LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"].map((s) =>
  leafHash(fromHex(s)!),
);
const ROOTS = [
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];
const INCLUSION: { index: number; size: number; proof: string[] }[] = [
  { index: 0, size: 1, proof: [] },
  {
    index: 0,
    size: 8,
    proof: [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  },
  {
    index: 5,
    size: 8,
    proof: [
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
  { index: 2, size: 3, proof: ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"] },
  {
    index: 1,
    size: 5,
    proof: [
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  },
];
const CONSISTENCY: { first: number; second: number; proof: string[] }[] = [
  { first: 1, second: 1, proof: [] },
  {
    first: 1,
    second: 8,
    proof: [
      "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
  },
  {
    first: 6,
    second: 8,
    proof: [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
  {
    first: 2,
    second: 5,
    proof: [
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
  },
  {
    first: 6,
    second: 7,
    proof: [
      "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
  },
];

function flipped(bytes: Uint8Array, bit = 3): Uint8Array {
  const copy = bytes.slice();
  copy[0]! ^= 1 << bit;
  return copy;
}

describe("RFC 9162 Merkle trees", () => {
  it("builds the reference root of every size 0…8", () => {
    for (let n = 0; n <= 8; n++) assert.equal(toHex(rootFromLeaves(LEAVES.slice(0, n))), ROOTS[n], `size ${n}`);
  });

  it("accepts the reference inclusion proofs, and rejects every corruption of them", () => {
    for (const v of INCLUSION) {
      const good = { leafIndex: v.index, treeSize: v.size, leafHash: LEAVES[v.index]!, proof: v.proof, rootHash: ROOTS[v.size]! };
      verifyInclusion(good);
      const bad = [
        { ...good, leafIndex: v.index + 1 },
        { ...good, leafIndex: v.index - 1 },
        { ...good, leafIndex: v.index ^ 2 },
        { ...good, treeSize: v.size * 2 },
        { ...good, treeSize: Math.floor(v.size / 2) },
        { ...good, leafHash: LEAVES[(v.index + 1) % 8]! },
        { ...good, rootHash: ROOTS[0]! },
        { ...good, proof: [...v.proof, ROOTS[v.size]!] },
        { ...good, proof: [ROOTS[v.size]!, ...v.proof] },
        ...v.proof.map((_, i) => ({ ...good, proof: v.proof.map((h, j) => (i === j ? flipped(hex(h)) : h)) })),
        ...(v.proof.length > 0 ? [{ ...good, proof: v.proof.slice(0, -1) }] : []),
      ];
      for (const [i, p] of bad.entries()) {
        assert.throws(() => verifyInclusion(p), VerificationError, `corruption ${i} of ${v.index}/${v.size} verified`);
      }
    }
  });

  it("accepts the reference consistency proofs, and rejects every corruption of them", () => {
    for (const v of CONSISTENCY) {
      const good = { oldSize: v.first, newSize: v.second, oldRoot: ROOTS[v.first]!, newRoot: ROOTS[v.second]!, proof: v.proof };
      verifyConsistency(good);
      if (v.proof.length === 0) continue;
      const bad = [
        { ...good, oldSize: v.first - 1 },
        { ...good, oldSize: v.first + 1 },
        { ...good, oldSize: v.first ^ 2 },
        { ...good, newSize: v.second * 2 },
        { ...good, newSize: Math.floor(v.second / 2) },
        { ...good, oldRoot: good.newRoot, newRoot: good.oldRoot },
        { ...good, oldRoot: ROOTS[0]! },
        { ...good, newRoot: ROOTS[0]! },
        { ...good, proof: [] },
        { ...good, proof: [...v.proof, good.oldRoot] },
        { ...good, proof: [good.newRoot, ...v.proof] },
        { ...good, proof: [v.proof[0]!, ...v.proof] },
        { ...good, proof: v.proof.slice(0, -1) },
        ...v.proof.map((_, i) => ({ ...good, proof: v.proof.map((h, j) => (i === j ? flipped(hex(h), 4) : h)) })),
      ];
      for (const [i, p] of bad.entries()) {
        assert.throws(() => verifyConsistency(p), VerificationError, `corruption ${i} of ${v.first}→${v.second} verified`);
      }
    }
  });

  it("treats the trivial consistency cases as the RFC's verifiers do", () => {
    verifyConsistency({ oldSize: 0, newSize: 5, oldRoot: ROOTS[0]!, newRoot: ROOTS[5]!, proof: [] });
    verifyConsistency({ oldSize: 4, newSize: 4, oldRoot: ROOTS[4]!, newRoot: ROOTS[4]!, proof: [] });
    assert.throws(() => verifyConsistency({ oldSize: 4, newSize: 4, oldRoot: ROOTS[4]!, newRoot: ROOTS[5]!, proof: [] }), /differ/);
    assert.throws(() => verifyConsistency({ oldSize: 5, newSize: 4, oldRoot: ROOTS[5]!, newRoot: ROOTS[4]!, proof: [] }), /larger/);
  });

  it("agrees with a naive recursive MTH, and its own proofs verify, for every size up to 70", () => {
    const leaves = Array.from({ length: 70 }, (_, i) => leafHash(new Uint8Array([i, 255 - i])));
    const mth = (d: Uint8Array[]): Uint8Array => {
      if (d.length === 0) return hex(ROOTS[0]!);
      if (d.length === 1) return d[0]!;
      let k = 1;
      while (k * 2 < d.length) k *= 2;
      return verify.nodeHash(mth(d.slice(0, k)), mth(d.slice(k)));
    };
    // RFC 9162 §2.1.3.1 PATH and §2.1.4.1 SUBPROOF, straight from the definitions.
    const path = (m: number, d: Uint8Array[]): Uint8Array[] => {
      if (d.length <= 1) return [];
      let k = 1;
      while (k * 2 < d.length) k *= 2;
      return m < k ? [...path(m, d.slice(0, k)), mth(d.slice(k))] : [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
    };
    const subproof = (m: number, d: Uint8Array[], b: boolean): Uint8Array[] => {
      const n = d.length;
      if (m === n) return b ? [] : [mth(d)];
      let k = 1;
      while (k * 2 < n) k *= 2;
      return m <= k ? [...subproof(m, d.slice(0, k), b), mth(d.slice(k))] : [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
    };
    for (let n = 1; n <= leaves.length; n++) {
      const d = leaves.slice(0, n);
      const root = mth(d);
      assert.equal(toHex(rootFromLeaves(d)), toHex(root), `root of ${n}`);
      for (let m = 0; m < n; m++) verifyInclusion({ leafIndex: m, treeSize: n, leafHash: d[m]!, proof: path(m, d), rootHash: root });
      for (let m = 1; m < n; m++) {
        verifyConsistency({ oldSize: m, newSize: n, oldRoot: mth(d.slice(0, m)), newRoot: root, proof: subproof(m, d, true) });
      }
    }
  });
});

describe("C2SP signed-note", () => {
  // golang.org/x/mod/sumdb/note's documented example.
  const vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
  const text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
  const note = `${text}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

  it("opens Go's example note with its key", () => {
    assert.deepEqual(verifyNote(note, [vkey]), { text, signedBy: ["PeterNeumann"], cosignatures: [] });
  });

  it("rejects the note once its text or signature changes", () => {
    assert.throws(() => verifyNote(note.replace("cryptography", "cryptographY"), [vkey]), { code: "signature" });
    assert.throws(() => verifyNote(note.replace("x08go", "x08gp"), [vkey]), VerificationError);
  });

  it("ignores signatures by unknown keys, and needs one by a trusted key", () => {
    const other = verify.formatVerifierKey("PeterNeumann", verify.ED25519, new Uint8Array(32).fill(9));
    assert.throws(() => verifyNote(note, [other]), /no signature by a trusted key/);
  });

  it("refuses mangled verifier keys", () => {
    assert.throws(() => verify.parseVerifierKey(vkey.replace("c74f20a3", "c74f20a4")), /does not match/);
    assert.throws(() => verify.parseVerifierKey(vkey.slice(0, -4)), { code: "key" });
    assert.throws(() => verify.parseVerifierKey("PeterNeumann+c74f20a3"), { code: "key" });
    assert.throws(() => verify.parseVerifierKey(vkey.replace("ARpc", "Bxpc")), { code: "key" });
  });

  it("checks tlog-cosignature/v1 lines: time, message and key ID (signed with node:crypto, an independent Ed25519)", () => {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const raw = publicKey.export({ format: "der", type: "spki" }).subarray(12);
    const wkey = verify.formatVerifierKey("witness.example/w1", verify.COSIGNATURE_V1, new Uint8Array(raw));
    const checkpointText = "example.com/log\n5\n" + verify.toBase64(hex(ROOTS[5]!)) + "\n";
    const time = 1_760_000_000;
    const stamp = Buffer.alloc(8);
    stamp.writeBigUInt64BE(BigInt(time));
    const message = Buffer.from(`cosignature/v1\ntime ${time}\n${checkpointText}`);
    const sig = Buffer.concat([Buffer.from(verify.parseVerifierKey(wkey).keyId, "hex"), stamp, sign(null, message, privateKey)]);
    const cosigned = `${checkpointText}\n— witness.example/w1 ${sig.toString("base64")}\n`;
    assert.deepEqual(verifyNote(cosigned, [wkey]).cosignatures, [{ witness: "witness.example/w1", time }]);
    // A different time in the signature bytes: the message no longer matches.
    const later = Buffer.from(sig);
    later[4 + 7]! ^= 1;
    assert.throws(() => verifyNote(`${checkpointText}\n— witness.example/w1 ${later.toString("base64")}\n`, [wkey]), {
      code: "cosignature",
    });
  });
});

describe("the verifier as shipped", () => {
  it("imports no Node built-in, so it runs in browsers (only the bin is Node's)", () => {
    const dir = join(dirname(fileURLToPath(import.meta.resolve("flightrec"))), "verify");
    const files = readdirSync(dir).filter((f) => f.endsWith(".js"));
    assert.ok(files.includes("export.js") && files.includes("jcs.js"), files.join(", "));
    for (const f of files) {
      const text = readFileSync(join(dir, f), "utf8");
      assert.doesNotMatch(text, /from\s+["']node:|require\(|import\(\s*["']node:/, f);
      assert.doesNotMatch(text, /\b(process|Buffer)\./, `${f} uses a Node global`);
    }
  });

  it("checks well-formed strings the same way where String.prototype.isWellFormed is missing (Node 18)", () => {
    for (const text of ["", "plain", "\ud83d\ude00", "a\ud83d", "\ude00b", "\ude00\ud83d", "x\ud83d\ude00\ud83d"]) {
      assert.equal(verify.wellFormedByRegex(text), !/[\ud800-\udfff]/.test(text.replace(/\ud83d\ude00/g, "")), JSON.stringify(text));
    }
  });
});
