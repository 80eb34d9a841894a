// C2SP tlog-proof files (`GET /v1/events/{id}/proof?format=tlog-proof`,
// `flightrec log proof -o FILE`), checked against the record they prove
// (the `FILE.json` beside them: `{header, body, salt}`).
import { fromBase64, toHex } from "./bytes.js";
import { verifyCheckpoint, type TrustPolicy, type VerifiedCheckpoint } from "./checkpoint.js";
import { parseStrict, RepeatedKeyError } from "./strict-json.js";
import { VerificationError } from "./errors.js";
import { checkInclusion } from "./merkle.js";
import { checkRecord, type RecordHeader, type RecordLine } from "./record.js";

const MAGIC = "c2sp.org/tlog-proof@v1";

export interface ProofFile {
  /** The entry's index in the log: the record's seq. */
  index: number;
  /** The audit path, the leaf's sibling first. */
  hashes: Uint8Array[];
  /** The signed checkpoint note, with its cosignatures. */
  checkpoint: string;
  /** The optional, unauthenticated `extra` data. */
  extra?: Uint8Array;
  /** 1-based line of the checkpoint's first line. */
  checkpointLine: number;
}

/** Parses a tlog-proof file; errors name the line. */
export function parseProofFile(text: string): ProofFile {
  const lines = text.split("\n");
  if (lines[0] !== MAGIC) throw new VerificationError("malformed", `not a tlog-proof file: the first line must be ${MAGIC}`, { line: 1 });
  let i = 1;
  let extra: Uint8Array | undefined;
  if (lines[i]?.startsWith("extra ")) {
    extra = fromBase64(lines[i]!.slice("extra ".length));
    if (extra === undefined) throw new VerificationError("malformed", "the extra data is not base64", { line: i + 1 });
    i++;
  }
  const indexLine = lines[i] ?? "";
  const indexMatch = /^index (0|[1-9][0-9]*)$/.exec(indexLine);
  const index = indexMatch ? Number(indexMatch[1]) : NaN;
  if (!Number.isSafeInteger(index)) throw new VerificationError("malformed", `expected "index N", found ${JSON.stringify(indexLine)}`, { line: i + 1 });
  i++;
  const hashes: Uint8Array[] = [];
  for (; i < lines.length && lines[i] !== ""; i++) {
    const hash = fromBase64(lines[i]!);
    if (hash === undefined || hash.length !== 32) {
      throw new VerificationError("malformed", "an audit path line must be the base64 of a 32-byte hash", { line: i + 1 });
    }
    hashes.push(hash);
  }
  if (i >= lines.length) throw new VerificationError("malformed", "no blank line before the checkpoint: the file is truncated", { line: i });
  const checkpoint = lines.slice(i + 1).join("\n");
  return { index, hashes, checkpoint, checkpointLine: i + 2, ...(extra === undefined ? {} : { extra }) };
}

export interface ProofVerification {
  seq: number;
  /** The record's leaf hash, hex. */
  leafHash: string;
  header: RecordHeader;
  /** The record's body and salt were erased: the proof covers its header only. */
  bodyErased: boolean;
  checkpoint: VerifiedCheckpoint;
}

/**
 * Verifies a tlog-proof file for a record: the checkpoint against the trust
 * policy, the record's body against its header (unless erased), and the
 * audit path from the record's leaf to the checkpoint's root.
 */
export function verifyProofFile(proofText: string, record: RecordLine | string, policy: TrustPolicy): ProofVerification {
  const proof = parseProofFile(proofText);
  let recordValue: unknown = record;
  if (typeof record === "string") {
    try {
      recordValue = parseStrict(record);
    } catch (e) {
      throw new VerificationError("malformed", `the record file is not JSON${e instanceof RepeatedKeyError ? `: ${e.message}` : ""}`);
    }
  }
  const checked = checkRecord(recordValue);
  const { header } = checked;
  let checkpoint: VerifiedCheckpoint;
  try {
    checkpoint = verifyCheckpoint(proof.checkpoint, policy);
  } catch (e) {
    if (e instanceof VerificationError) throw new VerificationError(e.code, e.message, { line: proof.checkpointLine });
    throw e;
  }
  if (!checkpoint.origin.endsWith(`/${header.tenant}`)) {
    throw new VerificationError("checkpoint", `the checkpoint is of the log ${checkpoint.origin}, the record of tenant ${JSON.stringify(header.tenant)}`);
  }
  if (header.seq !== proof.index) {
    throw new VerificationError("inclusion", `the proof is for entry ${proof.index}, the record is seq ${header.seq}`, { seq: header.seq });
  }
  const problem = checkInclusion(proof.index, checkpoint.treeSize, checked.leaf, proof.hashes, checkpoint.rootHash);
  if (problem !== undefined) {
    throw new VerificationError(
      "inclusion",
      `${problem}${problem.endsWith("root") ? " than the signed checkpoint's: the record's header or an audit path hash was altered" : ""}`,
      { seq: header.seq },
    );
  }
  return { seq: header.seq, leafHash: toHex(checked.leaf), header, bodyErased: checked.erased, checkpoint };
}
