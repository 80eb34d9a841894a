// A small fault-injecting HTTP proxy in front of the real server: it can
// answer 503 instead of forwarding, or forward and then cut the connection
// before the answer reaches the client (the server committed, the client
// cannot know: the case client-side ids exist for).
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Fault {
  /** Answer this status (e.g. 503) without forwarding. */
  status?: number;
  retryAfter?: string;
  /** Forward, let the server answer, then destroy the client's socket. */
  dropAnswer?: boolean;
}

export interface SeenRequest {
  method: string;
  path: string;
  at: number;
  fault: Fault | undefined;
}

export class FaultProxy {
  readonly seen: SeenRequest[] = [];
  #faults: Fault[] = [];
  #server: Server;
  #target: URL;
  #match: (method: string, path: string) => boolean = () => true;

  private constructor(target: string) {
    this.#target = new URL(target);
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  static async start(target: string): Promise<FaultProxy> {
    const proxy = new FaultProxy(target);
    await new Promise<void>((ok) => proxy.#server.listen(0, "127.0.0.1", ok));
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** The next matching requests get these faults, one each, in order. */
  inject(faults: Fault[], match: (method: string, path: string) => boolean = () => true): void {
    this.#faults.push(...faults);
    this.#match = match;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((ok) => this.#server.close(() => ok()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? "/";
    const fault = this.#match(req.method ?? "GET", path) ? this.#faults.shift() : undefined;
    this.seen.push({ method: req.method ?? "GET", path, at: performance.now(), fault });
    if (fault?.status) {
      req.resume();
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter;
      res.writeHead(fault.status, headers);
      res.end(JSON.stringify({ error: "injected by the test proxy", status: fault.status, code: "unavailable" }));
      return;
    }
    const upstream = request(
      { host: this.#target.hostname, port: this.#target.port, method: req.method, path, headers: req.headers },
      (answer) => {
        if (fault?.dropAnswer) {
          answer.resume();
          answer.on("end", () => res.socket?.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.socket?.destroy());
    req.pipe(upstream);
  }
}
