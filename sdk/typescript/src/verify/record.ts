// flightrec's record format (docs/record-format.md), versions 1 and 2: the
// header's members per version, the salted body hash, the leaf, and which
// erased bodies a `log.erased` record of flightrec's own accounts for.
import { bytesEqual, fromHex, shortHex, utf8 } from "./bytes.js";
import { parseStrict, RepeatedKeyError } from "./strict-json.js";
import { VerificationError, type VerificationErrorDetails } from "./errors.js";
import { sha256Parts } from "./hash.js";
import { canonicalize, CanonicalizationError } from "./jcs.js";
import { leafHash } from "./merkle.js";

/** A record header: its JCS is the Merkle leaf input. */
export interface RecordHeader {
  v: number;
  tenant: string;
  seq: number;
  id: string;
  time: string;
  received_at: string;
  type: string;
  run_id?: string;
  span_id?: string;
  parent_span_id?: string;
  status: string;
  submitted_by?: string;
  body_hash: string;
}

/** A record as an export line or a proof's `.json` file holds it. */
export interface RecordLine {
  header: RecordHeader;
  /** The body object, or its JCS text; `null` once erased. */
  body: Record<string, unknown> | string | null;
  /** 32 bytes, hex; `null` once erased. */
  salt: string | null;
}

const STRING = "string";
const COMMON_REQUIRED: Record<string, "string" | "seq" | "hash" | "version"> = {
  v: "version",
  tenant: STRING,
  seq: "seq",
  id: STRING,
  time: STRING,
  received_at: STRING,
  type: STRING,
  status: STRING,
  body_hash: "hash",
};
const OPTIONAL = ["run_id", "span_id", "parent_span_id"];

/** Each version's members: a verifier refuses a missing or an extra one. */
const VERSIONS: Record<number, { required: Record<string, string>; optional: string[] }> = {
  1: { required: COMMON_REQUIRED, optional: OPTIONAL },
  2: { required: { ...COMMON_REQUIRED, submitted_by: STRING }, optional: OPTIONAL },
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks a header has exactly its version's members, of the right kinds. */
export function checkHeader(value: unknown, where: VerificationErrorDetails = {}): RecordHeader {
  if (!isPlainObject(value)) throw new VerificationError("malformed", "the record has no header object", where);
  const version = value.v;
  const spec = typeof version === "number" ? VERSIONS[version] : undefined;
  if (spec === undefined) {
    throw new VerificationError("header", `record format version ${JSON.stringify(version)} is not one this verifier knows (1 or 2)`, where);
  }
  for (const [member, kind] of Object.entries(spec.required)) {
    if (!(member in value)) throw new VerificationError("header", `a version ${version} header must have \`${member}\``, where);
    checkMember(member, value[member], kind, where);
  }
  for (const member of Object.keys(value)) {
    if (member in spec.required) continue;
    if (!spec.optional.includes(member)) {
      throw new VerificationError("header", `a version ${version} header has no member \`${member}\``, where);
    }
    checkMember(member, value[member], STRING, where);
  }
  return value as unknown as RecordHeader;
}

function checkMember(member: string, value: unknown, kind: string, where: VerificationErrorDetails): void {
  const ok =
    kind === "seq"
      ? Number.isSafeInteger(value) && (value as number) >= 0
      : kind === "hash"
        ? typeof value === "string" && /^[0-9a-f]{64}$/.test(value)
        : kind === "version"
          ? true
          : typeof value === "string";
  if (!ok) {
    const want = kind === "seq" ? "a whole number ≥ 0" : kind === "hash" ? "64 lowercase hex digits" : "a string";
    throw new VerificationError("header", `the header's \`${member}\` must be ${want}, not ${JSON.stringify(value)}`, where);
  }
}

/** The Merkle leaf input of a record: JCS(header). */
export function leafInput(header: RecordHeader): Uint8Array {
  return utf8(canonicalize(header));
}

/** SHA-256(0x00 ‖ JCS(header)). */
export function recordLeafHash(header: RecordHeader): Uint8Array {
  return leafHash(leafInput(header));
}

/** SHA-256(salt ‖ JCS(body)). */
export function bodyHash(salt: Uint8Array, body: Record<string, unknown>): Uint8Array {
  return sha256Parts(salt, utf8(canonicalize(body)));
}

export interface CheckedRecord {
  header: RecordHeader;
  leaf: Uint8Array;
  /** The body was erased (body and salt cleared). */
  erased: boolean;
  /** The parsed body, when present. */
  body: Record<string, unknown> | null;
}

/**
 * Checks one record on its own: its header against its version, and its
 * salt and body against `body_hash`. Returns its leaf hash.
 */
export function checkRecord(line: unknown, where: VerificationErrorDetails = {}): CheckedRecord {
  if (!isPlainObject(line)) throw new VerificationError("malformed", "a record line must be a JSON object", where);
  const header = checkHeader(line.header, where);
  const at = { ...where, seq: header.seq };
  let leaf: Uint8Array;
  try {
    leaf = recordLeafHash(header);
  } catch (e) {
    if (e instanceof CanonicalizationError) throw new VerificationError("header", `the header has no canonical form: ${e.message}`, at);
    throw e;
  }
  const { body, salt } = line;
  if (body === null && salt === null) return { header, leaf, erased: true, body: null };
  if (body === null || salt === null || body === undefined || salt === undefined) {
    throw new VerificationError("malformed", "a record has both body and salt, or (erased) neither", at);
  }
  const saltBytes = typeof salt === "string" ? fromHex(salt) : undefined;
  if (saltBytes === undefined || saltBytes.length !== 32) {
    throw new VerificationError("malformed", "the salt must be 32 bytes in lowercase hex", at);
  }
  let bodyObject: unknown = body;
  if (typeof body === "string") {
    // The proof endpoint gives the body as its JCS text.
    try {
      bodyObject = parseStrict(body);
    } catch (e) {
      throw new VerificationError("malformed", `the body text is not JSON${e instanceof RepeatedKeyError ? `: ${e.message}` : ""}`, at);
    }
  }
  if (!isPlainObject(bodyObject)) throw new VerificationError("malformed", "the body must be a JSON object", at);
  let computed: Uint8Array;
  try {
    computed = bodyHash(saltBytes, bodyObject);
  } catch (e) {
    if (e instanceof CanonicalizationError) throw new VerificationError("body_hash", `the body has no canonical form: ${e.message}`, at);
    throw e;
  }
  if (!bytesEqual(computed, fromHex(header.body_hash)!)) {
    throw new VerificationError(
      "body_hash",
      `the body does not match the header: salt ‖ JCS(body) hashes to ${shortHex(computed)}, the header's body_hash is ${header.body_hash.slice(0, 16)}… (the body, the salt or body_hash was altered)`,
      at,
    );
  }
  return { header, leaf, erased: false, body: bodyObject };
}

/**
 * The seq ranges a record accounts for as erased: only a `log.erased`
 * record written by flightrec itself (`submitted_by: flightrec`, so version
 * 2) counts; one sent by a client covers nothing.
 */
export function erasedRanges(record: CheckedRecord): [number, number][] {
  const { header, body } = record;
  if (header.type !== "log.erased" || header.submitted_by !== "flightrec" || body === null) return [];
  const metadata = body.metadata;
  const seqs = isPlainObject(metadata) ? metadata.erased_seqs : undefined;
  if (!Array.isArray(seqs)) return [];
  const ranges: [number, number][] = [];
  for (const pair of seqs) {
    if (Array.isArray(pair) && pair.length === 2 && Number.isSafeInteger(pair[0]) && Number.isSafeInteger(pair[1])) {
      ranges.push([pair[0] as number, pair[1] as number]);
    }
  }
  return ranges;
}

