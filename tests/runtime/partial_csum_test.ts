// Partial checksums between two sleds on real kernels (root): with TSO on in the sending VM,
// xdeno sends its large segments with the inner TCP checksum left for the kernel
// (CHECKSUM_PARTIAL over the veth). The receiving VM's kernel is the judge (TcpInCsumErrors
// must not move): with offload on or off it takes one GSO frame per large segment or train,
// partial as it came (a VM without offload only sends plain frames; it receives GSO all the
// same). Both receiving sleds are run: offload on and off.

import assert from "node:assert/strict";
import { startRuntime } from "../../lib/runtime/mod.ts";
import type { AdminDatapath } from "../../lib/contract/datapath.ts";
import { delNetns, isRoot, kernelCounter, uniq } from "../link/netns.ts";
import { iperfRun, pingOk, plumbGuest, switchEvent, switchEventAtLeast } from "./bed.ts";
import { initialChanges } from "./fixture.ts";
import { twoSleds } from "./sleds.ts";

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
        const partial = await switchEventAtLeast(dps[0], "csum-partial-out", 101);
        console.log(
          `  receiver offload ${offload ? "on" : "off"}: ${r.gbps.toFixed(2)} Gbps, ` +
            `${partial} partial large segments sent, ${errors} checksum errors`,
        );
        assert.ok(r.gbps > 0.05, `iperf3 moved ${r.gbps} Gbps`);
        assert.ok(partial > 100, "the sender left its inner checksums partial");
        assert.equal(errors, 0, "the receiving VM's kernel found bad TCP checksums");
        assert.ok(
          await switchEventAtLeast(dps[1], "gso-delivered", 101) > 100,
          "GSO frames to the VM",
        );
        assert.equal(switchEvent(dps[1], "large-segment-split"), 0, "nothing cut for the VM");
      } finally {
        for (const dp of dps) await dp.close().catch(() => {});
        for (const n of ns) delNetns(n);
      }
    },
  });
}
