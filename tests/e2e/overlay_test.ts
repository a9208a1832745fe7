// End-to-end VPC overlay through the switch under test: VMs on VNI 10 across sleds and on one
// sled, with tshark on both of sled1's rack links checking the Geneve on the wire.
import assert from "node:assert/strict";
import { Capture, checkGeneve, dissectGeneve, GenevePacket } from "../../lib/testbed/capture.ts";
import { tcpThroughput } from "../../lib/testbed/measure.ts";
import { shapes } from "../../lib/testbed/paths.ts";
import { stateDir, VPC_VNI } from "../../lib/testbed/plan.ts";
import { carries } from "../../lib/testbed/sut.ts";
import { formatResults, ping, verify } from "../../lib/testbed/verify.ts";
import { e2eSkip, sut, withSwitch } from "./harness.ts";

const why = await e2eSkip();

Deno.test({
  name: `e2e (${sut.name}): vm0 ↔ sled2 vm0 over the underlay, Geneve checked by tshark`,
  ignore: !!why || !carries(sut, "overlay"),
  async fn() {
    await withSwitch(async (t) => {
      const [s1, s2] = t.plan.sleds;
      const dir = stateDir(t.plan.prefix);
      await Deno.mkdir(dir, { recursive: true });
      const geneve = sut.geneve !== false;
      const caps = geneve
        ? await Promise.all(
          s1.uplinks.map((u) =>
            Capture.start(u.rack, u.rackPort, "udp port 6081", `${dir}/${u.name}.pcap`)
          ),
        )
        : [];
      try {
        const res = await verify(t, [
          ping("vm0 → sled2 vm0", s1.vms[0].ns, s2.vms[0].ip4),
          ping("sled2 vm0 → vm0", s2.vms[0].ns, s1.vms[0].ip4),
        ]);
        assert.ok(res.every((r) => r.ok), formatResults(res));
        const r = await tcpThroughput(shapes(t).overlay, 2);
        assert.ok(r.bytes > 1e6 && r.lastIntervalGbps > 0, `${r.bytes} bytes`);
      } finally {
        const pkts: GenevePacket[] = [];
        for (const c of caps) pkts.push(...await dissectGeneve(await c.stop()));
        if (geneve) {
          assert.deepEqual(checkGeneve(pkts, { vnis: [VPC_VNI], min: 4 }), []);
        }
      }
    });
  },
});

Deno.test({
  name: `e2e (${sut.name}): vm0 ↔ vm1 on the same sled`,
  ignore: !!why || !carries(sut, "overlay"),
  async fn() {
    await withSwitch(async (t) => {
      const [s1] = t.plan.sleds;
      const res = await verify(t, [
        ping("vm0 → vm1", s1.vms[0].ns, s1.vms[1].ip4),
        ping("vm1 → vm0", s1.vms[1].ns, s1.vms[0].ip4),
      ]);
      assert.ok(res.every((r) => r.ok), formatResults(res));
    });
  },
});
