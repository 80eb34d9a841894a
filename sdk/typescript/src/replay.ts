// The replay cursor. The server sends the run as fast as it is read
// (speed 10000, no gaps) and this cursor paces it locally — the recorded gap
// over the speed, at most maxGapMs — so pause, resume and setSpeed act at
// once without reopening the stream; seeks reopen it at the event asked for.
import { ConfigError, FlightrecError, UnreachableError } from "./errors.js";
import type { Transport } from "./http.js";
import { eventFromWire, runStateFromWire } from "./mapping.js";
import { SseSource } from "./sse.js";
import type { RecordedEvent, RunState } from "./types.js";

/** A clock in ms, injectable so pacing can be tested exactly. */
export interface PaceClock {
  now(): number;
}

const performanceClock: PaceClock = { now: () => globalThis.performance.now() };

export interface ReplayOptions {
  /** Playback speed: 2 plays twice as fast (above 0, at most 10,000; default 1). */
  speed?: number;
  /** Start at this event index (default 0). */
  fromEvent?: number;
  /** The longest wait between two events, in ms (default 2,000). */
  maxGapMs?: number;
  /** Follow a run still being written until it ends (default true). */
  follow?: boolean;
  clock?: PaceClock;
}

/** One event of the run, with its index in run order. */
export type ReplayEvent = RecordedEvent & { index: number };

/** How a replay ended: the server's `end` message. */
export interface ReplayEnd {
  events: number;
  reason: "completed" | "cancelled" | "failed" | "caught_up" | "idle" | string;
}

/** The point to ask the state at: an event index, or a time. */
export type StatePoint = number | string | Date;

export function checkSpeed(speed: number): number {
  if (typeof speed !== "number" || !(speed > 0 && speed <= 10_000)) {
    throw new ConfigError(`a replay's speed is above 0 and at most 10000, not ${String(speed)}`);
  }
  return speed;
}

export async function fetchRunState(transport: Transport, runId: string, at?: StatePoint): Promise<RunState> {
  const query: Record<string, string | number> = {};
  if (typeof at === "number") {
    if (!Number.isInteger(at) || at < 0) throw new ConfigError(`an event index is a whole number ≥ 0, not ${at}`);
    query.event = at;
  } else if (at instanceof Date) {
    query.at = at.toISOString();
  } else if (typeof at === "string") {
    query.at = at;
  }
  const state = await transport.json<unknown>("GET", `/v1/runs/${encodeURIComponent(runId)}/state`, { query });
  return runStateFromWire<RunState>(state);
}

export class Replay implements AsyncIterable<ReplayEvent>, AsyncIterator<ReplayEvent> {
  readonly runId: string;
  readonly #transport: Transport;
  readonly #clock: PaceClock;
  readonly #maxGapMs: number;
  readonly #follow: boolean;

  #speed: number;
  #pausedSince: number | undefined;
  #pausedFor = 0;
  #steps = 0;
  #seek: number | undefined;

  #source: SseSource | undefined;
  #abort: AbortController | undefined;
  #ahead: ReplayEvent | undefined;
  #shown: { time: number | undefined; at: number; pausedFor: number } | undefined;
  #position: number;
  #end: ReplayEnd | undefined;
  #closed = false;
  #changed = signal();

  /** Use `client.runs.replay(id)`. */
  constructor(transport: Transport, runId: string, options: ReplayOptions = {}) {
    this.#transport = transport;
    this.runId = runId;
    this.#speed = checkSpeed(options.speed ?? 1);
    this.#position = options.fromEvent ?? 0;
    if (!Number.isInteger(this.#position) || this.#position < 0) {
      throw new ConfigError(`fromEvent is a whole number ≥ 0, not ${this.#position}`);
    }
    this.#maxGapMs = options.maxGapMs ?? 2_000;
    if (!(this.#maxGapMs >= 0)) throw new ConfigError(`maxGapMs is ≥ 0, not ${this.#maxGapMs}`);
    this.#follow = options.follow ?? true;
    this.#clock = options.clock ?? performanceClock;
  }

  /** Opens the stream now, so an unknown run or a bad key fails here rather than mid-loop. */
  async open(): Promise<this> {
    await this.#openSource();
    return this;
  }

  // --- controls -------------------------------------------------------

  pause(): void {
    if (this.#pausedSince === undefined) {
      this.#pausedSince = this.#clock.now();
      this.#notify();
    }
  }

  resume(): void {
    if (this.#pausedSince !== undefined) {
      this.#pausedFor += Math.max(0, this.#clock.now() - this.#pausedSince);
      this.#pausedSince = undefined;
      this.#notify();
    }
  }

  get paused(): boolean {
    return this.#pausedSince !== undefined;
  }

  /** Shows the next event at once, even while paused (a paused replay stays paused). */
  step(): void {
    this.#steps++;
    this.#notify();
  }

  get speed(): number {
    return this.#speed;
  }

  setSpeed(speed: number): void {
    this.#speed = checkSpeed(speed);
    this.#notify();
  }

  /** Goes to event `n` (0-based, in run order): the next event yielded is that one. */
  seekToEvent(n: number): void {
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`seekToEvent takes a whole number ≥ 0, not ${n}`);
    this.#seek = n;
    // a read waiting on a live run must not hold the seek back: drop the stream now
    this.#closeSource();
    this.#notify();
  }

  /** Goes to the first event after `time`; answers its index. */
  async seekTo(time: string | Date): Promise<number> {
    const before = (await this.getStateAt(typeof time === "string" ? time : time.toISOString())).events;
    this.seekToEvent(before);
    return before;
  }

  /**
   * The run's state (files, context, status…) after event `n`, or at a time:
   * the server's `GET /v1/runs/{id}/state`.
   */
  getStateAt(point: StatePoint): Promise<RunState> {
    return fetchRunState(this.#transport, this.runId, point);
  }

  /** The state after the last event yielded. */
  async state(): Promise<RunState> {
    if (this.#position === 0) return emptyState(this.runId);
    return fetchRunState(this.#transport, this.runId, this.#position - 1);
  }

  /** The index of the next event to be yielded. */
  get position(): number {
    return this.#position;
  }

  /** The server's end message, once the replay ended. */
  get end(): ReplayEnd | undefined {
    return this.#end;
  }

  /** Stops: closes the stream; the iteration ends. */
  close(): void {
    this.#closed = true;
    this.#closeSource();
    this.#notify();
  }

  // --- iteration ------------------------------------------------------

  [Symbol.asyncIterator](): AsyncIterator<ReplayEvent> {
    return this;
  }

  async return(): Promise<IteratorResult<ReplayEvent>> {
    this.close();
    return { done: true, value: undefined };
  }

  async next(): Promise<IteratorResult<ReplayEvent>> {
    for (;;) {
      if (this.#closed) return { done: true, value: undefined };
      if (this.#seek !== undefined) {
        this.#jump(this.#seek);
        this.#seek = undefined;
      }
      const stepping = this.#steps > 0;
      if (this.#pausedSince !== undefined && !stepping) {
        await this.#changed.wait;
        continue;
      }
      if (this.#ahead === undefined) {
        if (this.#end !== undefined) return { done: true, value: undefined };
        const seekBefore = this.#seek;
        const event = await this.#read();
        if (this.#seek !== seekBefore) continue; // a seek came in while reading: that event is stale
        if (event === undefined) {
          if (this.#closed || this.#end) continue;
          return { done: true, value: undefined };
        }
        this.#ahead = event;
        continue; // the controls may have moved while reading
      }
      const nextTime = parseTime(this.#ahead.time);
      let due = 0;
      if (!stepping && this.#shown !== undefined && nextTime !== undefined) {
        const wait = this.#shown.time === undefined ? 0 : delay(this.#shown.time, nextTime, this.#speed, this.#maxGapMs);
        // time spent paused since that event does not count
        due = this.#shown.at + wait + Math.max(0, this.#pausedFor - this.#shown.pausedFor);
      }
      const now = this.#clock.now();
      if (now < due) {
        await this.#sleepOrChange(due - now);
        continue;
      }
      const event = this.#ahead;
      this.#ahead = undefined;
      if (stepping) this.#steps--;
      const pausedNow = this.#pausedSince === undefined ? 0 : Math.max(0, now - this.#pausedSince);
      this.#shown = { time: nextTime, at: now, pausedFor: this.#pausedFor + pausedNow };
      this.#position = event.index + 1;
      return { done: false, value: event };
    }
  }

  // --- internals ------------------------------------------------------

  #notify(): void {
    const old = this.#changed;
    this.#changed = signal();
    old.fire();
  }

  async #sleepOrChange(ms: number): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([new Promise<void>((ok) => (timer = setTimeout(ok, ms))), this.#changed.wait]);
    clearTimeout(timer);
  }

  #jump(n: number): void {
    this.#closeSource();
    this.#ahead = undefined;
    this.#shown = undefined;
    this.#end = undefined;
    this.#position = n;
  }

  #closeSource(): void {
    this.#source?.close();
    this.#abort?.abort();
    this.#source = undefined;
    this.#abort = undefined;
  }

  async #openSource(): Promise<SseSource> {
    if (this.#source) return this.#source;
    const abort = new AbortController();
    const response = await this.#transport.request("GET", `/v1/runs/${encodeURIComponent(this.runId)}/replay`, {
      query: { speed: 10000, max_gap_ms: 0, from_event: this.#position, follow: this.#follow },
      headers: { accept: "text/event-stream" },
      signal: abort.signal,
      timeoutMs: 0,
    });
    if (!response.body) throw new UnreachableError(this.#transport.server, "the replay answer has no body");
    this.#abort = abort;
    this.#source = new SseSource(response.body, this.#transport.server);
    return this.#source;
  }

  /**
   * The next event from the stream, or undefined at its end (or when closed
   * or seeked meanwhile). A stream that breaks — the server restarted, a
   * proxy cut it — is reopened where it stopped (`from_event` = position),
   * up to 3 times in a row, each open retried with the client's policy.
   */
  async #read(): Promise<ReplayEvent | undefined> {
    for (let breaks = 0; ; ) {
      let source: SseSource;
      try {
        source = await this.#openSource();
      } catch (e) {
        if (this.#closed) return undefined;
        throw e;
      }
      let broken: Error | undefined;
      for (;;) {
        let message;
        try {
          message = await source.next();
        } catch (e) {
          if (this.#closed || this.#source !== source) return undefined; // we closed it ourselves
          broken = e instanceof Error ? e : new Error(String(e));
          break;
        }
        if (this.#source !== source) return undefined; // closed by a seek or close()
        if (message === undefined) {
          if (this.#closed) return undefined;
          broken = new UnreachableError(this.#transport.server, "the replay stream ended without its end message");
          break;
        }
        if (message.event === "end") {
          this.#end = JSON.parse(message.data) as ReplayEnd;
          this.#closeSource();
          return undefined;
        }
        if (message.event === "error") throw new FlightrecError(`the server stopped the replay: ${message.data}`);
        if (message.event !== undefined && message.event !== "message") continue;
        const index = Number(message.id);
        if (message.id === undefined || !Number.isInteger(index)) {
          throw new FlightrecError("the replay stream sent an event without its index");
        }
        const event = eventFromWire<RecordedEvent>(JSON.parse(message.data));
        return Object.assign(event, { index });
      }
      this.#closeSource();
      if (++breaks > 3) throw broken;
    }
  }
}

/** The wait before the next event: the recorded gap over the speed, capped. */
export function delay(prevMs: number, nextMs: number, speed: number, maxGapMs: number): number {
  const gap = Math.max(0, nextMs - prevMs);
  return Math.min(gap / speed, maxGapMs);
}

function parseTime(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  // JS dates keep ms; the server's µs would be lost, which is below any timer's grain anyway
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function emptyState(runId: string): RunState {
  return {
    runId,
    events: 0,
    lastIndex: null,
    lastSeq: null,
    lastTime: null,
    status: "not_started",
    files: {},
    context: [],
    changes: [],
    problems: [],
  };
}

function signal(): { wait: Promise<void>; fire: () => void } {
  let fire!: () => void;
  const wait = new Promise<void>((ok) => (fire = ok));
  return { wait, fire };
}
