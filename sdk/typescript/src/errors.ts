// The errors the SDK throws. None of them ever holds the API key: messages
// name the server and what it answered, never the credential sent.

/** One problem the server found in an event (in a batch, `index` names it). */
export interface ErrorDetail {
  index?: number;
  field?: string;
  message: string;
}

/** Base class of every error the SDK throws. */
export class FlightrecError extends Error {
  override name = "FlightrecError";
}

/** Bad arguments or configuration, caught before anything is sent. */
export class ConfigError extends FlightrecError {
  override name = "ConfigError";
}

/** The server answered with an error (`{error, status, code, details}`). */
export class ApiError extends FlightrecError {
  override name = "ApiError";
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[];
  /** Seconds the server asked us to wait (`Retry-After`), if it said. */
  readonly retryAfter: number | undefined;

  constructor(
    message: string,
    status: number,
    code: string,
    details: ErrorDetail[] = [],
    retryAfter?: number,
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }

  /** 408, 429 and 5xx may succeed when sent again; anything else will not. */
  get retryable(): boolean {
    return this.status === 408 || this.status === 429 || this.status >= 500;
  }
}

/** 401: the key is unknown, revoked or missing. */
export class AuthenticationError extends ApiError {
  override name = "AuthenticationError";
}

/** 403: the key lacks the permission (e.g. a `read` key recording). */
export class PermissionError extends ApiError {
  override name = "PermissionError";
}

/** 404: no such event, run or alert in this tenant. */
export class NotFoundError extends ApiError {
  override name = "NotFoundError";
}

/** The server could not be reached, or the connection broke mid-answer. */
export class UnreachableError extends FlightrecError {
  override name = "UnreachableError";
  readonly server: string;
  constructor(server: string, reason: string, options?: { cause?: unknown }) {
    super(`flightrec server ${server} unreachable: ${reason}`, options);
    this.server = server;
  }
}

/** A bounded recorder refused an event because its buffer is full. */
export class BufferFullError extends FlightrecError {
  override name = "BufferFullError";
}

/** The recorder was used after `close()`. */
export class RecorderClosedError extends FlightrecError {
  override name = "RecorderClosedError";
}
