// End-to-end through the switch under test (issue 8): underlay paths with real namespaces, real
// kernels and real tools. Ignored (with the hook's reason) until a switch under test can run;
// XDENO_BENCH_SUT=lib/testbed/<kernel|ovs|xdeno>_sut.ts picks one (see lib/testbed/README.md).
import assert from "node:assert/strict";
import { run, sleep } from "../../lib/testbed/exec.ts";
import { tcpThroughput } from "../../lib/testbed/measure.ts";
import { shapes } from "../../lib/testbed/paths.ts";
import { carries } from "../../lib/testbed/sut.ts";
import { formatResults, routedChecks, sameSledChecks, verify } from "../../lib/testbed/verify.ts";
import { e2eSkip, sut, withSwitch } from "./harness.ts";

const why = await e2eSkip();

Deno.test({
  name: `e2e (${sut.name}): zone-a ↔ zone-b on one sled, ping and TCP`,
  ignore: !!why || !carries(sut, "l2"),
  async fn() {
    await withSwitch(async (t) => {
      const res = await verify(t, sameSledChecks(t.plan));
      assert.ok(res.every((r) => r.ok), formatResults(res));
      const r = await tcpThroughput(shapes(t).l2, 2);
      assert.ok(r.bytes > 1e6 && r.lastIntervalGbps > 0, `${r.bytes} bytes`);
    });
  },
});

Deno.test({
  name: `e2e (${sut.name}): gateway LL, zone ↔ GZ, GZ ↔ sled2 GZ, zone ↔ sled2 zone; TCP`,
  ignore: !!why || !carries(sut, "routed"),
  async fn() {
    await withSwitch(async (t) => {
      const res = await verify(t, routedChecks(t.plan));
      assert.ok(res.every((r) => r.ok), formatResults(res));
      const r = await tcpThroughput(shapes(t).routed, 2);
      assert.ok(r.bytes > 1e6 && r.lastIntervalGbps > 0, `${r.bytes} bytes`);
    });
  },
});

Deno.test({
  name: `e2e (${sut.name}): failover — rack0's link to sled1 goes down mid-transfer, TCP completes`,
  ignore: !!why || !carries(sut, "routed"),
  async fn() {
    await withSwitch(async (t) => {
      const [s1] = t.plan.sleds;
      const [rack0] = t.plan.racks;
      const transfer = tcpThroughput(shapes(t).routed, 6, 4); // 4 streams: both uplinks carry some
      await sleep(2000);
      // The link fails; the rack re-routes sled1's prefix via rack1 as its routing daemon would.
      await run(["ip", "-n", rack0, "link", "set", "s1", "down"]);
      await run(["ip", "-n", rack0, "route", "replace", s1.prefix, "via", "fe80::b", "dev", "rk1"]);
      try {
        const r = await transfer;
        assert.ok(r.seconds >= 5.5, `transfer ran to the end (${r.seconds} s)`);
        assert.ok(r.lastIntervalGbps > 0.01, `still moving at the end: ${r.lastIntervalGbps} Gb/s`);
      } finally {
        await run(["ip", "-n", rack0, "link", "set", "s1", "up"]);
      }
    });
  },
});
