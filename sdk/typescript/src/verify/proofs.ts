// The typed, throwing forms of the proof checks, for callers that hold
// proofs from the API (`GET /v1/log/proof/inclusion`, `/consistency`,
// `GET /v1/events/{id}?proof=true`), in hex as the API gives them or as bytes.
import { fromBase64, fromHex } from "./bytes.js";
import { VerificationError } from "./errors.js";
import { checkConsistency, checkInclusion } from "./merkle.js";
import { parseSignedNote, parseVerifierKey, verifyNoteSignatures, COSIGNATURE_V1, type VerifierKey } from "./note.js";

/** A hash as bytes, or as hex (as the HTTP API writes them). */
export type HashInput = Uint8Array | string;

function hashBytes(value: HashInput, what: string): Uint8Array {
  const bytes = typeof value === "string" ? (fromHex(value) ?? fromBase64(value)) : value;
  if (bytes === undefined || bytes.length !== 32) throw new VerificationError("malformed", `${what} is not a 32-byte hash (hex or base64)`);
  return bytes;
}

export interface InclusionProof {
  leafIndex: number;
  treeSize: number;
  /** The leaf hash (a receipt's `leaf_hash`, or `recordLeafHash(header)`). */
  leafHash: HashInput;
  /** The audit path (`hashes`), the leaf's sibling first. */
  proof: readonly HashInput[];
  /** The root the path must lead to (a verified checkpoint's). */
  rootHash: HashInput;
}

/** RFC 9162 §2.1.3.2: throws a `VerificationError` ("inclusion") unless the leaf is in the tree. */
export function verifyInclusion(p: InclusionProof): void {
  const problem = checkInclusion(
    p.leafIndex,
    p.treeSize,
    hashBytes(p.leafHash, "the leaf hash"),
    p.proof.map((h, i) => hashBytes(h, `proof hash ${i}`)),
    hashBytes(p.rootHash, "the root hash"),
  );
  if (problem !== undefined) throw new VerificationError("inclusion", `leaf ${p.leafIndex} of ${p.treeSize}: ${problem}`);
}

export interface ConsistencyProof {
  oldSize: number;
  newSize: number;
  oldRoot: HashInput;
  newRoot: HashInput;
  proof: readonly HashInput[];
}

/** RFC 9162 §2.1.4.2: throws a `VerificationError` ("consistency") unless the new tree extends the old. */
export function verifyConsistency(p: ConsistencyProof): void {
  const problem = checkConsistency(
    p.oldSize,
    p.newSize,
    hashBytes(p.oldRoot, "the old root"),
    hashBytes(p.newRoot, "the new root"),
    p.proof.map((h, i) => hashBytes(h, `proof hash ${i}`)),
  );
  if (problem !== undefined) throw new VerificationError("consistency", `sizes ${p.oldSize} → ${p.newSize}: ${problem}`);
}

export interface VerifiedNote {
  /** The signed text, with its final newline. */
  text: string;
  /** Names of the Ed25519 (0x01) keys whose signature verified. */
  signedBy: string[];
  /** Cosignatures (0x04) that verified, with the time each was made. */
  cosignatures: { witness: string; time: number }[];
}

/**
 * Opens a C2SP signed note with the keys you trust: signatures by other keys
 * are ignored; a trusted key's bad signature rejects the note; at least one
 * trusted signature (of any type) must verify.
 */
export function verifyNote(note: string, keys: readonly (string | VerifierKey)[]): VerifiedNote {
  const parsed = parseSignedNote(note);
  const known = keys.map((k) => (typeof k === "string" ? parseVerifierKey(k) : k));
  const verdicts = verifyNoteSignatures(parsed, known);
  if (verdicts.length === 0) {
    throw new VerificationError("signature", `the note carries no signature by a trusted key (trusted: ${known.map((k) => k.name).join(", ") || "none"})`);
  }
  return {
    text: parsed.text,
    signedBy: verdicts.filter((v) => v.key.type !== COSIGNATURE_V1).map((v) => v.key.name),
    cosignatures: verdicts.filter((v) => v.key.type === COSIGNATURE_V1).map((v) => ({ witness: v.key.name, time: v.time! })),
  };
}
