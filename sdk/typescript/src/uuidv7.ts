// UUIDv7 (RFC 9562) made on the client, so a retried event keeps its id and
// the server records it once. Random bytes come from WebCrypto in pooled
// blocks: one getRandomValues call per 512 ids keeps `record()` cheap.

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const POOL_SIZE = 8 * 512;
const pool = new Uint8Array(POOL_SIZE);
let poolOffset = POOL_SIZE;

type Fill = (bytes: Uint8Array) => void;

async function findRandom(): Promise<Fill> {
  const web = globalThis.crypto;
  if (web?.getRandomValues) return (bytes) => web.getRandomValues(bytes);
  // Node 18 has WebCrypto only behind a flag as a global, but always as a
  // module; the specifier is a variable so browser bundlers leave it alone.
  const specifier = "node:crypto";
  const node = (await import(specifier).catch(() => undefined)) as
    | { webcrypto?: { getRandomValues(b: Uint8Array): Uint8Array } }
    | undefined;
  if (node?.webcrypto?.getRandomValues) return (bytes) => node.webcrypto!.getRandomValues(bytes);
  throw new Error("flightrec needs WebCrypto (globalThis.crypto.getRandomValues) for event ids");
}

const fillRandom: Fill = await findRandom();

let lastMs = -1;
let counter = 0; // 12 bits in rand_a: ids made within one millisecond stay ordered

function randomBytes8(): number {
  if (poolOffset + 8 > POOL_SIZE) {
    fillRandom(pool);
    poolOffset = 0;
  }
  const at = poolOffset;
  poolOffset += 8;
  return at;
}

/** A new UUIDv7 string, monotonic within this process. */
export function uuidv7(): string {
  let ms = Date.now();
  if (ms > lastMs) {
    lastMs = ms;
    counter = 0;
  } else {
    counter++;
    if (counter > 0xfff) {
      // 4096 ids in one millisecond: borrow the next millisecond
      lastMs++;
      counter = 0;
    }
    ms = lastMs;
  }
  const at = randomBytes8();
  const r = pool;
  // 48-bit big-endian milliseconds
  const hi = Math.floor(ms / 0x10000);
  const lo = ms & 0xffff;
  const t =
    HEX[(hi >>> 24) & 0xff]! +
    HEX[(hi >>> 16) & 0xff]! +
    HEX[(hi >>> 8) & 0xff]! +
    HEX[hi & 0xff]! +
    "-" +
    HEX[lo >>> 8]! +
    HEX[lo & 0xff]!;
  const verA = HEX[0x70 | (counter >>> 8)]! + HEX[counter & 0xff]!;
  const varB = HEX[0x80 | (r[at]! & 0x3f)]! + HEX[r[at + 1]!]!;
  const tail =
    HEX[r[at + 2]!]! +
    HEX[r[at + 3]!]! +
    HEX[r[at + 4]!]! +
    HEX[r[at + 5]!]! +
    HEX[r[at + 6]!]! +
    HEX[r[at + 7]!]!;
  return `${t}-${verA}-${varB}-${tail}`;
}
