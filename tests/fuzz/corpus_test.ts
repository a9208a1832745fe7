// Replays every corpus file through every fuzz check; entries marked `ignore` expose open bugs
// in other modules and are reported as ignored tests until their owner fixes them.
import assert from "node:assert/strict";
import { Checker } from "./check.ts";
import { loadCorpus } from "./corpus.ts";
import { PipelineChecker } from "./pipeline.ts";

const corpus = loadCorpus();

Deno.test("fuzz corpus is not empty", () => {
  assert.ok(corpus.length >= 20, `${corpus.length} corpus files`);
});

for (const [file, entry, bytes] of corpus) {
  Deno.test({
    name: `corpus ${file}: ${entry.name}`,
    ignore: entry.ignore === true,
    fn: () => {
      assert.equal(new Checker(1).check(bytes, bytes.length), null);
      if (entry.side !== undefined) {
        // A whole-switch case: replay it into a fresh sled from the side it was found on.
        const pc = new PipelineChecker();
        assert.equal(pc.check(pc.side(entry.side), bytes), null);
      }
    },
  });
}
