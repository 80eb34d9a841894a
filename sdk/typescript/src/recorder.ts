// A batching recorder: `record()` only stamps, serializes and buffers the
// event (a few µs on the caller's thread); one background sender ships
// batches by size or interval, retries transient failures with the same
// ids (so the server records each event once), and reports what it could
// not deliver.
import { ApiError, BufferFullError, ConfigError, FlightrecError, RecorderClosedError } from "./errors.js";
import type { Transport } from "./http.js";
import { eventToWire, logToWire, receiptFromWire } from "./mapping.js";
import type { RetryPolicy } from "./retry.js";
import type { EventInput, LogEntry, Receipt } from "./types.js";
import { uuidv7 } from "./uuidv7.js";
import { isoNow } from "./clock.js";

export interface RecorderOptions {
  /** Events per request (default 200, at most 1,000). */
  batchSize?: number;
  /** A partial batch is sent this long after its first event at the latest (default 250 ms). */
  flushIntervalMs?: number;
  /** Events held at most (default 10,000). */
  maxBufferedEvents?: number;
  /** Bytes of serialized events held at most (default 64 MiB). */
  maxBufferedBytes?: number;
  /**
   * What `record()` does when the buffer is full: `"throw"` (default) throws
   * `BufferFullError` and keeps nothing; `"drop"` returns the id but drops the
   * event, counting it in the report's `dropped`.
   */
  whenFull?: "throw" | "drop";
  /** Retries of one batch (default: the client's policy, itself 6 attempts, 200 ms doubling to 10 s, full jitter). */
  retry?: RetryPolicy;
  /** After a batch spent its retries, try again this much later (default 5,000 ms). */
  retryIdleMs?: number;
  /** Under Node, flush on `beforeExit` (default true). */
  flushOnExit?: boolean;
  /** Called with each batch's receipts once the server committed them. */
  onDelivered?: (receipts: Receipt[]) => void;
  /** Called with events the server refused for good. */
  onRejected?: (rejected: RejectedEvent[]) => void;
}

/** An event the server refused for good, with its reason. */
export interface RejectedEvent {
  id: string;
  event: Record<string, unknown>;
  status: number;
  code: string;
  reason: string;
}

export interface RecorderReport {
  /** Events the server acknowledged (durably committed) since the recorder started. */
  delivered: number;
  /** Events the server refused for good (bad event, 401, 403, 413): the first 10,000 of them. */
  rejected: RejectedEvent[];
  /** How many events the server refused for good (exact; `rejected` lists at most 10,000). */
  rejectedCount: number;
  /** Ids of events dropped because the buffer was full (`whenFull: "drop"`): the first 10,000 of them. */
  dropped: string[];
  /** How many events were dropped (exact; `dropped` lists at most 10,000). */
  droppedCount: number;
  /** Events still buffered: not delivered, because the server stayed away. */
  undelivered: Array<{ id: string; event: Record<string, unknown> }>;
  /** Why the last attempt failed, if the server stayed away. */
  lastError?: string;
}

export interface RecorderStats {
  buffered: number;
  bufferedBytes: number;
  delivered: number;
  rejected: number;
  dropped: number;
  closed: boolean;
}

interface Pending {
  id: string;
  json: string;
  bytes: number;
}

interface Waiter {
  target: number;
  ok: () => void;
  fail: (e: Error) => void;
}

const MAX_EVENT_BYTES = 1024 * 1024;
/** At most this many refused events and dropped ids are kept for the report (its counts stay exact). */
export const REPORT_LIMIT = 10_000;
const MAX_BATCH_BYTES = 8 * 1024 * 1024;

export class Recorder {
  readonly #transport: Transport;
  readonly #batchSize: number;
  readonly #intervalMs: number;
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #whenFull: "throw" | "drop";
  readonly #retry: RetryPolicy;
  readonly #retryIdleMs: number;
  readonly #onDelivered: ((r: Receipt[]) => void) | undefined;
  readonly #onRejected: ((r: RejectedEvent[]) => void) | undefined;

  // FIFO queue: an array and the index of its head, so taking a batch is O(batch)
  #queue: Pending[] = [];
  #head = 0;
  #bytes = 0;

  // counts of events ever buffered / ever settled (delivered or rejected), for flush()
  #recorded = 0;
  #settled = 0;
  #drainTarget = 0;
  #delivered = 0;
  #rejected: RejectedEvent[] = [];
  #rejectedCount = 0;
  #dropped: string[] = [];
  #droppedCount = 0;
  #lastError: FlightrecError | undefined;

  #timer: ReturnType<typeof setTimeout> | undefined;
  #sending: Promise<void> | undefined;
  #waiters: Waiter[] = [];
  #closed = false;
  #closing: Promise<RecorderReport> | undefined;
  #exitHook: (() => void) | undefined;

  constructor(transport: Transport, options: RecorderOptions = {}) {
    this.#transport = transport;
    this.#batchSize = positive("batchSize", options.batchSize ?? 200, 1000);
    this.#intervalMs = positive("flushIntervalMs", options.flushIntervalMs ?? 250);
    this.#maxEvents = positive("maxBufferedEvents", options.maxBufferedEvents ?? 10_000);
    this.#maxBytes = positive("maxBufferedBytes", options.maxBufferedBytes ?? 64 * 1024 * 1024);
    this.#whenFull = options.whenFull ?? "throw";
    if (this.#whenFull !== "throw" && this.#whenFull !== "drop") {
      throw new ConfigError(`whenFull must be "throw" or "drop", not ${JSON.stringify(this.#whenFull)}`);
    }
    this.#retry = options.retry ?? transport.retry;
    this.#retryIdleMs = positive("retryIdleMs", options.retryIdleMs ?? 5_000);
    this.#onDelivered = options.onDelivered;
    this.#onRejected = options.onRejected;
    if ((options.flushOnExit ?? true) && typeof globalThis.process?.once === "function") {
      // Node: the event loop is empty but events are buffered; flushing keeps it alive until sent
      this.#exitHook = () => {
        if (this.#closed || this.#size === 0) return;
        void this.close().then((report) => {
          if (report.undelivered.length || report.rejectedCount || report.droppedCount) {
            console.warn(`flightrec: at exit ${describeReport(report)}`);
          }
        });
      };
      globalThis.process.once("beforeExit", this.#exitHook);
    }
  }

  get #size(): number {
    return this.#queue.length - this.#head;
  }

  /**
   * Buffers one canonical event and answers its id (a UUIDv7 unless it has one).
   * Never waits: the event is serialized now, so later changes to the object
   * do not reach the server.
   */
  record(event: EventInput): string {
    if (this.#closed) throw new RecorderClosedError("the recorder is closed; it records nothing more");
    if (event === null || typeof event !== "object" || Array.isArray(event)) {
      throw new ConfigError("record() takes an event object");
    }
    const wire = eventToWire(event as Record<string, unknown>);
    return this.#buffer(wire);
  }

  /** Buffers one action in the agent-audit shape (`action`, `prompt`, `response`, …); answers its id. */
  log(entry: LogEntry): string {
    if (this.#closed) throw new RecorderClosedError("the recorder is closed; it records nothing more");
    return this.#buffer(logToWire(entry));
  }

  #buffer(wire: Record<string, unknown>): string {
    // `execution_id` and `timestamp` are aliases the server accepts, and it
    // refuses an event holding both an alias and its canonical name
    let id = wire.id ?? wire.execution_id;
    if (id === undefined || id === null) {
      id = uuidv7();
      wire.id = id;
    } else if (typeof id !== "string") {
      throw new ConfigError("an event's id must be a string");
    }
    if (wire.time instanceof Date) wire.time = wire.time.toISOString();
    else if (wire.timestamp instanceof Date) wire.timestamp = wire.timestamp.toISOString();
    else if ((wire.time === undefined || wire.time === null) && (wire.timestamp === undefined || wire.timestamp === null)) {
      wire.time = isoNow();
    }
    const json = JSON.stringify(wire);
    // UTF-16 length bounds UTF-8 bytes within 3×; exact count only when it might matter
    const bytes = json.length * 3 > MAX_EVENT_BYTES ? new TextEncoder().encode(json).length : json.length;
    if (bytes > MAX_EVENT_BYTES) {
      throw new ConfigError(`event ${id} is ${bytes} bytes; the server takes at most ${MAX_EVENT_BYTES}`);
    }
    if (this.#size >= this.#maxEvents || this.#bytes + bytes > this.#maxBytes) {
      if (this.#whenFull === "throw") {
        throw new BufferFullError(
          `the recorder's buffer is full (${this.#size} events, ${this.#bytes} bytes): the server is not keeping up or is away`,
        );
      }
      // the buffer's bound is the memory bound: the list of dropped ids is capped too
      if (this.#dropped.length < REPORT_LIMIT) this.#dropped.push(id as string);
      this.#droppedCount++;
      return id as string;
    }
    this.#queue.push({ id: id as string, json, bytes });
    this.#bytes += bytes;
    this.#recorded++;
    if (this.#size >= this.#batchSize) this.#kick();
    else if (this.#timer === undefined) this.#arm(this.#intervalMs);
    return id as string;
  }

  /**
   * Sends everything recorded so far and waits until the server committed it
   * (or refused parts for good: see `report().rejected`). Throws if the server
   * stays away through every retry; the events then stay buffered.
   */
  async flush(): Promise<RecorderReport> {
    const target = this.#recorded;
    if (this.#settled < target) {
      await new Promise<void>((ok, fail) => {
        this.#waiters.push({ target, ok, fail });
        this.#drainTarget = Math.max(this.#drainTarget, target);
        this.#kick();
      });
    }
    return this.report();
  }

  /**
   * Flushes and stops. Never throws for delivery: the report says what was
   * delivered, refused, dropped, and what is still undelivered.
   */
  close(): Promise<RecorderReport> {
    if (!this.#closing) {
      this.#closed = true;
      this.#closing = (async () => {
        if (this.#exitHook) globalThis.process?.removeListener?.("beforeExit", this.#exitHook);
        try {
          await this.flush();
        } catch {
          // the report lists what is undelivered and why
        }
        if (this.#timer !== undefined) clearTimeout(this.#timer);
        this.#timer = undefined;
        return this.report();
      })();
    }
    return this.#closing;
  }

  /** What happened so far: delivered count, refused, dropped and still-buffered events. */
  report(): RecorderReport {
    const undelivered = this.#queue.slice(this.#head).map((p) => ({ id: p.id, event: JSON.parse(p.json) as Record<string, unknown> }));
    const report: RecorderReport = {
      delivered: this.#delivered,
      rejected: [...this.#rejected],
      rejectedCount: this.#rejectedCount,
      dropped: [...this.#dropped],
      droppedCount: this.#droppedCount,
      undelivered,
    };
    if (undelivered.length && this.#lastError) report.lastError = this.#lastError.message;
    return report;
  }

  stats(): RecorderStats {
    return {
      buffered: this.#size,
      bufferedBytes: this.#bytes,
      delivered: this.#delivered,
      rejected: this.#rejectedCount,
      dropped: this.#droppedCount,
      closed: this.#closed,
    };
  }

  #arm(ms: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const timer = setTimeout(() => {
      this.#timer = undefined;
      this.#drainTarget = Math.max(this.#drainTarget, this.#recorded);
      this.#kick();
    }, ms);
    // an idle recorder must not keep a Node process alive; beforeExit flushes it instead
    (timer as { unref?: () => void }).unref?.();
    this.#timer = timer;
  }

  #kick(): void {
    if (!this.#sending) {
      this.#sending = this.#run().finally(() => {
        this.#sending = undefined;
        // events may have arrived while the last batch was in flight
        if (this.#size > 0 && (this.#size >= this.#batchSize || this.#settled < this.#drainTarget) && !this.#lastError) {
          this.#kick();
        }
      });
    }
  }

  async #run(): Promise<void> {
    // let the caller's synchronous burst fill the batch before sending
    await Promise.resolve();
    this.#lastError = undefined;
    while (this.#size > 0 && (this.#size >= this.#batchSize || this.#settled < this.#drainTarget)) {
      const batch = this.#take();
      try {
        await this.#send(batch);
      } catch (e) {
        // the server stayed away (#send put the batch back at the front): tell waiters, try later
        this.#lastError = e instanceof FlightrecError ? e : new FlightrecError(String(e));
        const waiters = this.#waiters;
        this.#waiters = [];
        for (const w of waiters) w.fail(this.#lastError);
        if (!this.#closed) this.#arm(this.#retryIdleMs);
        return;
      }
      this.#settle();
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
    }
    if (this.#size > 0 && this.#timer === undefined && !this.#closed) this.#arm(this.#intervalMs);
  }

  #take(): Pending[] {
    const batch: Pending[] = [];
    let bytes = 2;
    while (this.#head < this.#queue.length && batch.length < this.#batchSize) {
      const next = this.#queue[this.#head]!;
      if (batch.length > 0 && bytes + next.bytes + 1 > MAX_BATCH_BYTES) break;
      batch.push(next);
      bytes += next.bytes + 1;
      this.#head++;
    }
    return batch;
  }

  /** Drops sent events from the queue's head and wakes flushes that are done. */
  #release(count: number, bytes: number): void {
    this.#settled += count;
    this.#bytes -= bytes;
  }

  #settle(): void {
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (this.#settled >= w.target) w.ok();
      else still.push(w);
    }
    this.#waiters = still;
  }

  /**
   * Sends one batch (taken from the queue's head). Resolves once every event
   * in it is delivered or refused; throws if the server stays away, with the
   * events not yet settled put back at the queue's head.
   */
  async #send(batch: Pending[]): Promise<void> {
    let remaining = batch;
    try {
      await this.#sendAll(remaining, (rest) => (remaining = rest));
    } catch (e) {
      // the batch sat just before the head; its unsettled events go back there, in order
      for (let i = 0; i < remaining.length; i++) this.#queue[this.#head - remaining.length + i] = remaining[i]!;
      this.#head -= remaining.length;
      throw e;
    }
  }

  async #sendAll(batch: Pending[], track: (rest: Pending[]) => void): Promise<void> {
    let remaining = batch;
    while (remaining.length > 0) {
      const body = `[${remaining.map((p) => p.json).join(",")}]`;
      try {
        const answer = await this.#transport.json<{ receipts: unknown[] }>("POST", "/v1/events/batch", {
          rawBody: body,
          retry: this.#retry,
        });
        const receipts = answer.receipts.map((r) => receiptFromWire(r) as Receipt);
        this.#delivered += remaining.length;
        this.#release(remaining.length, remaining.reduce((n, p) => n + p.bytes, 0));
        this.#onDelivered?.(receipts);
        return;
      } catch (e) {
        if (!(e instanceof ApiError) || e.retryable) throw e;
        // refused for good: set aside the events the server named, send the rest again
        const named = new Set(e.details.map((d) => d.index).filter((i): i is number => typeof i === "number"));
        const refused = named.size > 0 ? remaining.filter((_, i) => named.has(i)) : remaining;
        const reasons = new Map<number, string>();
        for (const d of e.details) {
          if (typeof d.index === "number") {
            const prior = reasons.get(d.index);
            const text = d.field ? `${d.field}: ${d.message}` : d.message;
            reasons.set(d.index, prior ? `${prior}; ${text}` : text);
          }
        }
        const rejected = remaining
          .map((p, i) => ({ p, i }))
          .filter(({ i }) => named.size === 0 || named.has(i))
          .map(({ p, i }) => ({
            id: p.id,
            event: JSON.parse(p.json) as Record<string, unknown>,
            status: e.status,
            code: e.code,
            reason: reasons.get(i) ?? e.message,
          }));
        // kept for the report up to REPORT_LIMIT (each holds its event): the rest is counted
        for (const r of rejected) if (this.#rejected.length < REPORT_LIMIT) this.#rejected.push(r);
        this.#rejectedCount += rejected.length;
        this.#release(refused.length, refused.reduce((n, p) => n + p.bytes, 0));
        this.#onRejected?.(rejected);
        remaining = named.size > 0 ? remaining.filter((_, i) => !named.has(i)) : [];
        track(remaining);
      }
    }
  }

  [Symbol.for("nodejs.util.inspect.custom")](): string {
    const s = this.stats();
    return `Recorder { buffered: ${s.buffered}, delivered: ${s.delivered}, rejected: ${s.rejected}, dropped: ${s.dropped}, closed: ${s.closed} }`;
  }
}

/** One line saying what could not be delivered. */
export function describeReport(report: RecorderReport): string {
  const parts = [`${report.delivered} delivered`];
  if (report.rejectedCount) parts.push(`${report.rejectedCount} refused by the server (e.g. ${report.rejected[0]!.reason})`);
  if (report.droppedCount) parts.push(`${report.droppedCount} dropped (buffer full)`);
  if (report.undelivered.length) {
    parts.push(`${report.undelivered.length} undelivered${report.lastError ? ` (${report.lastError})` : ""}`);
  }
  return parts.join(", ");
}

function positive(name: string, value: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new ConfigError(`${name} must be a number above 0${max < Number.MAX_SAFE_INTEGER ? ` and at most ${max}` : ""}, not ${value}`);
  }
  return value;
}

