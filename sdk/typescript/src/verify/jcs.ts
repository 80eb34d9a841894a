// RFC 8785 JSON Canonicalization Scheme: the text every flightrec hash is
// taken over. JCS is defined in terms of ECMAScript's own JSON serialisation,
// so numbers and strings use the engine's (spec-exact) formatting; what JCS
// adds is done here: members sorted by UTF-16 code units, no white space,
// and refusing what has no canonical form (lone surrogates, NaN, Infinity,
// anything that is not JSON data).

export class CanonicalizationError extends Error {
  override name = "CanonicalizationError";
}

/** Thrown inside the walk; the path to the value is added while unwinding. */
class Unrepresentable {
  readonly path: string[] = [];
  constructor(readonly why: string) {}
}

/** The RFC 8785 canonical JSON text of a value parsed from JSON. */
export function canonicalize(value: unknown): string {
  const out: string[] = [];
  try {
    write(value, out);
  } catch (e) {
    if (e instanceof Unrepresentable) throw new CanonicalizationError(`$${e.path.reverse().join("")}: ${e.why}`);
    throw e;
  }
  return out.join("");
}

const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** String.prototype.isWellFormed (ES2024) where the engine has it, else a regex. */
export const isWellFormed: (text: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === "function"
    ? (text) => (text as unknown as { isWellFormed(): boolean }).isWellFormed()
    : wellFormedByRegex;

export function wellFormedByRegex(text: string): boolean {
  return !(SURROGATE.test(text) && LONE_SURROGATE.test(text));
}

function writeString(text: string, out: string[]): void {
  // RFC 8785 §3.2.2.2: strings must be valid Unicode (I-JSON).
  if (!isWellFormed(text)) throw new Unrepresentable("a string holds a lone UTF-16 surrogate, which has no canonical form");
  // ES2019+ JSON.stringify escapes exactly as RFC 8785 §3.2.2.2 requires:
  // \b \t \n \f \r \" \\, other controls as lowercase \u00xx, the rest as is.
  out.push(JSON.stringify(text));
}

function write(value: unknown, out: string[]): void {
  switch (typeof value) {
    case "string":
      writeString(value, out);
      return;
    case "number":
      if (!Number.isFinite(value)) throw new Unrepresentable(`${value} is not a JSON number`);
      // RFC 8785 §3.2.2.3 is ECMAScript's Number.prototype.toString; -0 prints as 0.
      out.push(String(value));
      return;
    case "boolean":
      out.push(value ? "true" : "false");
      return;
    case "object":
      if (value === null) {
        out.push("null");
      } else if (Array.isArray(value)) {
        out.push("[");
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out.push(",");
          try {
            write(value[i], out);
          } catch (e) {
            if (e instanceof Unrepresentable) e.path.push(`[${i}]`);
            throw e;
          }
        }
        out.push("]");
      } else {
        const prototype = Object.getPrototypeOf(value) as unknown;
        if (prototype !== Object.prototype && prototype !== null) {
          throw new Unrepresentable("only plain JSON objects can be canonicalized");
        }
        const record = value as Record<string, unknown>;
        // Array.prototype.sort compares strings by UTF-16 code units, as §3.2.3 asks.
        const keys = Object.keys(record).sort();
        out.push("{");
        for (let i = 0; i < keys.length; i++) {
          const key = keys[i]!;
          if (i > 0) out.push(",");
          try {
            writeString(key, out);
            out.push(":");
            write(record[key], out);
          } catch (e) {
            if (e instanceof Unrepresentable) e.path.push(`.${key}`);
            throw e;
          }
        }
        out.push("}");
      }
      return;
    default:
      throw new Unrepresentable(`a ${typeof value} is not JSON data`);
  }
}
