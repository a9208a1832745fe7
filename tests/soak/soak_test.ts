// Short load soak: flow churn against full tables with exact per-batch accounting.
import assert from "node:assert/strict";
import { memoryFlat, runSoak } from "./soak.ts";

Deno.test("soak: 60k short-lived flows, SYN floods and random UDP against full tables", () => {
  const r = runSoak({ flows: 60_000, checkEvery: 5_000, sampleEvery: 5_000 });
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
  assert.equal(memoryFlat(r, 48, -1), null, `rss ${r.rssMiB.join(" ")}`);
});

Deno.test("soak oracle: memoryFlat flags growth", () => {
  const base = { rssMiB: [100, 100, 100, 100, 100], heapMiB: [9, 9, 9, 9, 9] };
  const r = { ...base } as unknown as Parameters<typeof memoryFlat>[0];
  assert.equal(memoryFlat(r), null);
  assert.match(memoryFlat({ ...r, rssMiB: [100, 100, 100, 130, 160] }) ?? "", /RSS grew/);
  assert.match(memoryFlat({ ...r, heapMiB: [9, 9, 9, 20, 30] }) ?? "", /heap grew/);
});
