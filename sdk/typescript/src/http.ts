// The one place requests are made: base URL, credentials, error mapping and
// retries. Uses the global fetch (Node >= 18, browsers, Deno, Bun).
import {
  ApiError,
  AuthenticationError,
  ConfigError,
  NotFoundError,
  PermissionError,
  UnreachableError,
  type ErrorDetail,
} from "./errors.js";
import { DEFAULT_RETRY, parseRetryAfter, retryDelay, sleep, type RetryPolicy } from "./retry.js";

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;
export type QueryValue = string | number | boolean | undefined | null | Array<string | number>;
export type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** A body already serialized as JSON (the recorder serializes at record time). */
  rawBody?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Retry transient failures (default: the transport's policy). */
  retry?: RetryPolicy;
  /** Per-attempt timeout in ms; 0 for none (streams). */
  timeoutMs?: number;
}

export class Transport {
  readonly server: string;
  readonly #apiKey: string;
  readonly #fetch: FetchLike;
  readonly retry: RetryPolicy;
  readonly timeoutMs: number;

  constructor(server: string, apiKey: string, fetchImpl: FetchLike, retry: RetryPolicy = DEFAULT_RETRY, timeoutMs = 30_000) {
    this.server = server.replace(/\/+$/, "");
    this.#apiKey = apiKey;
    this.#fetch = fetchImpl;
    this.retry = retry;
    this.timeoutMs = timeoutMs;
  }

  url(path: string, query?: Query): string {
    let url = this.server + path;
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v === undefined || v === null) continue;
        params.append(k, Array.isArray(v) ? v.join(",") : String(v));
      }
      const qs = params.toString();
      if (qs) url += `?${qs}`;
    }
    return url;
  }

  /** Sends the request (retrying transient failures) and answers the successful response. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const policy = options.retry ?? this.retry;
    const url = this.url(path, options.query);
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.#apiKey}`,
      accept: "application/json",
      ...options.headers,
    };
    let body: string | undefined = options.rawBody;
    if (body === undefined && options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers["content-type"] = "application/json";
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;

    for (let attempt = 1; ; attempt++) {
      let failure: Error;
      let retryAfterMs: number | undefined;
      let answered = false;
      const controller = new AbortController();
      const onAbort = () => controller.abort();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const timer = timeoutMs > 0 ? setTimeout(() => controller.abort(), timeoutMs) : undefined;
      try {
        const response = await this.#fetch(url, { method, headers, body, signal: controller.signal });
        if (response.ok) {
          // the caller's signal keeps reaching this request, so aborting it also ends a stream's body
          answered = true;
          return response;
        }
        failure = await errorFromResponse(response, method, path);
        retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
        if (!(failure as ApiError).retryable) throw failure;
      } catch (e) {
        if (e instanceof ApiError) {
          if (!e.retryable) throw e;
          failure = e;
        } else if (options.signal?.aborted) {
          throw new UnreachableError(this.server, "the request was aborted", { cause: e });
        } else {
          const reason = controller.signal.aborted ? `no answer within ${timeoutMs} ms` : describe(e);
          failure = new UnreachableError(this.server, reason, { cause: e });
        }
      } finally {
        // the timeout covers the wait for the answer's headers, not a streamed body
        if (timer !== undefined) clearTimeout(timer);
        if (!answered) options.signal?.removeEventListener("abort", onAbort);
      }
      const wait = retryDelay(policy, attempt, retryAfterMs);
      if (wait === undefined) throw failure;
      await sleep(wait, options.signal);
      if (options.signal?.aborted) throw failure;
    }
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.request(method, path, options);
    if (response.status === 204) return undefined as T;
    try {
      return (await response.json()) as T;
    } catch (e) {
      throw new UnreachableError(this.server, `${method} ${path} answered something that is not JSON (${describe(e)})`, { cause: e });
    }
  }

  /** For `util.inspect`/`console.log`: the server, never the key. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return `Transport { server: ${JSON.stringify(this.server)} }`;
  }

  toJSON(): object {
    return { server: this.server };
  }
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    const inner = cause instanceof Error ? `: ${cause.message}` : "";
    return `${e.message}${inner}`;
  }
  return String(e);
}

interface ServerError {
  error?: string;
  status?: number;
  code?: string;
  details?: ErrorDetail[];
}

async function errorFromResponse(response: Response, method: string, path: string): Promise<ApiError> {
  let parsed: ServerError = {};
  let text = "";
  try {
    text = await response.text();
    parsed = JSON.parse(text) as ServerError;
  } catch {
    // not the server's error shape (a proxy's page, or OTLP's): keep a short excerpt
  }
  const status = response.status;
  const code = parsed.code ?? (status === 401 ? "unauthorized" : `http_${status}`);
  const reason = parsed.error ?? (text.slice(0, 200) || response.statusText || "no reason given");
  const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
  const retryAfter = retryAfterMs === undefined ? undefined : retryAfterMs / 1000;
  const where = `${method} ${path.split("?")[0]}`;
  if (status === 401) {
    return new AuthenticationError(
      `${where}: the server refused the API key (401 ${code}: ${reason}); check FLIGHTREC_API_KEY or the apiKey option`,
      status,
      code,
      parsed.details,
      retryAfter,
    );
  }
  const message = `${where}: ${status} ${code}: ${reason}`;
  if (status === 403) return new PermissionError(message, status, code, parsed.details, retryAfter);
  if (status === 404) return new NotFoundError(message, status, code, parsed.details, retryAfter);
  return new ApiError(message, status, code, parsed.details ?? [], retryAfter);
}

export function requireString(name: string, value: unknown): string {
  if (typeof value !== "string" || value === "") {
    throw new ConfigError(`${name} must be a non-empty string`);
  }
  return value;
}
