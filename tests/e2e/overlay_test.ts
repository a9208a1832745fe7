// End-to-end VPC overlay through the switch under test: VMs on VNI 10 across sleds (Geneve on the
// underlay, checked by tshark where the racks send it to the sleds) and on one sled (looped back
// inside the switch, so nothing may reach the racks).
import assert from "node:assert/strict";
import { checkGeneve, dissectGeneve, GenevePacket } from "../../lib/testbed/capture.ts";
import { run, sleep } from "../../lib/testbed/exec.ts";
import { tcpThroughput } from "../../lib/testbed/measure.ts";
import { VPC_VNI } from "../../lib/testbed/plan.ts";
import { carries } from "../../lib/testbed/sut.ts";
import { rackLink, Topology } from "../../lib/testbed/topology.ts";
import { ping } from "../../lib/testbed/verify.ts";
import { assertReachable, assertTcp, e2eSkip, sut, withSwitch } from "./harness.ts";
import { captureToSleds, completePartial } from "./wire.ts";

const why = await e2eSkip();
const name = (s: string) => `e2e (${sut.name}): ${s}`;
// A switch that is the VPC gateway (xdeno) routes IPv6 too, adds Oxide's MSS option and keeps
// same-sled traffic local; L2 peers (OVS) bridge IPv4 only here and flood ARP to the other sled.
const v6 = sut.topology.vpcGateway === true;

/**
 * Captures Geneve to both sleds where the racks send it to them (tests/e2e/wire.ts: UDP_L4 frames
 * cut into datagrams as before a wire) while `fn` runs; returns what tshark saw once the inner
 * TCP checksums left partial between xdeno sleds are completed as the receiving sled does.
 */
async function captureSled1(t: Topology, fn: () => Promise<void>): Promise<GenevePacket[]> {
  const files = await captureToSleds(t, t.plan.sleds, fn);
  const pkts: GenevePacket[] = [];
  for (const f of files) pkts.push(...await dissectGeneve((await completePartial(f)).file));
  return pkts;
}

Deno.test({
  name: name("vm0 ↔ sled2 vm0 (Geneve across sleds), ping, ping6, TCP; tshark checks the wire"),
  ignore: !!why || !carries(sut, "overlay"),
  async fn() {
    await withSwitch(async (t) => {
      const [s1, s2] = t.plan.sleds, a = s1.vms[0], b = s2.vms[0];
      const pkts = await captureSled1(t, async () => {
        await assertReachable(t, [
          ping("vm0 → sled2 vm0", a.ns, b.ip4),
          ping("sled2 vm0 → vm0", b.ns, a.ip4),
          ...(v6
            ? [
              ping("vm0 → sled2 vm0 IPv6", a.ns, b.ip6),
              ping("sled2 vm0 → vm0 IPv6", b.ns, a.ip6),
            ]
            : []),
        ]);
        await assertTcp({ client: a.ns, server: b.ns, dst: b.ip4 });
        if (v6) await assertTcp({ client: b.ns, server: a.ns, dst: a.ip6 }, 1);
      });
      if (sut.geneve === false) return; // the kernel stand-in carries vxlan
      assert.deepEqual(checkGeneve(pkts, { vnis: [VPC_VNI], min: 1000 }), []);
      // VPC-internal TCP carries Oxide's MSS option (class 0x0129) on its SYNs.
      const oxide = pkts.filter((p) => p.optionClasses.includes(0x0129));
      if (v6) assert.ok(oxide.length >= 2, `${oxide.length} packets with an Oxide option`);
    });
  },
});

Deno.test({
  name: name("vm0 ↔ vm1 on the same sled, ping, ping6, TCP; nothing leaves the sled"),
  ignore: !!why || !carries(sut, "overlay"),
  async fn() {
    await withSwitch(async (t) => {
      const [s1] = t.plan.sleds, a = s1.vms[0], b = s1.vms[1];
      const pkts = await captureSled1(t, async () => {
        await assertReachable(t, [
          ping("vm0 → vm1", a.ns, b.ip4),
          ping("vm1 → vm0", b.ns, a.ip4),
          ...(v6 ? [ping("vm0 → vm1 IPv6", a.ns, b.ip6), ping("vm1 → vm0 IPv6", b.ns, a.ip6)] : []),
        ]);
        await assertTcp({ client: a.ns, server: b.ns, dst: b.ip4 });
      });
      if (v6) assert.equal(pkts.length, 0, "same-sled overlay traffic reached the racks");
    });
  },
});

Deno.test({
  name: name("failover — rack0's link to sled1 goes down mid-transfer, Geneve TCP completes"),
  ignore: !!why || !carries(sut, "overlay"),
  async fn() {
    await withSwitch(async (t) => {
      const [s1, s2] = t.plan.sleds;
      const ep = { client: s1.vms[0].ns, server: s2.vms[0].ns, dst: s2.vms[0].ip4 };
      const transfer = tcpThroughput(ep, 6, 4); // 4 streams: both uplinks carry some
      await sleep(2000);
      // The rack re-routes sled1's prefix via rack1 as its routing daemon would.
      await rackLink(t, 0, 1, false);
      await run([
        "ip",
        "-n",
        t.plan.racks[0],
        "route",
        "replace",
        s1.prefix,
        "via",
        "fe80::b",
        "dev",
        "rk1",
      ]);
      try {
        const r = await transfer;
        assert.ok(r.seconds >= 5.5, `transfer ran to the end (${r.seconds} s)`);
        assert.ok(r.lastIntervalGbps > 0.01, `still moving at the end: ${r.lastIntervalGbps} Gb/s`);
      } finally {
        await rackLink(t, 0, 1, true);
      }
    });
  },
});
