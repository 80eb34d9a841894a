// Verification speed of a 100,000-record export: the records are written
// through the real server's batch ingest, the export downloaded to a file,
// then verified from the file with the SDK (in process, streamed) and with
// the flightrec-verify bin (a process, as a user runs it).
// Run (from sdk/typescript, after `npm run build && npm run build:test`):
//   FLIGHTREC_BIN=/path/to/flightrec node build/bench/verify.js
// BENCH_RECORDS (default 100000) changes the size; BENCH_EXPORT=FILE and
// BENCH_KEY=VKEY verify an export already on disk instead of making one.
import { execFileSync } from "node:child_process";
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { splitLines, verify, verifyExport } from "flightrec";
import { startServer } from "../test/server.js";

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);

/** An agent-audit event of the size agents send: a prompt, a response, metadata. */
const event = (i: number) => ({
  type: "llm_call",
  run_id: `bench-run-${Math.floor(i / 500)}`,
  agent_id: "bench-agent",
  input: { prompt: `Summarise ticket #${i}: the customer reports the export button does nothing on Safari.` },
  output: { response: `Ticket ${i}: export fails on Safari; likely the download attribute. Suggest a server-side Content-Disposition.` },
  metadata: { model: "m-1", tokens: { prompt: 41 + (i % 17), completion: 29 + (i % 11) }, temperature: 0.2 },
});

async function makeExport(dir: string): Promise<{ file: string; key: string; ingestSeconds: number }> {
  const server = await startServer();
  try {
    const headers = { authorization: `Bearer ${server.apiKey}`, "content-type": "application/json" };
    const t0 = performance.now();
    for (let i = 0; i < RECORDS; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, RECORDS - i) }, (_, j) => event(i + j));
      const res = await fetch(`${server.url}/v1/events/batch`, { method: "POST", headers, body: JSON.stringify(batch) });
      if (!res.ok) throw new Error(`batch at ${i}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
      if (process.stderr.isTTY) process.stderr.write(`\ringested ${i + batch.length}`);
    }
    const ingestSeconds = (performance.now() - t0) / 1000;
    const file = join(dir, "export.jsonl");
    const res = await fetch(`${server.url}/v1/events/export`, { headers });
    if (!res.ok || !res.body) throw new Error(`export: ${res.status}`);
    await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), createWriteStream(file));
    const trust = await (await fetch(`${server.url}/v1/log/trust`, { headers })).text();
    return { file, key: verify.parseTrustFile(trust)[0]!, ingestSeconds };
  } finally {
    await server.cleanup();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "flightrec-bench-verify-"));
  try {
    let file = process.env.BENCH_EXPORT;
    let key = process.env.BENCH_KEY;
    let ingestSeconds: number | undefined;
    if (file === undefined || key === undefined) ({ file, key, ingestSeconds } = await makeExport(dir));
    const megabytes = statSync(file).size / 1e6;

    const seconds: number[] = [];
    const cpuSeconds: number[] = [];
    let records = 0;
    for (let run = 0; run < RUNS; run++) {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const result = await verifyExport(splitLines(createReadStream(file)), { trust: [key] });
      const cpu = process.cpuUsage(cpu0);
      seconds.push((performance.now() - t0) / 1000);
      // CPU time says what the verifier costs even when other work shares the machine.
      cpuSeconds.push((cpu.user + cpu.system) / 1e6);
      records = result.records;
    }
    cpuSeconds.sort((a, b) => a - b);
    seconds.sort((a, b) => a - b);
    const median = seconds[Math.floor(seconds.length / 2)]!;

    const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "dist", "bin", "flightrec-verify.js");
    const t0 = performance.now();
    execFileSync(process.execPath, [bin, "export", file, "--key", key], { stdio: ["ignore", "ignore", "inherit"] });
    const binSeconds = (performance.now() - t0) / 1000;

    const summary = {
      records,
      export_megabytes: Number(megabytes.toFixed(1)),
      verify_seconds_median: Number(median.toFixed(2)),
      verify_seconds_best: Number(seconds[0]!.toFixed(2)),
      records_per_second: Math.round(records / median),
      verify_cpu_seconds_median: Number(cpuSeconds[Math.floor(cpuSeconds.length / 2)]!.toFixed(2)),
      bin_seconds: Number(binSeconds.toFixed(2)),
      ...(ingestSeconds === undefined ? {} : { ingest_seconds: Number(ingestSeconds.toFixed(1)) }),
      node: process.version,
    };
    if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
    console.log(
      `verified ${records.toLocaleString("en")} records (${summary.export_megabytes} MB) in ${summary.verify_seconds_median} s ` +
        `(median of ${RUNS}; best ${summary.verify_seconds_best} s; ${summary.verify_cpu_seconds_median} s of CPU): ` +
        `${summary.records_per_second.toLocaleString("en")} records/s; ` +
        `the flightrec-verify bin, start to exit: ${summary.bin_seconds} s`,
    );
    console.log(JSON.stringify(summary));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
