// A streamed export: read it as text, line by line, or chunk by chunk,
// without holding more than a chunk (except `text()`).

export class ExportStream implements AsyncIterable<Uint8Array> {
  readonly format: string;
  /** The server's content type (e.g. `application/x-ndjson`, `text/csv`). */
  readonly contentType: string;
  readonly #response: Response;
  #used = false;

  constructor(response: Response, format: string) {
    this.#response = response;
    this.format = format;
    this.contentType = response.headers.get("content-type") ?? "";
  }

  /** The raw body (a WHATWG ReadableStream; under Node, `Readable.fromWeb(stream.body)` pipes it to a file). */
  get body(): ReadableStream<Uint8Array> {
    this.#claim();
    return this.#response.body!;
  }

  /** The whole export as one string. */
  async text(): Promise<string> {
    this.#claim();
    return this.#response.text();
  }

  /** The export's lines (jsonl, csv), without their line ends. */
  async *lines(): AsyncGenerator<string> {
    const decoder = new TextDecoder();
    let rest = "";
    for await (const chunk of this) {
      rest += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = rest.indexOf("\n")) >= 0) {
        yield rest.slice(0, nl).replace(/\r$/, "");
        rest = rest.slice(nl + 1);
      }
    }
    rest += decoder.decode();
    if (rest !== "") yield rest;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    const reader = this.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }

  #claim(): void {
    if (this.#used) throw new Error("an export can be read once");
    this.#used = true;
  }
}
