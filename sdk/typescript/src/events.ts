// `client.events`: search (auto-paging), one event, its proof, and the export.
import { ConfigError } from "./errors.js";
import { ExportStream } from "./export.js";
import type { Query, Transport } from "./http.js";
import { camelKeys, eventFromWire } from "./mapping.js";
import { Paginator } from "./pager.js";
import { checkFormat, type ExportFormat } from "./runs.js";
import type { RecordedEvent } from "./types.js";

/** The filters of `GET /v1/events`, camelCase; all combined with AND. */
export interface EventFilters {
  type?: string;
  runId?: string;
  agentId?: string;
  sessionId?: string;
  provider?: string;
  actor?: string;
  actorType?: "human" | "agent" | "system";
  resourceType?: string;
  resourceId?: string;
  verb?: string;
  status?: "ok" | "fail" | "warn";
  governanceStatus?: "approved" | "blocked" | "pending" | "dry_run" | "auto";
  /** An RFC 3339 time, a Date, a span back from now (`15m`, `24h`, `7d`) or `all`. */
  since?: string | Date;
  until?: string | Date;
  /** Free text: every word must occur. */
  q?: string;
  submittedBy?: string;
  origin?: "flightrec" | "client";
  /** Page size (1–1000, default 50). */
  limit?: number;
}

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function filtersToQuery(filters: Record<string, unknown>): Query {
  const query: Query = {};
  for (const [k, v] of Object.entries(filters)) {
    if (v === undefined || v === null) continue;
    query[snake(k)] = v instanceof Date ? v.toISOString() : (v as Query[string]);
  }
  return query;
}

const eventPath = (id: string) => {
  if (typeof id !== "string" || id === "") throw new ConfigError("an event id is a non-empty string");
  return `/v1/events/${encodeURIComponent(id)}`;
};

export class Events {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /** Events matching the filters, newest first, every page on demand. */
  search(filters: EventFilters = {}): Paginator<RecordedEvent> {
    const query = filtersToQuery(filters as Record<string, unknown>);
    return new Paginator(async (cursor) => {
      const page = await this.#transport.json<{ events: unknown[]; next_cursor: string | null }>("GET", "/v1/events", {
        query: { ...query, cursor },
      });
      return { items: page.events.map((e) => eventFromWire<RecordedEvent>(e)), nextCursor: page.next_cursor };
    });
  }

  /** One event; with `proof: true` also its header, body, salt, inclusion proof and checkpoint. */
  async get(id: string, options: { proof?: boolean } = {}): Promise<RecordedEvent> {
    const raw = await this.#transport.json<unknown>("GET", eventPath(id), { query: { proof: options.proof ? "true" : undefined } });
    return eventFromWire<RecordedEvent>(raw);
  }

  /**
   * The event's inclusion proof: `format: "json"` (default) answers
   * `{header, body, salt, leafHash, proof, checkpoint}` (header and body as
   * the server sent them); `"tlog-proof"` answers the C2SP tlog-proof text.
   */
  async proof(id: string, options: { format?: "json" | "tlog-proof" } = {}): Promise<Record<string, unknown> | string> {
    if (options.format === "tlog-proof") {
      const response = await this.#transport.request("GET", `${eventPath(id)}/proof`, {
        query: { format: "tlog-proof" },
        headers: { accept: "text/plain" },
      });
      return response.text();
    }
    return camelKeys(await this.#transport.json<unknown>("GET", `${eventPath(id)}/proof`));
  }

  /** The events export over the filters, streamed; `jsonl` (default) verifies offline. */
  async export(filters: Omit<EventFilters, "limit"> & { format?: ExportFormat } = {}): Promise<ExportStream> {
    const { format: f, ...rest } = filters;
    const format = checkFormat(f ?? "jsonl");
    const response = await this.#transport.request("GET", "/v1/events/export", {
      query: { ...filtersToQuery(rest as Record<string, unknown>), format },
      headers: { accept: "*/*" },
      timeoutMs: 0,
    });
    return new ExportStream(response, format);
  }
}
