// Where a capture sees the underlay as a wire would carry it. xdeno sleds send Geneve to each
// other as UDP_L4 GSO frames (lib/switch/uso.ts) that veth and the racks' forwarding carry whole,
// so a capture where a rack receives them sees 64 KB frames with their outer UDP checksum still
// partial. On a rack's port towards a sled with tx checksum offload off, the kernel cuts every
// such frame into its datagrams and completes their checksums before the capture sees them, as
// it would before a NIC without offload: that is where these captures look.
import { run } from "../../lib/testbed/exec.ts";
import { pcapFile, readPcap } from "../../lib/packet/pcap.ts";
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

/** RFC 1071 sum over `b[from, to)`, written out here so the check does not trust lib's. */
function onesSum(b: Uint8Array, from: number, to: number, acc = 0): number {
  for (let i = from; i < to; i += 2) acc += b[i] * 256 + (i + 1 < to ? b[i + 1] : 0);
  while (acc > 0xffff) acc = (acc % 0x10000) + Math.floor(acc / 0x10000);
  return acc;
}

/**
 * Between xdeno sleds a large segment's inner TCP checksum travels partial (CHECKSUM_PARTIAL:
 * the field holds the pseudo-header sum and the receiving end completes it), so a capture on
 * the rack shows it unfinished. Completes, as the kernel's skb_checksum_help would, every inner
 * TCP checksum of a Geneve packet with Oxide's MSS option that is not already valid but holds
 * exactly its pseudo-header sum; writes `file`.completed.pcap and returns it with the count.
 */
export async function completePartial(file: string): Promise<{ file: string; completed: number }> {
  const recs = readPcap(await Deno.readFile(file));
  if (!Array.isArray(recs)) throw new Error(`${file}: ${JSON.stringify(recs)}`);
  let completed = 0;
  const frames = recs.map(({ data }) => {
    const f = data.slice();
    if (f.length < 100 || f[12] !== 0x86 || f[13] !== 0xdd || f[20] !== 17) return f;
    if (f[56] * 256 + f[57] !== 6081) return f;
    const opts = 70, inner = opts + (f[62] & 0x3f) * 4;
    let mss = false;
    for (let at = opts; at + 4 <= inner; at += 4 + (f[at + 3] & 0x1f) * 4) {
      if (f[at] === 0x01 && f[at + 1] === 0x29 && (f[at + 2] & 0x7f) === 2) mss = true;
    }
    const l3 = inner + 14, et = f[inner + 12] * 256 + f[inner + 13];
    if (!mss || (et !== 0x0800 && et !== 0x86dd)) return f;
    const v4 = et === 0x0800;
    const l4 = v4 ? l3 + (f[l3] & 0x0f) * 4 : l3 + 40;
    const end = v4 ? l3 + f[l3 + 2] * 256 + f[l3 + 3] : l3 + 40 + f[l3 + 4] * 256 + f[l3 + 5];
    if ((v4 ? f[l3 + 9] : f[l3 + 6]) !== 6 || end > f.length) return f;
    const pseudo = v4
      ? onesSum(f, l3 + 12, l3 + 20, 6 + end - l4)
      : onesSum(f, l3 + 8, l3 + 40, 6 + end - l4);
    if (onesSum(f, l4, end, pseudo) === 0xffff) return f; // already complete
    if (f[l4 + 16] * 256 + f[l4 + 17] !== pseudo) return f; // wrong either way: tshark says so
    const udpLen = f[58] * 256 + f[59], outer = f[60] !== 0 || f[61] !== 0;
    const udpSum = () => onesSum(f, 54, 54 + udpLen, onesSum(f, 22, 54, 17 + udpLen));
    if (outer && udpSum() !== 0xffff) return f; // a wrong outer checksum stays for tshark
    const c = 0xffff - onesSum(f, l4, end);
    f[l4 + 16] = c >> 8;
    f[l4 + 17] = c & 0xff;
    // A datagram cut from a UDP_L4 frame carries a real outer UDP checksum, which covers the
    // field just completed: computed again over the same bytes the receiving sled sees.
    if (outer) {
      f[60] = f[61] = 0;
      const u = 0xffff - udpSum();
      f[60] = (u || 0xffff) >> 8;
      f[61] = (u || 0xffff) & 0xff;
    }
    completed++;
    return f;
  });
  const out = `${file}.completed.pcap`;
  await Deno.writeFile(out, pcapFile(frames));
  return { file: out, completed };
}
