// Partial checksums between two sleds on real kernels (root): with TSO on in the sending VM,
// xdeno sends its large segments with the inner TCP checksum left for the kernel
// (CHECKSUM_PARTIAL over the veth). The receiving VM's kernel is the judge: with offload off
// there it verifies every checksum itself (TcpInCsumErrors must not move), with offload on it
// takes one GSO frame per train. Both receiving sleds are run: offload on and off.

import assert from "node:assert/strict";
import { startRuntime } from "../../lib/runtime/mod.ts";
import type { AdminDatapath } from "../../lib/contract/datapath.ts";
import { delNetns, isRoot, sh, uniq } from "../link/netns.ts";
import { iperfRun, pingOk, plumbGuest } from "./bed.ts";
import { initialChanges } from "./fixture.ts";
import { twoSleds } from "./sleds.ts";

/** A kernel counter of namespace `ns` (nstat, absolute value). */
function kernelCounter(ns: string, name: string): number {
  const out = sh(["ip", "netns", "exec", ns, "nstat", "-az", "--json", name]);
  return JSON.parse(out).kernel[name] ?? 0;
}

/** A switch event counter of a sled, by name. */
function event(dp: AdminDatapath, name: string): number {
  return dp.counters().filter((c) => Object.values(c.labels).includes(name))
    .reduce((n, c) => n + c.value, 0);
}

for (const offload of [false, true]) {
  Deno.test({
    name: `partial checksums: TSO from a VM on one sled to a VM on another with offload ${
      offload ? "on" : "off"
    }: every checksum good`,
    ignore: !isRoot("partial checksums between sleds"),
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const u = uniq();
      const { ns, configs } = twoSleds(u);
      const dps: AdminDatapath[] = [];
      try {
        // The sender always offloads (its VM does TSO); the receiver as the test says.
        for (const [i, on] of [[0, true], [1, offload]] as const) {
          const dp = await startRuntime(configs[i], { gzNetns: ns[i], offload: on });
          dps.push(dp);
          for (const c of initialChanges(configs[i])) await dp.apply(c);
        }
        plumbGuest(ns[2], `${u}v1`, "172.30.0.10");
        plumbGuest(ns[3], `${u}v2`, "172.30.0.11");
        assert.ok(await pingOk(ns[2], "172.30.0.11"), "vm1 → vm2");
        const before = kernelCounter(ns[3], "TcpInCsumErrors");
        const r = await iperfRun(ns[3], ns[2], "172.30.0.11", 2);
        const errors = kernelCounter(ns[3], "TcpInCsumErrors") - before;
        const partial = event(dps[0], "csum-partial-out");
        console.log(
          `  receiver offload ${offload ? "on" : "off"}: ${r.gbps.toFixed(2)} Gbps, ` +
            `${partial} partial large segments sent, ${errors} checksum errors`,
        );
        assert.ok(r.gbps > 0.05, `iperf3 moved ${r.gbps} Gbps`);
        assert.ok(partial > 100, "the sender left its inner checksums partial");
        assert.equal(errors, 0, "the receiving VM's kernel found bad TCP checksums");
        if (offload) assert.ok(event(dps[1], "gso-delivered") > 100, "GSO frames to the VM");
        else assert.ok(event(dps[1], "large-segment-split") > 100, "segments cut for the VM");
      } finally {
        for (const dp of dps) await dp.close().catch(() => {});
        for (const n of ns) delNetns(n);
      }
    },
  });
}
