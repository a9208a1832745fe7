// End-to-end through the switch under test (issue 8): underlay paths with real namespaces, real
// kernels and real tools — ping6 both ways and an iperf3 TCP transfer per path, failover.
// XDENO_BENCH_SUT=lib/testbed/<kernel|ovs|xdeno>_sut.ts picks another switch (lib/testbed/README.md).
import assert from "node:assert/strict";
import { run, sleep } from "../../lib/testbed/exec.ts";
import { tcpThroughput } from "../../lib/testbed/measure.ts";
import { shapes } from "../../lib/testbed/paths.ts";
import { GW_LL } from "../../lib/testbed/plan.ts";
import { rackLink } from "../../lib/testbed/topology.ts";
import { carries } from "../../lib/testbed/sut.ts";
import { ping, sameSledChecks } from "../../lib/testbed/verify.ts";
import { assertReachable, assertTcp, e2eSkip, sut, withSwitch } from "./harness.ts";

const why = await e2eSkip();
const name = (s: string) => `e2e (${sut.name}): ${s}`;

Deno.test({
  name: name("zone-a ↔ zone-b on one sled, ping6 and TCP"),
  ignore: !!why || !carries(sut, "l2"),
  async fn() {
    await withSwitch(async (t) => {
      await assertReachable(t, sameSledChecks(t.plan));
      await assertTcp(shapes(t).l2);
    });
  },
});

Deno.test({
  name: name("zone ↔ GZ (xde0) and zone → gateway link-local, ping6 and TCP"),
  ignore: !!why || !carries(sut, "routed"),
  async fn() {
    await withSwitch(async (t) => {
      const [s1] = t.plan.sleds, za = s1.zones[0];
      await assertReachable(t, [
        ping("zone-a → gateway link-local", za.ns, `${GW_LL}%eth0`),
        ping("zone-a → sled1 host (xde0)", za.ns, s1.host),
        ping("sled1 host → zone-a", s1.ns, za.ip6),
      ]);
      await assertTcp({ client: za.ns, server: s1.ns, dst: s1.host });
      await assertTcp({ client: s1.ns, server: za.ns, dst: za.ip6 });
    });
  },
});

Deno.test({
  name: name("GZ ↔ sled2 GZ, ping6 and TCP"),
  ignore: !!why || !carries(sut, "routed"),
  async fn() {
    await withSwitch(async (t) => {
      const [s1, s2] = t.plan.sleds;
      await assertReachable(t, [
        ping("sled1 host → sled2 host", s1.ns, s2.host),
        ping("sled2 host → sled1 host", s2.ns, s1.host),
      ]);
      await assertTcp({ client: s1.ns, server: s2.ns, dst: s2.host });
    });
  },
});

Deno.test({
  name: name("zone ↔ sled2 zone through each rack router in turn, ping6 and TCP"),
  ignore: !!why || !carries(sut, "routed"),
  async fn() {
    await withSwitch(async (t) => {
      const [s1, s2] = t.plan.sleds, za = s1.zones[0], zc = s2.zones[0];
      const checks = [
        ping("zone-a → sled2 zone", za.ns, zc.ip6),
        ping("sled2 zone → zone-b", zc.ns, s1.zones[1].ip6),
      ];
      await assertReachable(t, checks); // ECMP over both racks
      // Only one rack at a time: the other rack's links to both sleds lose carrier.
      for (const [i, only] of t.plan.racks.entries()) {
        const rx = async () =>
          Number(
            (await run(["cat", "/sys/class/net/s1/statistics/rx_packets"], { ns: only })).stdout,
          );
        for (const n of [1, 2]) await rackLink(t, 1 - i, n, false);
        try {
          const before = await rx();
          await assertReachable(t, checks);
          await assertTcp({ client: za.ns, server: zc.ns, dst: zc.ip6 }, 1);
          const carried = await rx() - before;
          assert.ok(carried > 500, `${only} carried ${carried} packets from sled1`);
        } finally {
          for (const n of [1, 2]) await rackLink(t, 1 - i, n, true);
        }
        // The switch takes the hop back once the rack answers its multicast NS (every 500 ms).
        await sleep(1200);
      }
    });
  },
});

Deno.test({
  name: name("failover — rack0's link to sled1 goes down mid-transfer, TCP completes"),
  ignore: !!why || !carries(sut, "routed"),
  async fn() {
    await withSwitch(async (t) => {
      const [s1] = t.plan.sleds;
      const [rack0] = t.plan.racks;
      const transfer = tcpThroughput(shapes(t).routed, 6, 4); // 4 streams: both uplinks carry some
      await sleep(2000);
      // The link fails; the rack re-routes sled1's prefix via rack1 as its routing daemon would.
      await rackLink(t, 0, 1, false);
      await run(["ip", "-n", rack0, "route", "replace", s1.prefix, "via", "fe80::b", "dev", "rk1"]);
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
