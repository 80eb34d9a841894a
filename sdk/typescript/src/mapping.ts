// camelCase in the SDK, snake_case on the wire. Only the SDK's own shapes are
// renamed: what an agent put in `input`, `output`, `metadata`, `error` (and a
// run state's file paths) is user data and passes through untouched.
import { ConfigError } from "./errors.js";

const TO_WIRE: Record<string, string> = {
  runId: "run_id",
  spanId: "span_id",
  parentSpanId: "parent_span_id",
  sessionId: "session_id",
  agentId: "agent_id",
  riskLevel: "risk_level",
  dryRun: "dry_run",
  idempotencyHit: "idempotency_hit",
  durationMs: "duration_ms",
};

/** An event as the caller wrote it (camelCase or canonical names) → the canonical wire shape. */
export function eventToWire(event: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in event) {
    const value = event[key];
    if (value === undefined) continue;
    out[TO_WIRE[key] ?? key] = value;
  }
  return out;
}

function camel(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Renames an object's own keys (one level), keeping the values listed in `keep` as they are. */
export function camelKeys<T>(value: unknown, nested: Record<string, (v: unknown) => unknown> = {}): T {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value as T;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const convert = nested[key];
    out[camel(key)] = convert ? convert(v) : v;
  }
  return out as T;
}

const shallow = (v: unknown) => camelKeys(v);
const list = (each: (v: unknown) => unknown) => (v: unknown) => (Array.isArray(v) ? v.map(each) : v);

/** A canonical event from the server → camelCase top-level fields; user data untouched. */
export function eventFromWire<T>(event: unknown): T {
  return camelKeys<T>(event, { actor: shallow, resource: shallow, governance: shallow, redactions: list(shallow) });
}

export const receiptFromWire = (r: unknown) => camelKeys(r);
export const runFromWire = <T>(r: unknown) => camelKeys<T>(r);

export function runStateFromWire<T>(state: unknown): T {
  return camelKeys<T>(state, {
    // file paths are keys: keep them, rename each file's fields
    files: (files) => {
      if (files === null || typeof files !== "object") return files;
      const out: Record<string, unknown> = {};
      for (const [path, f] of Object.entries(files as Record<string, unknown>)) out[path] = camelKeys(f);
      return out;
    },
    context: list(shallow),
    changes: list(shallow),
    problems: list(shallow),
  });
}

export const alertFromWire = <T>(a: unknown) => camelKeys<T>(a);

/** The agent-audit shape → a canonical event (the same mapping as the server's `/api/v1`). */
export function logToWire(entry: {
  action: string;
  prompt?: unknown;
  response?: unknown;
  agentId?: string;
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  metadata?: Record<string, unknown>;
  id?: string;
  time?: string | number | Date;
  status?: string;
  durationMs?: number;
}): Record<string, unknown> {
  if (entry === null || typeof entry !== "object") throw new ConfigError("log() takes an object with at least `action`");
  if (typeof entry.action !== "string" || entry.action === "") {
    throw new ConfigError("log() needs `action`, a non-empty string (it becomes the event's type)");
  }
  const wire: Record<string, unknown> = { type: entry.action };
  if (entry.id !== undefined) wire.id = entry.id;
  if (entry.time !== undefined) wire.time = entry.time;
  if (entry.prompt !== undefined) wire.input = entry.prompt;
  if (entry.response !== undefined) wire.output = entry.response;
  if (entry.agentId !== undefined) wire.agent_id = entry.agentId;
  if (entry.traceId !== undefined) wire.run_id = entry.traceId;
  if (entry.spanId !== undefined) wire.span_id = entry.spanId;
  if (entry.parentSpanId !== undefined) wire.parent_span_id = entry.parentSpanId;
  if (entry.metadata !== undefined) wire.metadata = entry.metadata;
  if (entry.status !== undefined) wire.status = entry.status;
  if (entry.durationMs !== undefined) wire.duration_ms = entry.durationMs;
  return wire;
}
