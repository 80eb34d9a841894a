// Turning what a caller has (a whole text, lines, or a stream of chunks such
// as a fetch() body or a Node file stream) into lines, without holding the
// whole export in memory.
import { VerificationError } from "./errors.js";

export type LineSource = string | Iterable<string> | AsyncIterable<string>;

/** Splits a stream of text or UTF-8 chunks into lines (without their `\n`). */
export async function* splitLines(chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const decode = (bytes?: Uint8Array): string => {
    try {
      return bytes === undefined ? decoder.decode() : decoder.decode(bytes, { stream: true });
    } catch {
      throw new VerificationError("malformed", "the input is not valid UTF-8");
    }
  };
  let pending = "";
  for await (const chunk of chunks) {
    pending += typeof chunk === "string" ? chunk : decode(chunk);
    let start = 0;
    for (let newline = pending.indexOf("\n"); newline >= 0; newline = pending.indexOf("\n", start)) {
      yield pending.slice(start, newline);
      start = newline + 1;
    }
    pending = pending.slice(start);
  }
  pending += decode();
  if (pending !== "") yield pending;
}

/** The lines of any `LineSource`: a string is split on `\n`. */
export async function* linesOf(source: LineSource): AsyncGenerator<string> {
  if (typeof source === "string") {
    yield* source.split("\n");
    return;
  }
  yield* source;
}
