// Open vSwitch (userspace datapath) as a switch under test: L2 bridging on each sled and Geneve
// VNI 10 between them. Checks the e2e overlay tests and their Geneve capture with an independent
// implementation: XDENO_BENCH_SUT=lib/testbed/ovs_sut.ts deno test -A tests/e2e/

import { have } from "./exec.ts";
import { PortType, startOvsSleds } from "./ovs.ts";
import { SwitchUnderTest } from "./sut.ts";

/** OVS netdev on both sleds (port type from XDENO_OVS_PORT_TYPE, default system). */
export const sut: SwitchUnderTest = {
  name: "ovs-netdev",
  topology: { mode: "switch" },
  supports: ["l2", "overlay"],
  unavailable: async () =>
    await have("ovs-vswitchd") ? undefined : "openvswitch-switch is not installed",
  async start(t) {
    const portType = (Deno.env.get("XDENO_OVS_PORT_TYPE") ?? "system") as PortType;
    const p = await startOvsSleds(t, { portType });
    return { pids: () => p.pids(), stop: () => p.stop() };
  },
};
