#!/usr/bin/env node
// flightrec-verify: check a flightrec export or tlog-proof file offline, with
// keys you trust, never with anything the file or a server says about itself.
// Exit 0: valid; 1: invalid (the reason on stderr); 2: usage or unreadable input.
import { constants, createReadStream, readFileSync } from "node:fs";
import { access } from "node:fs/promises";
import { parseArgs } from "node:util";
import {
  parseTrustFile,
  splitLines,
  verifyExport,
  verifyProofFile,
  VerificationError,
  type ExportVerification,
  type ProofVerification,
  type TrustPolicy,
  type VerifiedCheckpoint,
} from "../verify/index.js";

const USAGE = `usage:
  flightrec-verify export FILE.jsonl (--key VKEY | --trust FILE) [--witness VKEY]... [--witness-threshold K] [--checkpoint FILE]
  flightrec-verify proof FILE --record FILE.json (--key VKEY | --trust FILE) [--witness VKEY]... [--witness-threshold K]

  export  a GET /v1/events/export file (JSON Lines; "-" reads standard input)
  proof   a C2SP tlog-proof file, with the record it proves ({header, body, salt})

  --key VKEY             a log's verifier key, or a file of them (repeatable)
  --trust FILE           a trust file (flightrec log trust): verifier keys, one per line
  --witness VKEY         a witness whose cosignature is required, or a file of them (repeatable)
  --witness-threshold K  how many of the witnesses must have cosigned (default: all)
  --checkpoint FILE      (export) check against this signed checkpoint instead of the export's own
                         (one you saved, or a cosigned one from GET /v1/log/checkpoint; same tree size)
  --json                 print the result as JSON

exit status: 0 valid, 1 invalid, 2 usage or unreadable input`;

class UsageError extends Error {}
/** A file that cannot be read: exit 2 like a usage mistake, without the usage text. */
class InputError extends Error {}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new InputError(`cannot read the ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** A key given on the command line, or a file of keys (one per line, `#` comments). */
function keysFrom(value: string): string[] {
  return value.includes("+") ? [value] : parseTrustFile(readText(value, "key file"));
}

function policyFrom(values: { key?: string[]; trust?: string; witness?: string[]; "witness-threshold"?: string }): TrustPolicy {
  const trust = (values.key ?? []).flatMap(keysFrom);
  if (values.trust !== undefined) trust.push(...parseTrustFile(readText(values.trust, "trust file")));
  if (trust.length === 0) throw new UsageError("give the log's verifier key with --key VKEY or a trust file with --trust FILE");
  const threshold = values["witness-threshold"];
  if (threshold !== undefined && !/^[0-9]+$/.test(threshold)) throw new UsageError(`--witness-threshold takes a number, not ${threshold}`);
  return {
    trust,
    witnesses: (values.witness ?? []).flatMap(keysFrom),
    ...(threshold === undefined ? {} : { witnessThreshold: Number(threshold) }),
  };
}

function describeCheckpoint(c: VerifiedCheckpoint): string {
  const cosigned = c.cosignatures.map((w) => `${w.witness} at ${new Date(w.time * 1000).toISOString()}`);
  return `checkpoint ${c.origin} size ${c.treeSize}, signed by ${c.logKey.split("+")[0]}${cosigned.length ? `, cosigned by ${cosigned.join(", ")}` : ""}`;
}

function describeExport(r: ExportVerification): string {
  const kind = r.filtered ? "each by its inclusion proof" : "the whole log, rebuilt from seq 0";
  const versions = Object.entries(r.versions).map(([v, n]) => `${n} v${v}`).join(", ");
  const erased = r.erasedSeqs.length ? `; ${r.erasedSeqs.length} erased bodies, each covered by a log.erased record` : "";
  return `OK: ${r.records} records (${versions}) of tenant ${r.tenant}, seq ${r.firstSeq}–${r.lastSeq}, ${kind}${erased}; ${describeCheckpoint(r.checkpoint)}`;
}

function describeProof(r: ProofVerification): string {
  const body = r.bodyErased ? " (its body is erased: the header alone is proven)" : ", body matches its hash";
  return `OK: record ${r.header.id}, seq ${r.seq}, is in the log${body}; ${describeCheckpoint(r.checkpoint)}`;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      key: { type: "string", multiple: true },
      trust: { type: "string" },
      witness: { type: "string", multiple: true },
      "witness-threshold": { type: "string" },
      record: { type: "string" },
      checkpoint: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command, file, ...extra] = positionals;
  if (command === undefined) throw new UsageError("say what to verify: export or proof");
  if (file === undefined) throw new UsageError(`${command}: which file?`);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);

  if (command === "export") {
    if (values.record !== undefined) throw new UsageError("--record is for proof files");
    const policy = policyFrom(values);
    const checkpoint = values.checkpoint === undefined ? {} : { checkpoint: readText(values.checkpoint, "checkpoint") };
    // Report an unreadable file as such, not as an invalid export.
    if (file !== "-") {
      await access(file, constants.R_OK).catch((e: NodeJS.ErrnoException) => {
        throw new InputError(`cannot read the export ${file}: ${e.code ?? e.message}`);
      });
    }
    const progress = process.stderr.isTTY
      ? (n: number) => process.stderr.write(`\rverified ${n.toLocaleString("en")} records…`)
      : undefined;
    try {
      const input = file === "-" ? process.stdin : createReadStream(file);
      const result = await verifyExport(splitLines(input), { ...policy, ...checkpoint, ...(progress ? { onProgress: progress, progressEvery: 5000 } : {}) });
      if (progress) process.stderr.write("\r\x1b[K");
      for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
      process.stdout.write(values.json ? `${JSON.stringify(result, jsonBytes)}\n` : `${describeExport(result)}\n`);
    } finally {
      if (progress) process.stderr.write("\r\x1b[K");
    }
    return 0;
  }
  if (command === "proof") {
    if (values.checkpoint !== undefined) throw new UsageError("--checkpoint is for exports: a proof file carries its checkpoint");
    if (values.record === undefined) throw new UsageError("proof needs --record FILE.json, the record the proof is for (flightrec log proof -o saves it beside the proof)");
    const policy = policyFrom(values);
    const proofText = readText(file, "proof file");
    const recordText = readText(values.record, "record file");
    const result = verifyProofFile(proofText, recordText, policy);
    process.stdout.write(values.json ? `${JSON.stringify(result, jsonBytes)}\n` : `${describeProof(result)}\n`);
    return 0;
  }
  throw new UsageError(`unknown command ${command}: export or proof`);
}

/** JSON output: bytes as hex. */
function jsonBytes(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Array.from(value, (b) => b.toString(16).padStart(2, "0")).join("");
  return value;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof VerificationError && e.code === "key") {
      // A key that cannot be used is a mistake in the command, not in the file.
      process.stderr.write(`flightrec-verify: ${e.message}\n`);
      process.exitCode = 2;
    } else if (e instanceof VerificationError) {
      process.stderr.write(`INVALID (${e.code}): ${e.message}\n`);
      process.exitCode = 1;
    } else if (e instanceof InputError) {
      process.stderr.write(`flightrec-verify: ${e.message}\n`);
      process.exitCode = 2;
    } else if (e instanceof UsageError || (e instanceof Error && "code" in e && String(e.code).startsWith("ERR_PARSE_ARGS"))) {
      process.stderr.write(`flightrec-verify: ${e.message}\n\n${USAGE}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`flightrec-verify: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 2;
    }
  },
);
