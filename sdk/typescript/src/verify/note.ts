// C2SP signed-note: verifier keys, parsing a note, and checking its
// signatures (Ed25519 note signatures, type 0x01, and C2SP tlog-cosignature
// Ed25519 cosignatures, type 0x04).
import { concatBytes, fromBase64, toBase64, toHex, utf8 } from "./bytes.js";
import { VerificationError } from "./errors.js";
import { ed25519Verify, sha256 } from "./hash.js";

/** Signature type 0x01: an Ed25519 signature over the note text (a log's key). */
export const ED25519 = 0x01;
/** Signature type 0x04: a timestamped Ed25519 cosignature (a witness's key). */
export const COSIGNATURE_V1 = 0x04;

export interface VerifierKey {
  /** The key name, e.g. `flightrec.local/default`. */
  name: string;
  /** The 4-byte key ID, as 8 hex digits. */
  keyId: string;
  /** `ED25519` (a log) or `COSIGNATURE_V1` (a witness). */
  type: number;
  publicKey: Uint8Array;
  /** The key as written: `<name>+<key id>+<base64(type ‖ key)>`. */
  text: string;
}

/** key ID = SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4] (C2SP signed-note). */
export function keyIdOf(name: string, type: number, publicKey: Uint8Array): string {
  return toHex(sha256(concatBytes(utf8(name), new Uint8Array([0x0a, type]), publicKey)).subarray(0, 4));
}

function validKeyName(name: string): boolean {
  // Non-empty, no Unicode white space, no plus; no control characters either.
  return name.length > 0 && !/[\s+\u0000-\u001f\u007f]/u.test(name);
}

/** Parses a C2SP verifier key (`name+keyid+base64`) of type 0x01 or 0x04. */
export function parseVerifierKey(text: string): VerifierKey {
  const key = text.trim();
  const first = key.indexOf("+");
  const second = key.indexOf("+", first + 1);
  if (first < 0 || second < 0) {
    throw new VerificationError("key", `not a verifier key (want name+keyid+base64): ${JSON.stringify(key)}`);
  }
  const name = key.slice(0, first);
  const keyId = key.slice(first + 1, second);
  const material = fromBase64(key.slice(second + 1));
  if (!validKeyName(name)) throw new VerificationError("key", `verifier key has an invalid name: ${JSON.stringify(name)}`);
  if (!/^[0-9a-f]{8}$/.test(keyId)) throw new VerificationError("key", `verifier key ${name}: the key ID must be 8 lowercase hex digits`);
  if (material === undefined) throw new VerificationError("key", `verifier key ${name}: the key is not valid base64`);
  const type = material[0];
  if (type !== ED25519 && type !== COSIGNATURE_V1) {
    throw new VerificationError("key", `verifier key ${name}: signature type ${type ?? "(none)"} is not supported (only Ed25519, 0x01, and Ed25519 cosignatures, 0x04)`);
  }
  const publicKey = material.subarray(1);
  if (publicKey.length !== 32) throw new VerificationError("key", `verifier key ${name}: an Ed25519 key is 32 bytes, not ${publicKey.length}`);
  const expected = keyIdOf(name, type, publicKey);
  if (expected !== keyId) throw new VerificationError("key", `verifier key ${name}: key ID ${keyId} does not match the key (it should be ${expected})`);
  return { name, keyId, type, publicKey, text: key };
}

/** The verifier key text for a public key, as a log or witness would print it. */
export function formatVerifierKey(name: string, type: number, publicKey: Uint8Array): string {
  return `${name}+${keyIdOf(name, type, publicKey)}+${toBase64(concatBytes(new Uint8Array([type]), publicKey))}`;
}

export interface NoteSignature {
  name: string;
  /** The 4-byte key ID, as 8 hex digits. */
  keyId: string;
  /** The signature bytes after the key ID. */
  signature: Uint8Array;
}

export interface SignedNote {
  /** The signed text, with its final newline. */
  text: string;
  signatures: NoteSignature[];
}

/** At least the 16 that signed-note requires; far more than any log sends. */
const MAX_SIGNATURES = 100;
const SIGNATURE_LINE = /^\u2014 (\S+) (\S+)$/u;

/** Splits a C2SP signed note into its text and signature lines. */
export function parseSignedNote(note: string): SignedNote {
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) {
    throw new VerificationError("malformed", "a signed note must not hold control characters other than newline");
  }
  if (!note.endsWith("\n")) throw new VerificationError("malformed", "a signed note must end with a newline");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new VerificationError("malformed", "a signed note needs a blank line between its text and its signatures");
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) throw new VerificationError("malformed", `a signed note with ${lines.length} signatures is more than ${MAX_SIGNATURES}`);
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    const match = SIGNATURE_LINE.exec(line);
    const bytes = match ? fromBase64(match[2]!) : undefined;
    if (!match || bytes === undefined || bytes.length < 5 || !validKeyName(match[1]!)) {
      throw new VerificationError("malformed", `not a signature line: ${JSON.stringify(line)}`);
    }
    signatures.push({ name: match[1]!, keyId: toHex(bytes.subarray(0, 4)), signature: bytes.subarray(4) });
  }
  return { text, signatures };
}

/** What one trusted key made of a note. */
export interface KeyVerdict {
  key: VerifierKey;
  /** For a cosignature: the witness's time, in seconds since the Unix epoch. */
  time?: number;
}

/** The message a cosignature/v1 signs: two header lines, then the note text. */
export function cosignedMessage(time: number, text: string): Uint8Array {
  return utf8(`cosignature/v1\ntime ${time}\n${text}`);
}

/**
 * Checks every signature of a note by a key in `keys` (signatures by other
 * keys are ignored, as signed-note requires) and returns the keys whose
 * signature verified. A known key's signature that fails to verify, or
 * appears twice, rejects the whole note.
 */
export function verifyNoteSignatures(note: SignedNote, keys: readonly VerifierKey[]): KeyVerdict[] {
  const verdicts: KeyVerdict[] = [];
  const textBytes = utf8(note.text);
  for (const sig of note.signatures) {
    const key = keys.find((k) => k.name === sig.name && k.keyId === sig.keyId);
    if (key === undefined) continue;
    const who = key.type === COSIGNATURE_V1 ? `witness ${key.name}` : `key ${key.name}`;
    const code = key.type === COSIGNATURE_V1 ? "cosignature" : "signature";
    if (verdicts.some((v) => v.key === key)) {
      throw new VerificationError(code, `the note carries two signatures by ${who}`);
    }
    if (key.type === ED25519) {
      if (!ed25519Verify(key.publicKey, textBytes, sig.signature)) {
        throw new VerificationError(code, `the signature by ${who} does not verify: the checkpoint text or the signature was altered`);
      }
      verdicts.push({ key });
    } else {
      if (sig.signature.length !== 8 + 64) {
        throw new VerificationError(code, `the cosignature by ${who} is ${sig.signature.length} bytes, not 8 + 64`);
      }
      const view = new DataView(sig.signature.buffer, sig.signature.byteOffset, 8);
      const time = view.getUint32(0) * 2 ** 32 + view.getUint32(4);
      if (!Number.isSafeInteger(time)) throw new VerificationError(code, `the cosignature by ${who} has an impossible time`);
      if (!ed25519Verify(key.publicKey, cosignedMessage(time, note.text), sig.signature.subarray(8))) {
        throw new VerificationError(code, `the cosignature by ${who} does not verify: the checkpoint text or the cosignature was altered`);
      }
      verdicts.push({ key, time });
    }
  }
  return verdicts;
}
