// flightrec: the TypeScript SDK. Record, read, replay and export agent runs.
export { FlightrecClient, type ClientOptions } from "./client.js";
export {
  Recorder,
  describeReport,
  type RecorderOptions,
  type RecorderReport,
  type RecorderStats,
  type RejectedEvent,
} from "./recorder.js";
export { Replay, delay, type PaceClock, type ReplayEnd, type ReplayEvent, type ReplayOptions, type StatePoint } from "./replay.js";
export { Runs, type AuditLogFilters, type ExportFormat, type RunGetOptions, type RunListFilters } from "./runs.js";
export { Events, type EventFilters } from "./events.js";
export { Alerts, type AlertFilters } from "./alerts.js";
export { ExportStream } from "./export.js";
export { Paginator, type Page } from "./pager.js";
export { DEFAULT_RETRY, NO_RETRY, type RetryPolicy } from "./retry.js";
export { uuidv7 } from "./uuidv7.js";
export type { FetchLike } from "./http.js";
export {
  ApiError,
  AuthenticationError,
  BufferFullError,
  ConfigError,
  FlightrecError,
  NotFoundError,
  PermissionError,
  RecorderClosedError,
  UnreachableError,
  type ErrorDetail,
} from "./errors.js";
export type * from "./types.js";
// Offline verification (src/verify/): the main calls at the top level, everything under `verify`.
export * as verify from "./verify/index.js";
export {
  verifyExport,
  verifyProofFile,
  verifyInclusion,
  verifyConsistency,
  verifyNote,
  verifyCheckpoint,
  splitLines,
  VerificationError,
  type VerificationFailure,
  type ExportVerification,
  type ProofVerification,
  type TrustPolicy,
} from "./verify/index.js";
