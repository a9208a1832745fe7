// Where a capture sees the underlay as a wire would carry it. xdeno sleds send Geneve to each
// other as UDP_L4 GSO frames (lib/switch/uso.ts) that veth and the racks' forwarding carry whole,
// so a capture where a rack receives them sees 64 KB frames with their outer UDP checksum still
// partial. On a rack's port towards a sled with tx checksum offload off, the kernel cuts every
// such frame into its datagrams and completes their checksums before the capture sees them, as
// it would before a NIC without offload: that is where these captures look.
import { run } from "../../lib/testbed/exec.ts";
import { Capture } from "../../lib/testbed/capture.ts";
import { type SledPlan, stateDir } from "../../lib/testbed/plan.ts";
import type { Topology } from "../../lib/testbed/topology.ts";

/**
 * Captures Geneve to each of `sleds` on the racks' ports towards it (tx checksum offload off
 * meanwhile) while `fn` runs; returns the pcap files.
 */
export async function captureToSleds(
  t: Topology,
  sleds: SledPlan[],
  fn: () => Promise<void>,
  tag = "wire",
): Promise<string[]> {
  const dir = stateDir(t.plan.prefix);
  await Deno.mkdir(dir, { recursive: true });
  const ports = sleds.flatMap((s) => s.uplinks.map((u) => ({ s, u })));
  const tx = (on: boolean) =>
    Promise.all(
      ports.map(({ u }) =>
        run(["ethtool", "-K", u.rackPort, "tx", on ? "on" : "off"], { ns: u.rack })
      ),
    );
  await tx(false);
  try {
    const caps = await Promise.all(
      ports.map(({ s, u }) =>
        Capture.start(
          u.rack,
          u.rackPort,
          `udp port 6081 and dst net ${s.prefix}`,
          `${dir}/${tag}-${s.n}-${u.name}.pcap`,
          3000,
        )
      ),
    );
    try {
      await fn();
    } finally {
      for (const c of caps) await c.stop();
    }
    return caps.map((c) => c.file);
  } finally {
    await tx(true);
  }
}
