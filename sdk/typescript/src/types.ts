// The shapes the SDK reads and writes, camelCase. Fields the server adds in
// a later version still arrive (as extra keys); these list what it sends now.

export type Status = "ok" | "fail" | "warn";
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface Actor {
  type: "human" | "agent" | "system";
  id?: string;
  email?: string;
  name?: string;
}

/**
 * A canonical event (docs/DESIGN.md §3) as the SDK takes it. camelCase and the
 * canonical snake_case names are both accepted; anything not listed is kept by
 * the server under `metadata`.
 */
export interface EventInput {
  id?: string;
  /** RFC 3339, a Date, or Unix ms; the recorder fills in the time of `record()` when absent. */
  time?: string | number | Date;
  type?: string;
  runId?: string;
  spanId?: string;
  parentSpanId?: string;
  sessionId?: string;
  agentId?: string;
  actor?: Actor;
  resource?: { type: string; id: string };
  status?: Status;
  verb?: string;
  tool?: string;
  provider?: string;
  riskLevel?: "low" | "medium" | "high" | "critical";
  governance?: { status: "approved" | "blocked" | "pending" | "dry_run" | "auto"; policy?: string; reason?: string };
  dryRun?: boolean;
  idempotent?: boolean;
  durationMs?: number;
  input?: unknown;
  output?: unknown;
  error?: { message: string; code?: string } | string;
  message?: string;
  content?: string;
  metadata?: Record<string, unknown>;
  [field: string]: unknown;
}

/** The agent-audit shape of one action (`client.log`, `recorder.log`). */
export interface LogEntry {
  /** What happened: becomes the event's `type` (e.g. `llm_call`, `tool_call`). */
  action: string;
  prompt?: unknown;
  response?: unknown;
  agentId?: string;
  /** The trace (run) this belongs to: becomes `runId`. */
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  metadata?: Record<string, unknown>;
  id?: string;
  time?: string | number | Date;
  status?: Status;
  durationMs?: number;
}

/** What the server answers once an event is durably committed. */
export interface Receipt {
  id: string;
  seq: number;
  /** Hex RFC 9162 leaf hash of the record's header: enough to ask for a proof later. */
  leafHash: string;
}

/** An event as the server returns it. */
export interface RecordedEvent {
  id: string;
  seq: number;
  time: string;
  receivedAt: string;
  type: string;
  status: Status;
  runId?: string;
  spanId?: string;
  parentSpanId?: string;
  sessionId?: string;
  agentId?: string;
  actor?: Actor;
  submittedBy?: string;
  input?: unknown;
  output?: unknown;
  error?: { message: string; code?: string };
  metadata?: Record<string, unknown>;
  redactions?: Array<{ path: string; kind: string }>;
  credentialMasked?: boolean;
  [field: string]: unknown;
}

export type RunStatus = "running" | "paused" | "completed" | "cancelled" | "failed";

export interface RunSummary {
  runId: string;
  status: RunStatus;
  firstTime: string;
  lastTime: string;
  eventCount: number;
  failCount: number;
  warnCount: number;
  agentId: string | null;
}

export interface Run extends RunSummary {
  /** With `include: ['auditLog']`: the run's events in run order. */
  auditLog?: RecordedEvent[];
  /** With `include: ['auditLog']`: the cursor for the rest, if the log was cut at `limit`. */
  auditLogNextCursor?: string | null;
}

export interface FileState {
  content: string | null;
  known: boolean;
  edits: number;
  lastEvent: number;
  [field: string]: unknown;
}

export interface ContextEntry {
  index: number;
  seq: number;
  time: string;
  type: string;
  role: string;
  text?: string;
  status: Status;
  [field: string]: unknown;
}

/** What the agent had after an event (docs/replay.md). File paths are kept as recorded. */
export interface RunState {
  runId: string;
  events: number;
  lastIndex: number | null;
  lastSeq: number | null;
  lastTime: string | null;
  status: RunStatus | "not_started";
  files: Record<string, FileState>;
  context: ContextEntry[];
  changes: Array<{ index: number; seq: number; path: string; kind: string; diff: string; applied: boolean }>;
  problems: Array<{ index: number; seq: number; message: string }>;
  [field: string]: unknown;
}

export interface Alert {
  id: string;
  ruleId: string;
  ruleName: string;
  severity: string;
  detector: string;
  eventId: string;
  seq: number;
  runId: string | null;
  agentId: string | null;
  path: string;
  excerpt: string;
  matches: number;
  policyId: string | null;
  policyVersion: number | null;
  status: "open" | "resolved";
  createdAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
  [field: string]: unknown;
}
