// Starts the real flightrec binary for a test: a temp data dir (or a copy of
// a given one), port 0 at first, then the same port on restart so a client
// that keeps its URL reconnects to the same server.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface StartOptions {
  /** Copy this directory's files into the new data dir (e.g. tests/fixtures/store-v1). */
  copyFrom?: string;
  /** The bootstrap key (e.g. the fixture's); a fresh random one by default. */
  apiKey?: string;
  /** Extra arguments for `flightrec serve`. */
  args?: string[];
  /** Extra environment for the server. */
  env?: Record<string, string>;
}

export interface TestServer {
  /** `http://127.0.0.1:PORT`, the same across restarts. */
  url: string;
  apiKey: string;
  dataDir: string;
  port: number;
  /** Graceful stop (SIGTERM, then SIGKILL after 10 s); the data dir is removed by `cleanup()`. */
  stop(): Promise<void>;
  /** SIGKILL: the process dies at once, mid-write if it was writing. */
  kill(): Promise<void>;
  /** Start again on the same port and data dir (stopping first if running). */
  restart(): Promise<void>;
  /** Stop if running and remove the data dir. */
  cleanup(): Promise<void>;
}

/** The repository root: `FLIGHTREC_REPO`, else found from this file's place in the tree. */
export function repoRoot(): string {
  if (process.env.FLIGHTREC_REPO) return resolve(process.env.FLIGHTREC_REPO);
  // test/ (source) or build/test/ (compiled) under sdk/typescript
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "Cargo.toml")) && existsSync(join(dir, "crates"))) return dir;
    dir = dirname(dir);
  }
  throw new Error("cannot find the flightrec repository: set FLIGHTREC_REPO");
}

/** The server binary: `FLIGHTREC_BIN`, else the repo's debug build. */
export function serverBinary(): string {
  const bin =
    process.env.FLIGHTREC_BIN ??
    join(repoRoot(), process.env.CARGO_TARGET_DIR ?? "target", "debug", "flightrec");
  if (!existsSync(bin)) throw new Error(`flightrec binary not found at ${bin}: set FLIGHTREC_BIN`);
  return bin;
}

export function randomApiKey(): string {
  return `fr_test_${randomBytes(20).toString("hex")}`;
}

const LISTENING = /flightrec listening on (http:\/\/[^\s]+)/;

export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const bin = serverBinary();
  const dataDir = mkdtempSync(join(tmpdir(), "flightrec-ts-"));
  if (options.copyFrom) cpSync(options.copyFrom, dataDir, { recursive: true });
  const apiKey = options.apiKey ?? randomApiKey();
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async (): Promise<void> => {
    const args = [
      "serve",
      "--data-dir",
      dataDir,
      "--listen",
      `127.0.0.1:${port}`,
      ...(options.args ?? []),
    ];
    const proc = spawn(bin, args, {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        FLIGHTREC_BOOTSTRAP_API_KEY: apiKey,
        FLIGHTREC_BOOTSTRAP_ADMIN_EMAIL: "owner@example.com",
        FLIGHTREC_BOOTSTRAP_ADMIN_PASSWORD: "correct horse battery staple",
        FLIGHTREC_LOG: "warn",
        ...options.env,
      },
    });
    child = proc;
    let stderr = "";
    proc.stderr!.setEncoding("utf8");
    proc.stderr!.on("data", (d: string) => {
      stderr = (stderr + d).slice(-4000);
      if (process.env.FLIGHTREC_TEST_VERBOSE) process.stderr.write(d);
    });
    const url = await new Promise<string>((ok, fail) => {
      let out = "";
      let started = false;
      const timer = setTimeout(() => fail(new Error(`flightrec did not start in 60 s:\n${stderr}`)), 60_000);
      proc.stdout!.setEncoding("utf8");
      // keep draining stdout for the life of the process, or the server blocks on a full pipe
      proc.stdout!.on("data", (d: string) => {
        if (started) return;
        out += d;
        const m = LISTENING.exec(out);
        if (m) {
          clearTimeout(timer);
          started = true;
          out = "";
          ok(m[1]!);
        }
      });
      proc.once("exit", (code, signal) => {
        clearTimeout(timer);
        fail(new Error(`flightrec exited (${code ?? signal}) before listening:\n${stderr}`));
      });
    });
    port = Number(new URL(url).port);
  };

  const waitExit = (proc: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> =>
    new Promise((ok) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return ok();
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      proc.once("exit", () => {
        clearTimeout(timer);
        ok();
      });
      proc.kill(signal);
    });

  await launch();
  const server: TestServer = {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    apiKey,
    dataDir,
    get port() {
      return port;
    },
    async stop() {
      if (child) await waitExit(child, "SIGTERM", 10_000);
      child = undefined;
    },
    async kill() {
      if (child) await waitExit(child, "SIGKILL", 0);
      child = undefined;
    },
    async restart() {
      await server.stop();
      // the port was just freed; another process could take it, so retry briefly
      for (let attempt = 0; ; attempt++) {
        try {
          await launch();
          return;
        } catch (e) {
          if (attempt >= 20) throw e;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    },
    async cleanup() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return server;
}
