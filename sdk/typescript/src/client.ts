// The entry point: `new FlightrecClient({ apiKey, server })`.
import { Alerts } from "./alerts.js";
import { ConfigError } from "./errors.js";
import { Events } from "./events.js";
import { Transport, type FetchLike } from "./http.js";
import { eventToWire, logToWire, receiptFromWire } from "./mapping.js";
import { Recorder, type RecorderOptions } from "./recorder.js";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry.js";
import { Runs } from "./runs.js";
import type { EventInput, LogEntry, Receipt } from "./types.js";
import { uuidv7 } from "./uuidv7.js";

export interface ClientOptions {
  /** An API key (`fr_…`); under Node, `FLIGHTREC_API_KEY` by default. */
  apiKey?: string;
  /** The server's base URL; under Node, `FLIGHTREC_SERVER` by default. */
  server?: string;
  /** Retries of each request (default: 6 attempts, 200 ms doubling to 10 s, full jitter). */
  retry?: RetryPolicy;
  /** Per-request timeout in ms (default 30,000); streams are not cut. */
  timeoutMs?: number;
  /** A fetch to use instead of the global one. */
  fetch?: FetchLike;
}

const MAX_BATCH = 1000;

function env(name: string): string | undefined {
  // no import of node:process, so the same file runs in browsers
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  return value === "" ? undefined : value;
}

export class FlightrecClient {
  readonly #transport: Transport;
  /** Runs: list, get (with the audit log), state, replay, tree, exportAuditLog. */
  readonly runs: Runs;
  /** Events: search (auto-paging), get, proof, export. */
  readonly events: Events;
  /** Compliance alerts: list, get, resolve. */
  readonly alerts: Alerts;

  constructor(options: ClientOptions = {}) {
    const apiKey = options.apiKey ?? env("FLIGHTREC_API_KEY");
    const server = options.server ?? env("FLIGHTREC_SERVER");
    if (!server) throw new ConfigError("no server: pass { server } or set FLIGHTREC_SERVER (e.g. http://127.0.0.1:8080)");
    if (!/^https?:\/\//i.test(server)) throw new ConfigError(`the server is an http(s) URL, not ${JSON.stringify(server)}`);
    if (!apiKey) throw new ConfigError("no API key: pass { apiKey } or set FLIGHTREC_API_KEY");
    const fetchImpl = options.fetch ?? globalThis.fetch?.bind(globalThis);
    if (!fetchImpl) throw new ConfigError("no fetch in this runtime: pass { fetch } (Node >= 18 has one)");
    this.#transport = new Transport(server, apiKey, fetchImpl, options.retry ?? DEFAULT_RETRY, options.timeoutMs ?? 30_000);
    this.runs = new Runs(this.#transport);
    this.events = new Events(this.#transport);
    this.alerts = new Alerts(this.#transport);
  }

  /** The server's base URL. */
  get server(): string {
    return this.#transport.server;
  }

  /**
   * Records one action in the agent-audit shape and waits for its receipt.
   * `action` becomes the event's type, `prompt` its input, `response` its
   * output, `traceId` its run. Retried safely: the id is made here.
   */
  async log(entry: LogEntry): Promise<Receipt> {
    return this.#recordOne(logToWire(entry));
  }

  /** Records one canonical event (camelCase or canonical names) and waits for its receipt. */
  async record(event: EventInput): Promise<Receipt> {
    if (event === null || typeof event !== "object" || Array.isArray(event)) {
      throw new ConfigError("record() takes an event object");
    }
    return this.#recordOne(eventToWire(event as Record<string, unknown>));
  }

  /**
   * Records many events; answers their receipts in order. Each request of up
   * to 1,000 events is all or nothing: an invalid event fails its request
   * with an `ApiError` whose `details` name each problem's index.
   */
  async recordBatch(events: EventInput[]): Promise<Receipt[]> {
    if (!Array.isArray(events)) throw new ConfigError("recordBatch() takes an array of events");
    if (events.length === 0) return [];
    const wire = events.map((e, i) => {
      if (e === null || typeof e !== "object" || Array.isArray(e)) throw new ConfigError(`event ${i} is not an object`);
      return withId(eventToWire(e as Record<string, unknown>));
    });
    const receipts: Receipt[] = [];
    for (let start = 0; start < wire.length; start += MAX_BATCH) {
      const answer = await this.#transport.json<{ receipts: unknown[] }>("POST", "/v1/events/batch", {
        body: wire.slice(start, start + MAX_BATCH),
      });
      receipts.push(...answer.receipts.map((r) => receiptFromWire(r) as Receipt));
    }
    return receipts;
  }

  /** A background recorder that batches, retries and reports (see `Recorder`). */
  recorder(options: RecorderOptions = {}): Recorder {
    return new Recorder(this.#transport, options);
  }

  async #recordOne(wire: Record<string, unknown>): Promise<Receipt> {
    const answer = await this.#transport.json<{ receipt: unknown }>("POST", "/v1/events", { body: withId(wire) });
    return receiptFromWire(answer.receipt) as Receipt;
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `FlightrecClient { server: ${JSON.stringify(this.server)} }`;
  }

  toJSON(): object {
    return { server: this.server };
  }
}

/** A client-side id makes a retried request safe: the server answers the first receipt. */
function withId(wire: Record<string, unknown>): Record<string, unknown> {
  // `execution_id` is the id's alias: the server refuses an event with both
  if ((wire.id === undefined || wire.id === null) && (wire.execution_id === undefined || wire.execution_id === null)) {
    wire.id = uuidv7();
  }
  if (wire.time instanceof Date) wire.time = wire.time.toISOString();
  if (wire.timestamp instanceof Date) wire.timestamp = wire.timestamp.toISOString();
  return wire;
}
