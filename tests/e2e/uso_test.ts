// Geneve between xdeno sleds as UDP_L4 GSO frames (lib/switch/uso.ts) on real kernels: with the
// VMs' TSO on, sled 1 sends the large segments of a TSO frame as one UDP_L4 frame, the racks
// forward it whole (veth and IPv6 forwarding keep GSO_UDP_L4), and sled 2 cuts it back into its
// Geneve packets. iperf3 must run and a seeded stream must arrive byte for byte (SHA-256 at the
// far end), and both sleds' counters must show the frames. (The kernel's own cut of such frames,
// captured for tshark, is in large_segment_test.ts.)
import assert from "node:assert/strict";
import { run } from "../../lib/testbed/exec.ts";
import { shapes } from "../../lib/testbed/paths.ts";
import { carries } from "../../lib/testbed/sut.ts";
import { assertTcp, e2eSkip, sut, withSwitch } from "./harness.ts";
import { assertSameBytes, events } from "./stream.ts";

const why = await e2eSkip();

Deno.test({
  name:
    `e2e (${sut.name}): vms with TSO, vm→sled2 vm: UDP_L4 frames across the racks, every byte arrives`,
  ignore: !!why || !carries(sut, "overlay") || sut.name !== "xdeno",
  async fn() {
    await withSwitch(async (t) => {
      const ep = shapes(t).overlay, vms = [ep.client, ep.server];
      const tso = (on: boolean) =>
        Promise.all(
          vms.map((ns) => run(["ethtool", "-K", "eth0", "tx", on ? "on" : "off"], { ns })),
        );
      await tso(true);
      try {
        const out0 = await events(t, 1, "uso-out"), in0 = await events(t, 2, "uso-in");
        await assertTcp(ep, 2);
        await assertSameBytes(ep);
        const out1 = await events(t, 1, "uso-out"), in1 = await events(t, 2, "uso-in");
        const pieces = await events(t, 1, "uso-pieces");
        assert.ok(out1 - out0 > 100, `sled 1 sent ${out1 - out0} UDP_L4 frames`);
        assert.ok(in1 - in0 > 100, `sled 2 cut ${in1 - in0} UDP_L4 frames`);
        assert.ok(pieces > out1, `${pieces} Geneve packets joined into ${out1} frames`);
      } finally {
        await tso(false);
      }
    });
  },
});
