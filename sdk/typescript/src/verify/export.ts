// Verifying a whole `GET /v1/events/export` JSONL file, streamed: every
// record's body against its header, every header into the tree (rebuilt from
// seq 0 when unfiltered, or by each line's inclusion proof when filtered),
// the tree against the signed checkpoint, and erased bodies against
// flightrec's own `log.erased` records.
import { fromHex, shortHex, toHex } from "./bytes.js";
import { resolveKeys, verifyCheckpoint, type TrustPolicy, type VerifiedCheckpoint } from "./checkpoint.js";
import { VerificationError } from "./errors.js";
import { linesOf, type LineSource } from "./lines.js";
import { rootFromInclusionProof, TreeBuilder } from "./merkle.js";
import { checkRecord, erasedRanges } from "./record.js";
import { repeatedKey } from "./strict-json.js";

export interface ExportVerifyOptions extends TrustPolicy {
  /**
   * A signed checkpoint to check the records against instead of the export's
   * own checkpoint line: one you saved, or a cosigned one from
   * `GET /v1/log/checkpoint`. It must be of the same tree size.
   */
  checkpoint?: string;
  /** Called every `progressEvery` records (default 1000) with the count so far. */
  onProgress?: (records: number) => void;
  progressEvery?: number;
}

export interface ExportVerification {
  /** Record lines verified. */
  records: number;
  /** The lines carried inclusion proofs (a filtered export), rather than being the whole log. */
  filtered: boolean;
  tenant: string;
  /** The first and last seq in the file. */
  firstSeq: number;
  lastSeq: number;
  /** Seqs whose bodies are erased, each covered by a `log.erased` record of flightrec's own. */
  erasedSeqs: number[];
  /** The number of records of each format version (`{1: 46, 2: 12}`). */
  versions: Record<number, number>;
  checkpoint: VerifiedCheckpoint;
  /** Things worth knowing that did not make the export invalid. */
  warnings: string[];
}

type Line = Record<string, unknown>;

function parseLine(text: string, line: number): Line {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new VerificationError("malformed", "not a JSON line", { line });
  }
  const repeated = repeatedKey(text);
  if (repeated !== undefined) {
    throw new VerificationError("malformed", `the JSON repeats the key ${JSON.stringify(repeated)}`, { line });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new VerificationError("malformed", "a line must be a JSON object", { line });
  }
  return value as Line;
}

/** Where in the file a record is. */
interface Place {
  line: number;
  seq: number;
}

/**
 * Verifies an export, given as its text, its lines, or an async iterable of
 * lines (see `splitLines` for streams). Resolves with what was verified;
 * rejects with a `VerificationError` naming the first failure and its line.
 */
export async function verifyExport(source: LineSource, options: ExportVerifyOptions): Promise<ExportVerification> {
  // Refuse unusable keys (and thresholds) before reading anything.
  const { logKeys, witnessKeys } = resolveKeys(options);
  const policy: TrustPolicy = {
    trust: logKeys,
    witnesses: witnessKeys,
    ...(options.witnessThreshold === undefined ? {} : { witnessThreshold: options.witnessThreshold }),
  };
  const progressEvery = options.progressEvery ?? 1000;

  const tree = new TreeBuilder();
  let filtered: boolean | undefined;
  let records = 0;
  let tenant: string | undefined;
  let firstSeq = -1;
  let lastSeq = -1;
  const versions: Record<number, number> = {};
  const erased: Place[] = [];
  const covered: [number, number][] = [];
  // Filtered exports: the first line at which each distinct (size, root) claim appeared.
  const claims = new Map<string, Place>();
  // A checkpoint given by the caller is checked before reading anything.
  let checkpoint: VerifiedCheckpoint | undefined = options.checkpoint === undefined ? undefined : verifyCheckpoint(options.checkpoint, policy);
  let embeddedSeen = false;
  let checkpointLine = 0;
  let publicKey: string | undefined;
  const warnings: string[] = [];
  let lineNo = 0;

  for await (const raw of linesOf(source)) {
    lineNo++;
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text.trim() === "") continue;
    const line = parseLine(text, lineNo);

    if ("checkpoint" in line) {
      if (embeddedSeen) throw new VerificationError("malformed", "a second checkpoint line", { line: lineNo });
      if (typeof line.checkpoint !== "string") throw new VerificationError("malformed", "the checkpoint must be a string", { line: lineNo });
      embeddedSeen = true;
      checkpointLine = lineNo;
      if (options.checkpoint !== undefined) continue;
      try {
        checkpoint = verifyCheckpoint(line.checkpoint, policy);
      } catch (e) {
        if (e instanceof VerificationError) throw new VerificationError(e.code, e.message, { line: lineNo });
        throw e;
      }
      continue;
    }
    if ("public_key" in line) {
      if (typeof line.public_key !== "string") throw new VerificationError("malformed", "the public_key must be a string", { line: lineNo });
      publicKey = line.public_key;
      continue;
    }
    if (!("header" in line)) {
      throw new VerificationError("malformed", "neither a record (header, body, salt) nor the checkpoint", { line: lineNo });
    }
    if (embeddedSeen) {
      throw new VerificationError("sequence", `a record after the checkpoint (line ${checkpointLine}): records must all come before it`, { line: lineNo });
    }

    const record = checkRecord(line, { line: lineNo });
    const { header } = record;
    const where = { line: lineNo, seq: header.seq };
    records++;
    versions[header.v] = (versions[header.v] ?? 0) + 1;
    if (tenant === undefined) tenant = header.tenant;
    else if (header.tenant !== tenant) {
      throw new VerificationError("header", `a record of tenant ${JSON.stringify(header.tenant)} in an export of tenant ${JSON.stringify(tenant)}`, where);
    }

    const hasProof = "proof" in line && line.proof !== undefined;
    if (filtered === undefined) filtered = hasProof;
    else if (filtered !== hasProof) {
      throw new VerificationError(
        "malformed",
        filtered ? "this line has no inclusion proof, unlike those before it" : "this line has an inclusion proof, unlike those before it",
        where,
      );
    }

    if (!filtered) {
      if (header.seq !== tree.size) {
        const why =
          header.seq > tree.size
            ? header.seq - 1 > tree.size
              ? `records ${tree.size}–${header.seq - 1} are missing`
              : `record ${tree.size} is missing`
            : "records are repeated or out of order";
        throw new VerificationError("sequence", `expected seq ${tree.size}, found seq ${header.seq}: ${why} (an unfiltered export is the whole log from seq 0)`, where);
      }
      tree.append(record.leaf);
    } else {
      if (header.seq <= lastSeq) {
        throw new VerificationError("sequence", `seq ${header.seq} after seq ${lastSeq}: records are repeated or out of order`, where);
      }
      const claim = checkProofLine(line.proof, record.leaf, header.seq, where);
      if (!claims.has(claim)) claims.set(claim, { line: lineNo, seq: header.seq });
    }

    if (firstSeq < 0) firstSeq = header.seq;
    lastSeq = header.seq;
    if (record.erased) erased.push({ line: lineNo, seq: header.seq });
    covered.push(...erasedRanges(record));
    if (options.onProgress && records % progressEvery === 0) options.onProgress(records);
  }

  // Where a failure against the checkpoint is reported: its line, unless the caller gave it.
  const atCheckpoint = options.checkpoint === undefined ? { line: checkpointLine } : {};
  if (checkpoint === undefined) {
    throw new VerificationError("malformed", `no checkpoint line after ${records} record(s): the export is truncated or is not a flightrec export`);
  }
  if (records === 0 || tenant === undefined) {
    throw new VerificationError("malformed", "the export holds no record, so it proves nothing");
  }
  if (!checkpoint.origin.endsWith(`/${tenant}`)) {
    throw new VerificationError("checkpoint", `the checkpoint is of the log ${checkpoint.origin}, not of tenant ${JSON.stringify(tenant)}'s log`, atCheckpoint);
  }

  if (!filtered) {
    if (tree.size !== checkpoint.treeSize) {
      throw new VerificationError(
        "root",
        tree.size < checkpoint.treeSize
          ? `the export holds ${tree.size} records, the checkpoint covers ${checkpoint.treeSize}: the last ${checkpoint.treeSize - tree.size} are missing`
          : `the export holds ${tree.size} records, more than the ${checkpoint.treeSize} the checkpoint covers`,
        atCheckpoint,
      );
    }
    const root = tree.root();
    if (toHex(root) !== toHex(checkpoint.rootHash)) {
      throw new VerificationError(
        "root",
        `the ${tree.size} records rebuild the root ${shortHex(root)}, the signed checkpoint says ${shortHex(checkpoint.rootHash)}: a header was altered, or records were added, removed or reordered`,
        atCheckpoint,
      );
    }
  } else {
    const expected = `${checkpoint.treeSize}:${toHex(checkpoint.rootHash)}`;
    for (const [claim, at] of claims) {
      if (claim === expected) continue;
      const [size, root] = claim.split(":") as [string, string];
      throw new VerificationError(
        "inclusion",
        Number(size) !== checkpoint.treeSize
          ? `the inclusion proof is for tree size ${size}, the checkpoint's is ${checkpoint.treeSize}`
          : `the inclusion proof leads to the root ${root.slice(0, 16)}…, the signed checkpoint's is ${shortHex(checkpoint.rootHash)}: the header or a proof hash was altered`,
        at,
      );
    }
  }

  for (const record of erased) {
    if (!covered.some(([first, last]) => first <= record.seq && record.seq <= last)) {
      throw new VerificationError(
        "erasure",
        "the body and salt are gone, and no log.erased record of flightrec's own in this export covers this seq: the body was removed outside an erasure",
        record,
      );
    }
  }

  if (publicKey !== undefined && !logKeys.some((k) => k.text === publicKey)) {
    warnings.push(`the export's public_key line (${publicKey}) is not a key you trust; it was ignored, as it must be`);
  }

  return {
    records,
    filtered: filtered ?? false,
    tenant,
    firstSeq,
    lastSeq,
    erasedSeqs: erased.map((e) => e.seq),
    versions,
    checkpoint,
    warnings,
  };
}

/** Checks a line's proof is well formed and returns its claim: "size:root". */
function checkProofLine(proof: unknown, leaf: Uint8Array, seq: number, where: Place): string {
  if (typeof proof !== "object" || proof === null) throw new VerificationError("malformed", "the proof must be an object", where);
  const { leaf_index: leafIndex, tree_size: treeSize, hashes } = proof as Record<string, unknown>;
  if (typeof leafIndex !== "number" || typeof treeSize !== "number" || !Array.isArray(hashes)) {
    throw new VerificationError("malformed", "the proof needs leaf_index, tree_size and hashes", where);
  }
  if (leafIndex !== seq) throw new VerificationError("inclusion", `the proof is for leaf ${leafIndex}, not for this record's seq`, where);
  const path = hashes.map((h, i) => {
    const bytes = typeof h === "string" ? fromHex(h) : undefined;
    if (bytes === undefined || bytes.length !== 32) throw new VerificationError("malformed", `proof hash ${i} is not 32 bytes of lowercase hex`, where);
    return bytes;
  });
  const result = rootFromInclusionProof(leafIndex, treeSize, leaf, path);
  if ("problem" in result) throw new VerificationError("inclusion", result.problem, where);
  return `${treeSize}:${toHex(result.root)}`;
}
