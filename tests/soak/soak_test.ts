// Short load soak: flow churn against full tables with exact per-batch accounting.
import assert from "node:assert/strict";
import { memoryFlat, type SoakResult } from "./soak.ts";

/** RSS may move a little with the allocator; the heap, sampled after a full GC, must not. */
const RSS_SLACK_MIB = 16;
/** Measured growth after the tables filled: 0 MiB (11 MiB flat, 13 samples); a planted leak of
 * 200 bytes per flow grows it by 1.2 MiB per 5,000 flows, so 2 MiB catches ~50 bytes a flow. */
const HEAP_SLACK_MIB = 2;

/** The short soak in a child with --expose-gc, so heap samples are what is retained. */
async function soak(plantLeakBytes = 0): Promise<SoakResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      new URL("./soak_child.ts", import.meta.url).pathname,
      String(plantLeakBytes),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}

Deno.test("soak: 60k short-lived flows, SYN floods and random UDP against full tables", async () => {
  const r = await soak();
  // Accounting held per batch, the established connections and live UDP flows kept working.
  assert.deepEqual(r.failures, []);
  assert.ok(r.establishedChecks >= 12, `${r.establishedChecks} checks`);
  const e = r.engine as {
    "vm-a drops": Record<string, number>;
    "vm-b layers": { firewall: { lftFull: number; lftEvictions: number; lft: number } };
  };
  // Tables were full: SYN-flood entries were evicted, and new flows with nothing evictable
  // were refused and counted, as is SNAT past its 77 ports.
  const fw = e["vm-b layers"].firewall;
  assert.equal(fw.lft, 2048);
  assert.ok(fw.lftEvictions > 1000 && fw.lftFull > 10_000, JSON.stringify(fw));
  assert.ok(e["vm-a drops"]["snat exhausted"] > 1000, JSON.stringify(e["vm-a drops"]));
  assert.equal(
    memoryFlat(r, RSS_SLACK_MIB, HEAP_SLACK_MIB),
    null,
    `rss ${r.rssMiB.join(" ")}; heap ${r.heapMiB.join(" ")}`,
  );
});

Deno.test("soak: the heap bound catches a planted leak of 200 bytes per flow", async () => {
  const r = await soak(200);
  assert.deepEqual(r.failures, []);
  const verdict = memoryFlat(r, RSS_SLACK_MIB, HEAP_SLACK_MIB) ?? "";
  assert.match(verdict, /heap grew/, `heap ${r.heapMiB.join(" ")}`);
});

Deno.test("soak oracle: memoryFlat flags growth", () => {
  const base = { rssMiB: [100, 100, 100, 100, 100], heapMiB: [9, 9, 9, 9, 9] };
  const r = { ...base } as unknown as Parameters<typeof memoryFlat>[0];
  assert.equal(memoryFlat(r), null);
  assert.match(memoryFlat({ ...r, rssMiB: [100, 100, 100, 130, 160] }) ?? "", /RSS grew/);
  assert.match(memoryFlat({ ...r, heapMiB: [9, 9, 9, 20, 30] }) ?? "", /heap grew/);
});
