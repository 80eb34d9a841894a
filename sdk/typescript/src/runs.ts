// `client.runs`: summaries, a run with its audit log, state, replay, tree and exports.
import { ConfigError } from "./errors.js";
import { ExportStream } from "./export.js";
import type { Transport } from "./http.js";
import { camelKeys, eventFromWire, runFromWire } from "./mapping.js";
import { Paginator } from "./pager.js";
import { fetchRunState, Replay, type ReplayOptions, type StatePoint } from "./replay.js";
import type { RecordedEvent, Run, RunState, RunStatus, RunSummary } from "./types.js";

export interface RunListFilters {
  status?: RunStatus;
  agentId?: string;
  /** Page size (≤ 1000). */
  limit?: number;
}

export interface AuditLogFilters {
  /** RFC 3339 or a Date, inclusive. */
  from?: string | Date;
  /** RFC 3339 or a Date, inclusive. */
  to?: string | Date;
  types?: string[];
  /** At most this many events (default 1,000, up to 10,000). */
  limit?: number;
  /** `auditLogNextCursor` of the previous answer. */
  cursor?: string;
}

export interface RunGetOptions {
  include?: Array<"auditLog">;
  auditLog?: AuditLogFilters;
}

export type ExportFormat = "jsonl" | "json" | "csv" | "transcript" | "asciicast" | "html";

const FORMATS: readonly string[] = ["jsonl", "json", "csv", "transcript", "asciicast", "html"];

export function checkFormat(format: string): string {
  if (!FORMATS.includes(format)) {
    throw new ConfigError(`format must be one of ${FORMATS.join(", ")}, not ${JSON.stringify(format)}`);
  }
  return format;
}

const iso = (t: string | Date | undefined) => (t instanceof Date ? t.toISOString() : t);
const runPath = (id: string) => {
  if (typeof id !== "string" || id === "") throw new ConfigError("a run id is a non-empty string");
  return `/v1/runs/${encodeURIComponent(id)}`;
};

export class Runs {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Runs, most recently active first, every page on demand. */
  list(filters: RunListFilters = {}): Paginator<RunSummary> {
    return new Paginator(async (cursor) => {
      const page = await this.#transport.json<{ runs: unknown[]; next_cursor: string | null }>("GET", "/v1/runs", {
        query: { status: filters.status, agent_id: filters.agentId, limit: filters.limit, cursor },
      });
      return { items: page.runs.map((r) => runFromWire<RunSummary>(r)), nextCursor: page.next_cursor };
    });
  }

  /** One run's summary; with `include: ['auditLog']` also its events in run order. */
  async get(runId: string, options: RunGetOptions = {}): Promise<Run> {
    const withLog = options.include?.includes("auditLog") ?? false;
    for (const what of options.include ?? []) {
      if (what !== "auditLog") throw new ConfigError(`include takes "auditLog", not ${JSON.stringify(what)}`);
    }
    const f = options.auditLog ?? {};
    const query = withLog
      ? { include: "audit_log", from: iso(f.from), to: iso(f.to), types: f.types, limit: f.limit, cursor: f.cursor }
      : {};
    const raw = await this.#transport.json<Record<string, unknown>>("GET", runPath(runId), { query });
    const { audit_log, next_cursor, ...summary } = raw;
    const run = runFromWire<Run>(summary);
    if (withLog) {
      run.auditLog = ((audit_log as unknown[]) ?? []).map((e) => eventFromWire<RecordedEvent>(e));
      run.auditLogNextCursor = (next_cursor as string | null) ?? null;
    }
    return run;
  }

  /** Every event of a run's audit log (filtered as in `get`), paging by itself. */
  auditLog(runId: string, filters: Omit<AuditLogFilters, "cursor"> = {}): Paginator<RecordedEvent> {
    return new Paginator(async (cursor) => {
      const run = await this.get(runId, { include: ["auditLog"], auditLog: { ...filters, cursor } });
      return { items: run.auditLog ?? [], nextCursor: run.auditLogNextCursor ?? null };
    });
  }

  /** What the agent had after event `n` (0-based) or at a time; the end of the run by default. */
  state(runId: string, at?: StatePoint): Promise<RunState> {
    runPath(runId);
    return fetchRunState(this.#transport, runId, at);
  }

  /**
   * A replay cursor over the run: `for await (const event of replay)`, paced
   * as recorded, with pause/resume/seekTo/seekToEvent/setSpeed/getStateAt.
   */
  async replay(runId: string, options: ReplayOptions = {}): Promise<Replay> {
    runPath(runId);
    return new Replay(this.#transport, runId, options).open();
  }

  /** The span tree: `{runId, spans, eventsWithoutSpan, eventCount}`. */
  async tree(runId: string): Promise<Record<string, unknown>> {
    return camelKeys(await this.#transport.json<unknown>("GET", `${runPath(runId)}/tree`));
  }

  /**
   * The run's audit log, streamed: `jsonl` (default; verifiable offline),
   * `json`, `csv`, `transcript`, `asciicast` or `html`.
   */
  async exportAuditLog(runId: string, options: { format?: ExportFormat } = {}): Promise<ExportStream> {
    const format = checkFormat(options.format ?? "jsonl");
    const response = await this.#transport.request("GET", `${runPath(runId)}/export`, {
      query: { format },
      headers: { accept: "*/*" },
      timeoutMs: 0,
    });
    return new ExportStream(response, format);
  }
}
