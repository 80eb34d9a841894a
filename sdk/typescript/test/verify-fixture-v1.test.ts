// Record format v1 must verify for ever: a server started on a copy of
// tests/fixtures/store-v1 goes on writing v2 records to the same log, and the
// export mixing both verifies with the trust file kept beside the fixture.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { verifyExport, verify } from "flightrec";
import { repoRoot, startServer, type TestServer } from "./server.js";
import { getText, ingest, lineOfSeq, linesOf, replaceIn, withLine } from "./verify-support.js";

const FIXTURE = join(repoRoot(), "tests", "fixtures", "store-v1");

describe("an export mixing record format v1 and v2", () => {
  let server: TestServer;
  let trust: string[];
  let full: string[];

  before(async () => {
    server = await startServer({ copyFrom: FIXTURE, apiKey: "fr_fixture_v1_key_0123456789abcdef" });
    // Keys from the file kept with the fixture, never from the server under test.
    trust = verify.parseTrustFile(readFileSync(join(FIXTURE, "trust.txt"), "utf8"));
    await ingest(server, [
      { type: "start", run_id: "v2-run", input: { after: "the upgrade" } },
      { type: "complete", run_id: "v2-run" },
    ]);
    full = linesOf(await getText(server, "/v1/events/export"));
  });
  after(() => server.cleanup());

  test("verifies whole: the 46 v1 records as they were, the new v2 ones after them", async () => {
    const result = await verifyExport(full, { trust });
    assert.equal(result.versions[1], 46);
    assert.ok((result.versions[2] ?? 0) >= 2, JSON.stringify(result.versions));
    assert.equal(result.firstSeq, 0);
    assert.equal(result.checkpoint.origin, "flightrec.local/default");
    // The v1 records end where the fixture's README says its log ended.
    const v1 = full.slice(0, 46).map((l) => JSON.parse(l) as { header: { v: number; submitted_by?: string } });
    assert.ok(v1.every((r) => r.header.v === 1 && r.header.submitted_by === undefined));
    assert.equal(
      verify.toHex(verify.rootFromLeaves(v1.map((r) => verify.recordLeafHash(r.header as verify.RecordHeader)))),
      "52b3d082b2a16b24228c05e3cb6f6915639074614db083cf760ebbc5fcf24601",
    );
  });

  test("verifies filtered to the v1 run, by inclusion proofs into the newer tree", async () => {
    const lines = linesOf(await getText(server, "/v1/events/export?run_id=v1-run"));
    const result = await verifyExport(lines, { trust });
    assert.equal(result.filtered, true);
    assert.deepEqual(result.versions, { 1: 3 });
  });

  test("a v1 header is held to v1's members: one passed off as v2, or given submitted_by, is refused", async () => {
    const i = lineOfSeq(full, 41);
    await assert.rejects(verifyExport(withLine(full, i, replaceIn(full[i]!, '"v":1', '"v":2')), { trust }), {
      code: "header",
      line: i + 1,
      message: /must have `submitted_by`/,
    });
    await assert.rejects(
      verifyExport(withLine(full, i, replaceIn(full[i]!, '"status":', '"submitted_by":"flightrec","status":')), { trust }),
      { code: "header", line: i + 1, message: /no member `submitted_by`/ },
    );
  });
});
