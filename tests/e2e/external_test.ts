// End-to-end off-rack traffic through the switch under test and boundary services (the OVS peer of
// lib/testbed/boundary.ts): vm0 out via SNAT, and the outside in to a system zone's floating IP
// (the Nexus case). tshark checks the Geneve on the boundary link — VNI 99 towards boundary
// services, the port's VNI with Oxide's external option (class 0x0129) back — and the addresses
// the external client sees.
import assert from "node:assert/strict";
import { Capture, checkGeneve, dissectGeneve, ipv4Pairs } from "../../lib/testbed/capture.ts";
import {
  BOUNDARY_VNI,
  EXTERNAL_IP,
  SERVICES_VNI,
  stateDir,
  VPC_VNI,
  ZONE_OVERLAY,
} from "../../lib/testbed/plan.ts";
import { Topology } from "../../lib/testbed/topology.ts";
import { ping } from "../../lib/testbed/verify.ts";
import { assertReachable, assertTcp, e2eSkip, sut, withSwitch } from "./harness.ts";

const why = await e2eSkip();
const name = (s: string) => `e2e (${sut.name}): ${s}`;
// Only xdeno's topology has the boundary peer and the external IP configuration.
const ignore = !!why || sut.topology.boundary !== "switch";

/** Captures the boundary link (Geneve) and the external client's link while `fn` runs. */
async function capture(t: Topology, fn: () => Promise<void>) {
  const dir = stateDir(t.plan.prefix);
  await Deno.mkdir(dir, { recursive: true });
  const rack0 = t.plan.racks[0];
  const gnv = await Capture.start(rack0, "bnd", "udp port 6081", `${dir}/bnd.pcap`, 2000);
  const ext = await Capture.start(t.plan.external.ns, "eth0", "ip", `${dir}/ext.pcap`, 2000);
  try {
    await fn();
  } finally {
    await gnv.stop();
    await ext.stop();
  }
  return { geneve: await dissectGeneve(gnv.file), ext: await ipv4Pairs(ext.file) };
}

Deno.test({
  name: name("vm0 → external via SNAT and boundary services, ping and TCP"),
  ignore,
  async fn() {
    await withSwitch(async (t) => {
      const vm = t.plan.sleds[0].vms[0], ext = t.plan.external;
      const seen = await capture(t, async () => {
        await assertReachable(t, [ping("vm0 → external", vm.ns, EXTERNAL_IP)]);
        await assertTcp({ client: vm.ns, server: ext.ns, dst: EXTERNAL_IP });
      });
      assert.deepEqual(
        checkGeneve(seen.geneve, {
          vnis: [BOUNDARY_VNI, VPC_VNI],
          oxideOptionOn: [VPC_VNI],
          min: 20,
        }),
        [],
      );
      assert.ok(
        seen.geneve.some((p) => p.vni === BOUNDARY_VNI),
        "nothing sent to boundary services",
      );
      assert.ok(
        seen.geneve.some((p) => p.vni === VPC_VNI),
        "nothing came back from boundary services",
      );
      // The outside sees the SNAT address only, never the private one.
      const from = new Set(seen.ext.filter((p) => p.dst === EXTERNAL_IP).map((p) => p.src));
      assert.deepEqual([...from], [vm.snat]);
    });
  },
});

Deno.test({
  name: name("external → system zone's floating IP and back (the Nexus case), ping and TCP"),
  ignore,
  async fn() {
    await withSwitch(async (t) => {
      const zone = t.plan.sleds[0].zones[0], ext = t.plan.external;
      const seen = await capture(t, async () => {
        await assertReachable(t, [
          ping("external → zone-a floating IP", ext.ns, ZONE_OVERLAY.floating),
        ]);
        await assertTcp({ client: ext.ns, server: zone.ns, dst: ZONE_OVERLAY.floating });
        await assertTcp({ client: zone.ns, server: ext.ns, dst: EXTERNAL_IP }, 1);
      });
      assert.deepEqual(
        checkGeneve(seen.geneve, {
          vnis: [BOUNDARY_VNI, SERVICES_VNI],
          oxideOptionOn: [SERVICES_VNI],
          min: 20,
        }),
        [],
      );
      // Replies and the zone's own connections leave from the floating IP.
      const from = new Set(seen.ext.filter((p) => p.dst === EXTERNAL_IP).map((p) => p.src));
      assert.deepEqual([...from], [ZONE_OVERLAY.floating]);
    });
  },
});
