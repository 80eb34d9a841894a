// C2SP tlog-checkpoint: the signed tree head, and the trust policy it must
// meet (the log's key, and a threshold of witnesses' cosignatures).
import { fromBase64 } from "./bytes.js";
import { VerificationError } from "./errors.js";
import { COSIGNATURE_V1, ED25519, parseSignedNote, parseVerifierKey, verifyNoteSignatures, type VerifierKey } from "./note.js";

export interface Checkpoint {
  /** The log's identity, `<origin>/<tenant>` for flightrec. */
  origin: string;
  treeSize: number;
  rootHash: Uint8Array;
  /** Lines after the root hash, if the log wrote any (flightrec writes none). */
  extensions: string[];
}

export interface VerifiedCheckpoint extends Checkpoint {
  /** The signed note text (origin, size, root, newline-terminated). */
  text: string;
  /** The log key whose signature verified. */
  logKey: string;
  /** The witnesses whose cosignature verified, with the time each signed. */
  cosignatures: { witness: string; time: number }[];
}

export interface TrustPolicy {
  /** Verifier keys of the logs you trust (`--key`, or the lines of a trust file). */
  trust: readonly (string | VerifierKey)[];
  /** Verifier keys of the witnesses whose cosignatures you require. */
  witnesses?: readonly (string | VerifierKey)[];
  /** How many of `witnesses` must have cosigned; all of them by default. */
  witnessThreshold?: number;
}

const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

/** Parses checkpoint note text (without signatures). */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith("\n")) throw new VerificationError("checkpoint", "the checkpoint text must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) throw new VerificationError("checkpoint", "a checkpoint has at least three lines: origin, tree size, root hash");
  const [origin, size, root, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin === "") throw new VerificationError("checkpoint", "the checkpoint's origin line is empty");
  const treeSize = DECIMAL.test(size) ? Number(size) : NaN;
  if (!Number.isSafeInteger(treeSize)) throw new VerificationError("checkpoint", `the checkpoint's tree size is not a decimal number: ${JSON.stringify(size)}`);
  const rootHash = fromBase64(root);
  if (rootHash === undefined || rootHash.length !== 32) {
    throw new VerificationError("checkpoint", `the checkpoint's root hash is not base64 of 32 bytes: ${JSON.stringify(root)}`);
  }
  if (extensions.some((line) => line === "")) throw new VerificationError("checkpoint", "a checkpoint's extension lines must not be empty");
  return { origin, treeSize, rootHash, extensions };
}

/** Parses each key once, and sorts them into log keys and witness keys. */
export function resolveKeys(policy: TrustPolicy): { logKeys: VerifierKey[]; witnessKeys: VerifierKey[]; threshold: number } {
  const parse = (k: string | VerifierKey): VerifierKey => (typeof k === "string" ? parseVerifierKey(k) : k);
  const logKeys = policy.trust.map(parse);
  const witnessKeys = (policy.witnesses ?? []).map(parse);
  if (logKeys.length === 0) throw new VerificationError("key", "no trusted log key: give the log's verifier key (or a trust file)");
  for (const key of logKeys) {
    if (key.type !== ED25519) throw new VerificationError("key", `${key.name}: a log key has signature type 0x01, this one is a witness key`);
  }
  for (const key of witnessKeys) {
    if (key.type !== COSIGNATURE_V1) throw new VerificationError("key", `${key.name}: a witness key has signature type 0x04, this one is not`);
  }
  const threshold = policy.witnessThreshold ?? witnessKeys.length;
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > witnessKeys.length) {
    throw new VerificationError("key", `a witness threshold of ${threshold} is not between 0 and the ${witnessKeys.length} witness key(s) given`);
  }
  return { logKeys, witnessKeys, threshold };
}

/**
 * Opens a signed checkpoint: signed by the trusted key named after its
 * origin, and cosigned by at least the threshold of the given witnesses.
 */
export function verifyCheckpoint(note: string, policy: TrustPolicy): VerifiedCheckpoint {
  const { logKeys, witnessKeys, threshold } = resolveKeys(policy);
  const signed = parseSignedNote(note);
  const checkpoint = parseCheckpoint(signed.text);
  // Every trusted key named after the origin counts: two self-hosted servers
  // both keep the default origin (flightrec.local/default), and a trust
  // file may hold the keys of both.
  const originKeys = logKeys.filter((k) => k.name === checkpoint.origin);
  if (originKeys.length === 0) {
    throw new VerificationError("signature", `no trusted key for the log ${checkpoint.origin} (trusted: ${logKeys.map((k) => k.name).join(", ")})`);
  }
  const verdicts = verifyNoteSignatures(signed, [...originKeys, ...witnessKeys]);
  const logKey = verdicts.find((v) => originKeys.includes(v.key))?.key;
  if (logKey === undefined) {
    throw new VerificationError("signature", `the checkpoint carries no signature by the trusted key ${originKeys.map((k) => k.text).join(" or ")}`);
  }
  const cosignatures = verdicts
    .filter((v) => v.key.type === COSIGNATURE_V1)
    .map((v) => ({ witness: v.key.name, time: v.time! }));
  if (cosignatures.length < threshold) {
    const missing = witnessKeys.filter((k) => !cosignatures.some((c) => c.witness === k.name)).map((k) => k.name);
    throw new VerificationError(
      "cosignature",
      `the checkpoint is cosigned by ${cosignatures.length} of the required ${threshold} witness(es); missing: ${missing.join(", ")}`,
    );
  }
  return { ...checkpoint, text: signed.text, logKey: logKey.text, cosignatures };
}

/** The lines of a trust file: one verifier key per line, `#` comments. */
export function parseTrustFile(text: string): string[] {
  const keys = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  if (keys.length === 0) throw new VerificationError("key", "the trust file holds no verifier key");
  for (const key of keys) parseVerifierKey(key);
  return keys;
}
