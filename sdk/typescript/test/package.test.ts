// What ships: the installed package's core runs without Node built-ins (so
// it loads in browsers), declares its types, and makes ids that sort in
// the order they were made.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { uuidv7 } from "flightrec";

const dist = dirname(fileURLToPath(import.meta.resolve("flightrec")));

test("the core modules import no Node built-in (only the bin may)", () => {
  const files = readdirSync(dist).filter((f) => f.endsWith(".js"));
  assert.ok(files.includes("index.js") && files.includes("recorder.js") && files.includes("replay.js"));
  for (const f of files) {
    const text = readFileSync(join(dist, f), "utf8");
    assert.doesNotMatch(text, /from\s+["']node:|require\(|from\s+["'](fs|path|http|https|net|os|child_process)["']/, f);
    assert.ok(existsSync(join(dist, f.replace(/\.js$/, ".d.ts"))), `${f} has its declarations`);
  }
});

test("UUIDv7 ids: version and variant bits, unique, in the order made", () => {
  const ids = Array.from({ length: 20_000 }, () => uuidv7());
  for (const id of ids.slice(0, 100)) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual([...ids].sort(), ids);
  const ms = parseInt(ids[0]!.replace(/-/g, "").slice(0, 12), 16);
  assert.ok(Math.abs(ms - Date.now()) < 5_000, "the first 48 bits are the time in ms");
});
