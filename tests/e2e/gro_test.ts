// End-to-end through the switch under test (issue 14): zones without TSO (the switch-mode
// topology's default: tx offload off) send a known byte stream zone→zone and zone→sled2 zone;
// the receiver's hash must match the sender's. xdeno merges such segments into GSO frames on
// these paths (lib/switch/gro.ts), so the receiving kernels — which trust the partial checksum
// — are the oracle that every merged byte landed where it belongs; xdeno's counters must show
// that merging happened.
import assert from "node:assert/strict";
import { shapes } from "../../lib/testbed/paths.ts";
import { carries } from "../../lib/testbed/sut.ts";
import { e2eSkip, sut, withSwitch } from "./harness.ts";
import { assertSameBytes, events } from "./stream.ts";

const why = await e2eSkip();

Deno.test({
  name: `e2e (${sut.name}): zones without TSO, zone→zone and zone→sled2 zone, every byte arrives`,
  ignore: !!why || !carries(sut, "l2") || !carries(sut, "routed"),
  async fn() {
    await withSwitch(async (t) => {
      const sh = shapes(t);
      const before = await events(t, 1);
      await assertSameBytes(sh.l2);
      const afterL2 = await events(t, 1);
      await assertSameBytes(sh.routed);
      if (sut.name === "xdeno") {
        assert.ok(afterL2 > before, `sled1 merged nothing zone→zone (${before} → ${afterL2})`);
        const afterRouted = await events(t, 1);
        assert.ok(afterRouted > afterL2, `sled1 merged nothing towards the underlay`);
      }
    });
  },
});

Deno.test({
  name: `e2e (${sut.name}): vms without TSO, vm→sled2 vm over the overlay, every byte arrives`,
  ignore: !!why || !carries(sut, "overlay"),
  async fn() {
    await withSwitch(async (t) => {
      const before = sut.name === "xdeno" ? await events(t, 1, "gro-out") : 0;
      await assertSameBytes(shapes(t).overlay);
      if (sut.name === "xdeno") {
        const after = await events(t, 1, "gro-out");
        assert.ok(
          after > before,
          `sled1 merged nothing before the pipeline (${before} → ${after})`,
        );
      }
    });
  },
});
