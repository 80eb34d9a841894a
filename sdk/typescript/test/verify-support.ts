// Helpers for the verifier's tests: talking to the real server, a real
// witness (`flightrec witness serve`), the installed `flightrec-verify` bin,
// and precise tampering of export lines.
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { verify } from "flightrec";
import { serverBinary, type TestServer } from "./server.js";

export async function api(server: TestServer, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${server.apiKey}`);
  return fetch(new URL(path, server.url), { ...init, headers });
}

export async function getText(server: TestServer, path: string): Promise<string> {
  const res = await api(server, path);
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${text}`);
  return text;
}

export async function getJson<T>(server: TestServer, path: string): Promise<T> {
  return JSON.parse(await getText(server, path)) as T;
}

export interface Receipt {
  id: string;
  seq: number;
  leaf_hash: string;
}

/** Records events through `POST /v1/events/batch` (1,000 at most per call). */
export async function ingest(server: TestServer, events: object[]): Promise<Receipt[]> {
  const receipts: Receipt[] = [];
  for (let i = 0; i < events.length; i += 1000) {
    const res = await api(server, "/v1/events/batch", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(events.slice(i, i + 1000)),
    });
    const body = (await res.json()) as { receipts: Receipt[] };
    if (res.status !== 201 && res.status !== 200) throw new Error(`batch: ${res.status} ${JSON.stringify(body)}`);
    receipts.push(...body.receipts);
  }
  return receipts;
}

/** The tenant's verifier keys, as a client sets them up once (`GET /v1/log/trust`). */
export async function trustOf(server: TestServer): Promise<string[]> {
  return verify.parseTrustFile(await getText(server, "/v1/log/trust"));
}

/** The non-empty lines of an export. */
export function linesOf(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

/** Index of the first record line whose header has this seq. */
export function lineOfSeq(lines: string[], seq: number): number {
  const i = lines.findIndex((l) => l.startsWith('{"header"') && (JSON.parse(l) as { header: { seq: number } }).header.seq === seq);
  if (i < 0) throw new Error(`no line with seq ${seq}`);
  return i;
}

/** Replaces the first `from` after `after` in a line (the text must be there). */
export function replaceIn(line: string, from: string, to: string, after = 0): string {
  const at = line.indexOf(from, after);
  if (at < 0) throw new Error(`${JSON.stringify(from)} not in ${line.slice(0, 200)}`);
  return line.slice(0, at) + to + line.slice(at + from.length);
}

/** Changes one character at `at` to another of the same alphabet (hex or base64 stay valid). */
export function flipChar(text: string, at: number): string {
  const c = text[at]!;
  const next = /[0-8a-eA-Y]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 1) : c === "9" ? "0" : c === "f" ? "0" : "A";
  return text.slice(0, at) + next + text.slice(at + 1);
}

/** Lines with one replaced. */
export function withLine(lines: string[], index: number, line: string): string[] {
  return lines.map((l, i) => (i === index ? line : l));
}

export interface Witness {
  url: string;
  /** Its cosignature verifier key. */
  key: string;
  stop(): Promise<void>;
}

/** Starts `flightrec witness serve` on a free port, following the given logs. */
export async function startWitness(logKeys: string[]): Promise<Witness> {
  const dataDir = mkdtempSync(join(tmpdir(), "flightrec-witness-"));
  const args = ["witness", "serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--name", "witness.test/w1"];
  for (const key of logKeys) args.push("--log", key);
  const proc = spawn(serverBinary(), args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, FLIGHTREC_LOG: "warn" } });
  let stderr = "";
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-4000)));
  const { url, key } = await new Promise<{ url: string; key: string }>((ok, fail) => {
    let out = "";
    let done = false;
    const timer = setTimeout(() => fail(new Error(`the witness did not start:\n${stderr}`)), 30_000);
    proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
      if (done) return;
      out += d;
      const key = /witness key:\s+(\S+)/.exec(out)?.[1];
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      if (key && url) {
        done = true;
        clearTimeout(timer);
        ok({ url, key });
      }
    });
    proc.once("exit", (code) => fail(new Error(`the witness exited (${code}):\n${stderr}`)));
  });
  return {
    url,
    key,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        await new Promise<void>((ok) => {
          proc.once("exit", () => ok());
          proc.kill("SIGTERM");
        });
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A new log signing key in a temp dir (`flightrec log new-key`): its file and the default tenant's verifier key. */
export async function newLogKey(): Promise<{ file: string; tenantKey: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "flightrec-logkey-"));
  const file = join(dir, "log-key");
  const { stdout } = await run(serverBinary(), ["log", "new-key", "--origin", "flightrec.local", "-o", file]);
  const originKey = verify.parseVerifierKey(stdout.trim().split("\n")[0]!);
  // Each tenant's log is named <origin>/<tenant>, under the same key.
  return { file, dir, tenantKey: verify.formatVerifierKey(`${originKey.name}/default`, verify.ED25519, originKey.publicKey) };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((ok) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      ok({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** The `flightrec-verify` the installed package put in node_modules/.bin. */
export function installedBin(): string {
  const packageJson = createRequire(import.meta.url).resolve("flightrec/package.json");
  return join(dirname(dirname(packageJson)), ".bin", "flightrec-verify");
}

export function runVerifyBin(args: string[]): Promise<Run> {
  return run(installedBin(), args);
}
