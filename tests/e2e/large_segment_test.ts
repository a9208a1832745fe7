// Large segments on the real underlay: with the VMs' TSO on, iperf3 between VMs on two sleds
// crosses the racks as Geneve packets larger than the VMs' MTU, each carrying Oxide's MSS option
// (class 0x0129, type 2) with the guests' MSS, checked by tshark (checksums, nothing malformed).
// Towards boundary services (an Open vSwitch Geneve peer, no MSS option) the same VM's TSO
// traffic leaves in packets that fit the VM's MTU, and OVS still carries it.
import assert from "node:assert/strict";
import { Capture, checkGeneve, dissectGeneve } from "../../lib/testbed/capture.ts";
import { run } from "../../lib/testbed/exec.ts";
import { BOUNDARY_VNI, EXTERNAL_IP, stateDir, VPC_VNI } from "../../lib/testbed/plan.ts";
import { carries } from "../../lib/testbed/sut.ts";
import type { Topology } from "../../lib/testbed/topology.ts";
import { assertTcp, e2eSkip, sut, withSwitch } from "./harness.ts";
import { captureToSleds, completePartial } from "./wire.ts";

const why = await e2eSkip();
const name = (s: string) => `e2e (${sut.name}): ${s}`;
// Large segments are xdeno's (the VPC gateway adding Oxide's options); peers bridge MSS segments.
const ignore = !!why || !carries(sut, "overlay") || sut.topology.vpcGateway !== true ||
  sut.geneve === false;

/** One row per Geneve packet: frame length, option classes, types, data, inner TCP length. */
async function sizes(file: string): Promise<string[][]> {
  const r = await run([
    "tshark",
    "--disable-protocol",
    "thrift",
    "-r",
    file,
    "-Y",
    "geneve && tcp",
    "-T",
    "fields",
    "-E",
    "separator=\t",
    "-E",
    "aggregator=|",
    ..."frame.len geneve.option.class geneve.option.type geneve.option.unknown.data tcp.len"
      .split(" ").flatMap((f) => ["-e", f]),
  ]);
  return r.stdout.split("\n").filter((l) => l.trim()).map((l) => l.split("\t"));
}

/**
 * Runs `fn` with TSO on in the namespaces `tso` (not on the external client: OVS's AF_PACKET
 * ports cannot carry its partial checksums).
 */
async function withTso(tso: string[], fn: () => Promise<void>): Promise<void> {
  const offload = (on: boolean) =>
    Promise.all(tso.map((ns) => run(["ethtool", "-K", "eth0", "tx", on ? "on" : "off"], { ns })));
  await offload(true);
  try {
    await fn();
  } finally {
    await offload(false);
  }
}

/** Captures Geneve on `links` ([ns, ifname]) while `fn` runs; returns the pcap files. */
async function capture(t: Topology, links: [string, string][], fn: () => Promise<void>) {
  const dir = stateDir(t.plan.prefix);
  await Deno.mkdir(dir, { recursive: true });
  const caps = await Promise.all(
    links.map(([ns, dev], i) =>
      Capture.start(ns, dev, "udp port 6081", `${dir}/large-${i}.pcap`, 3000)
    ),
  );
  try {
    await fn();
  } finally {
    for (const c of caps) await c.stop();
  }
  return caps.map((c) => c.file);
}

Deno.test({
  name: name(
    "large segments: VM TSO crosses the racks in large Geneve packets with the MSS option",
  ),
  ignore,
  async fn() {
    await withSwitch(async (t) => {
      const [s1, s2] = t.plan.sleds, a = s1.vms[0], b = s2.vms[0];
      // Where the racks send to sled 2, which cut sled 1's UDP_L4 frames as before a wire.
      const files = await captureToSleds(
        t,
        [s2],
        () => withTso([a.ns, b.ns], () => assertTcp({ client: a.ns, server: b.ns, dst: b.ip4 }, 2)),
        "large",
      );
      const done = await Promise.all(files.map(completePartial));
      const partial = done.reduce((n, d) => n + d.completed, 0);
      assert.ok(partial > 10, `${partial} large segments sent with a partial inner checksum`);
      const pkts = (await Promise.all(done.map((d) => dissectGeneve(d.file)))).flat();
      assert.deepEqual(checkGeneve(pkts, { vnis: [VPC_VNI], min: 100 }), []);
      const rows = (await Promise.all(files.map(sizes))).flat();
      const large = rows.filter((r) => Number(r[4]) > 1500);
      assert.ok(large.length > 10, `${large.length} of ${rows.length} TCP packets above 1500 B`);
      for (const r of large) {
        // One Oxide option: type 2 (MSS), the guests' MSS (1448 with timestamps).
        assert.equal(r[1], "0x0129", r.join(" "));
        assert.equal(r[2], "0x02", r.join(" "));
        const mss = parseInt(r[3], 16);
        assert.ok(mss >= 1200 && mss <= 1460, r.join(" "));
        assert.ok(Number(r[0]) <= 9014, `frame of ${r[0]} bytes exceeds the underlay MTU`);
      }
      // Whole MSS units but for the tail of a TSO frame.
      const whole = large.filter((r) => Number(r[4]) % parseInt(r[3], 16) === 0);
      assert.ok(whole.length > large.length / 2, `${whole.length} of ${large.length} whole units`);
    });
  },
});

Deno.test({
  name: name("large segments: VM TSO to boundary services (OVS) stays within the VM's MTU"),
  ignore: ignore || sut.topology.boundary !== "switch",
  async fn() {
    await withSwitch(async (t) => {
      const vm = t.plan.sleds[0].vms[0], ext = t.plan.external;
      const files = await capture(
        t,
        [[t.plan.racks[0], "bnd"]],
        () =>
          withTso([vm.ns], () => assertTcp({ client: vm.ns, server: ext.ns, dst: EXTERNAL_IP }, 2)),
      );
      const pkts = await dissectGeneve(files[0]);
      assert.deepEqual(checkGeneve(pkts, { vnis: [BOUNDARY_VNI, VPC_VNI], min: 20 }), []);
      const rows = await sizes(files[0]);
      // Guest MTU 1500: at most 1500 - 20 - 32 bytes of TCP data per packet towards OVS.
      const over = rows.filter((r) => Number(r[4]) > 1448);
      assert.deepEqual(over, [], "packets to a peer without the MSS option above the VM's MSS");
      assert.ok(rows.some((r) => Number(r[4]) === 1448), "no full-MSS packets seen");
    });
  },
});
