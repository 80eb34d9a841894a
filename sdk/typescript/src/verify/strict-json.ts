// JSON.parse keeps the last of two members with the same name and says
// nothing. A verifier must refuse such text: the server hashed one value,
// and another reader (one that keeps the first) shows a different one, so a
// line could carry a forged value beside the genuine one and still verify.
// The Python verifier refuses repeated keys too.

// A JSON string (escapes included) or one structural character.
const TOKENS = /"[^"\\]*(?:\\.[^"\\]*)*"|[{}[\]:]/g;

/** The first object key that appears twice in one object of `text` (valid JSON), or undefined. */
export function repeatedKey(text: string): string | undefined {
  const objects: Array<Set<string> | undefined> = []; // undefined for an array
  let last = "";
  TOKENS.lastIndex = 0;
  for (let m = TOKENS.exec(text); m !== null; m = TOKENS.exec(text)) {
    const token = m[0];
    switch (token) {
      case "{":
        objects.push(new Set());
        break;
      case "[":
        objects.push(undefined);
        break;
      case "}":
      case "]":
        objects.pop();
        break;
      case ":": {
        // in valid JSON a colon follows a member name, the string just read
        const keys = objects[objects.length - 1];
        const key = last.includes("\\") ? (JSON.parse(last) as string) : last.slice(1, -1);
        if (keys !== undefined) {
          if (keys.has(key)) return key;
          keys.add(key);
        }
        break;
      }
      default:
        last = token;
    }
  }
  return undefined;
}

export class RepeatedKeyError extends SyntaxError {
  override name = "RepeatedKeyError";
}

/** JSON.parse that also refuses an object naming one member twice (RepeatedKeyError). */
export function parseStrict(text: string): unknown {
  const value = JSON.parse(text) as unknown;
  const key = repeatedKey(text);
  if (key !== undefined) throw new RepeatedKeyError(`the JSON repeats the key ${JSON.stringify(key)}`);
  return value;
}
