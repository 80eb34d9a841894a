// A Server-Sent Events reader over a fetch body (WHATWG EventSource parsing:
// `id`, `event`, `data` fields, a blank line ends a message).
import { UnreachableError } from "./errors.js";

export interface SseMessage {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

export class SseParser {
  #buffer = "";
  #id: string | undefined;
  #event: string | undefined;
  #data: string[] = [];

  /** Feeds decoded text; answers the messages it completed. */
  feed(text: string): SseMessage[] {
    this.#buffer += text;
    const out: SseMessage[] = [];
    let start = 0;
    for (;;) {
      const nl = this.#buffer.indexOf("\n", start);
      if (nl < 0) break;
      let line = this.#buffer.slice(start, nl);
      if (line.endsWith("\r")) line = line.slice(0, -1);
      start = nl + 1;
      if (line === "") {
        if (this.#data.length || this.#event !== undefined) {
          out.push({ id: this.#id, event: this.#event, data: this.#data.join("\n") });
        }
        this.#event = undefined;
        this.#data = [];
        continue;
      }
      if (line.startsWith(":")) continue; // a comment (keep-alive)
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") this.#data.push(value);
      else if (field === "event") this.#event = value;
      else if (field === "id") this.#id = value;
    }
    this.#buffer = this.#buffer.slice(start);
    return out;
  }
}

/** Reads messages from a streaming response body, one at a time. */
export class SseSource {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  readonly #parser = new SseParser();
  readonly #queue: SseMessage[] = [];
  readonly #server: string;

  constructor(body: ReadableStream<Uint8Array>, server: string) {
    this.#reader = body.getReader();
    this.#server = server;
  }

  /** The next message, or undefined when the stream ended. */
  async next(): Promise<SseMessage | undefined> {
    for (;;) {
      const queued = this.#queue.shift();
      if (queued) return queued;
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await this.#reader.read();
      } catch (e) {
        throw new UnreachableError(this.#server, `the replay stream broke: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      if (chunk.done) return undefined;
      this.#queue.push(...this.#parser.feed(this.#decoder.decode(chunk.value, { stream: true })));
    }
  }

  close(): void {
    this.#reader.cancel().catch(() => {});
  }
}
