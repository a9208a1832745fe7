// GRO before the VPC pipeline: a guest without TSO (raw mode: no virtio-net headers anywhere on
// the sled's ports) sends MSS-sized segments; consecutive in-order ones of one flow from one
// receive batch leave as large segments with the Oxide MSS option. tshark is the oracle for
// what goes on the wire (lengths, sequence numbers, inner checksums); a segment whose checksum
// is wrong is never merged and reaches the wire as bad as the guest sent it.

import assert from "node:assert/strict";
import { memoryPair } from "../../lib/link/memory.ts";
import type { LayerSpec } from "../../lib/packet/build.ts";
import { Mappings } from "../../lib/vpc/mappings.ts";
import { vpcPort } from "../../lib/vpc/vpc_port.ts";
import { frame, GW_MAC, routedSled, SLED } from "./harness.ts";
import { VnetLink } from "./vnet_link.ts";
import { assertTsharkClean, haveTshark, tsharkFields, tsharkStep } from "../vpc/tshark.ts";

const SLED2 = "fd00:2::1";
const VA = { mac: "a8:40:25:fa:00:0a", ip: "172.30.0.10" };
const VB = { mac: "a8:40:25:fa:00:0b", ip: "172.30.0.11" };
const MSS = 1448;

/** One guest TCP segment vm-a → vm-b with `n` payload bytes from offset `seq - 100`. */
function seg(seq: number, flags: number, n: number, id: number): Uint8Array {
  const data = new Uint8Array(n).map((_, i) => ((seq + i) * 13 + ((seq + i) >> 8)) & 0xff);
  return frame([
    { type: "ethernet", src: VA.mac, dst: GW_MAC },
    { type: "ipv4", src: VA.ip, dst: VB.ip, ttl: 64, id, df: true },
    { type: "tcp", srcPort: 40000, dstPort: 5201, seq, ack: 9, flags, window: 512 },
    { type: "payload", data },
  ] as LayerSpec[]);
}

/**
 * A sled with guest `g` behind the real VPC pipeline; no virtio-net headers anywhere, or with
 * `vnet` on every link as the runtime opens them (the guest's own frames stay plain).
 */
function rawSled(g = VA, addr = SLED, vnet = false) {
  const s = routedSled({ cfg: { batch: 32, sledAddress: addr, vnet }, ulVnet: vnet });
  const maps = new Mappings();
  maps.v2p.set(10, VA.ip, VA.mac, SLED);
  maps.v2p.set(10, VB.ip, VB.mac, SLED2);
  const name = g === VA ? "vm-a" : "vm-b";
  const mtu = vnet ? 65535 : 1500; // a TAP with headers takes GSO frames
  const [mine, far] = memoryPair({ name, mtu }, { name: `${name}-guest`, mac: g.mac, mtu });
  const link = vnet ? new VnetLink(mine) : mine;
  const pipeline = vpcPort({
    name,
    vni: 10,
    guestMac: g.mac,
    underlay: addr,
    v4: { privateIp: g.ip, subnet: "172.30.0.0/22" },
    mappings: maps,
    clock: () => s.clock.t,
  });
  s.sw.addPort({ name, kind: "instance", link, mac: g.mac, vni: 10, pipeline, mtu: 1500 });
  if (g !== VA) return { s, far, link, syn: [] };
  // The handshake opens the flow in the stateful pipeline.
  far.inject(seg(99, 0x02, 0, 1));
  s.step();
  return { s, far, link, syn: wire(s.rack) };
}

/** Geneve frames the sled sent to the rack since the last call. */
function wire(rack: { take(): Uint8Array[] }[]): Uint8Array[] {
  return rack.flatMap((r) => r.take()).filter((f) => f[20] === 17 && f[56] === 0x17);
}

if (!haveTshark) console.warn("SKIP gro_out tshark checks: tshark not installed");

Deno.test({
  name: "gro before the pipeline: 11 in-order segments of one batch leave as 6 + 5 MSS units",
  ignore: !haveTshark && !Deno.env.get("CI"),
  async fn(t) {
    const { s, far } = rawSled();
    for (let k = 0; k < 10; k++) far.inject(seg(100 + k * MSS, 0x10, MSS, 2 + k));
    far.inject(seg(100 + 10 * MSS, 0x18, 500, 12));
    s.step();
    const got = wire(s.rack);
    const ev = s.sw.counters.toJSON();
    assert.equal(got.length, 2, JSON.stringify(ev));
    await assertTsharkClean(t, got, "merged large segments");
    const rows = await tsharkFields(got, [
      "geneve.option.class",
      "geneve.option.type",
      "geneve.option.unknown.data",
      "tcp.seq_raw",
      "tcp.len",
      "tcp.flags",
      "tcp.checksum.status",
      "ip.checksum.status",
    ]);
    const opt = ["0x0129", "0x02", "000005a8"];
    assert.deepEqual(rows, [
      [...opt, "100", String(6 * MSS), "0x0010", "1", "1"],
      [...opt, String(100 + 6 * MSS), String(4 * MSS + 500), "0x0018", "1", "1"],
    ]);
  },
});

Deno.test({
  name: "gro before the pipeline: a segment with a bad checksum is not merged and stays bad",
  ignore: !haveTshark && !Deno.env.get("CI"),
  async fn() {
    const { s, far } = rawSled();
    for (let k = 0; k < 6; k++) {
      const f = seg(100 + k * MSS, 0x10, MSS, 2 + k);
      if (k === 3) f[14 + 20 + 16] ^= 0x40; // TCP checksum of the fourth segment
      far.inject(f);
    }
    s.step();
    const rows = await tsharkFields(wire(s.rack), [
      "tcp.seq_raw",
      "tcp.len",
      "tcp.checksum.status",
    ]);
    // Segments 1-3 merged, 4 alone (bad, as sent), 5-6 merged again.
    assert.deepEqual(rows, [
      ["100", String(3 * MSS), "1"],
      [String(100 + 3 * MSS), String(MSS), "0"],
      [String(100 + 4 * MSS), String(2 * MSS), "1"],
    ]);
  },
});

Deno.test("gro before the pipeline: a gap in the sequence ends the train", () => {
  const { s, far } = rawSled();
  far.inject(seg(100, 0x10, MSS, 2));
  far.inject(seg(100 + 2 * MSS, 0x10, MSS, 3)); // a gap: not merged
  far.inject(seg(100 + 3 * MSS, 0x10, MSS, 4)); // continues the second
  s.step();
  const got = wire(s.rack);
  // Inner IPv4 total lengths (inner IPv4 at 14 + 40 + 8 + 8 + 8 + 14 = 92).
  assert.deepEqual(got.map((f) => (f[92 + 2] << 8) | f[92 + 3]), [
    40 + MSS,
    40 + 2 * MSS,
  ]);
});

/** Hands underlay frame `f` to sled `to` as the rack would (source and destination MAC swap). */
function forward(to: ReturnType<typeof rawSled>["s"], f: Uint8Array): void {
  const g = f.slice();
  g.set(f.subarray(6, 12), 0);
  g.set(f.subarray(0, 6), 6);
  const k = f[11] === to.uplinks[0].mac[5] ? 0 : 1;
  to.rack[k].inject(g);
}

Deno.test("gro before the pipeline: the far raw sled cuts a large segment into checked MSS segments, and drops a corrupted one", async (t) => {
  const a = rawSled(), b = rawSled(VB, SLED2);
  for (const f of a.syn) forward(b.s, f);
  b.s.step();
  assert.equal(b.far.take().length, 1, "the SYN reaches vm-b");
  for (let k = 0; k < 6; k++) a.far.inject(seg(100 + k * MSS, 0x10, MSS, 2 + k));
  for (let k = 0; k < 6; k++) a.far.inject(seg(100 + (6 + k) * MSS, 0x10, MSS, 8 + k));
  a.s.step();
  const [good, bad] = wire(a.s.rack);
  bad[bad.length - 7] ^= 0x01; // one payload bit of the second large segment, as if on the wire
  forward(b.s, good);
  forward(b.s, bad);
  b.s.step();
  const got = b.far.take();
  assert.equal(got.length, 6, JSON.stringify(b.s.sw.counters.toJSON()));
  assert.equal(b.s.sw.counters.toJSON().drops["bad-checksum"], 1);
  await tsharkStep(t, "vm-b's segments", async () => {
    const rows = await tsharkFields(got, ["tcp.seq_raw", "tcp.len", "tcp.checksum.status"]);
    assert.deepEqual(
      rows,
      [0, 1, 2, 3, 4, 5].map((k) => [String(100 + k * MSS), String(MSS), "1"]),
    );
  });
});

Deno.test("gro before the pipeline: a receiving sled with headers hands a checked large segment to a guest without offload as one GSO frame, and drops a corrupted one", () => {
  const a = rawSled(), b = rawSled(VB, SLED2, true);
  for (const f of a.syn) forward(b.s, f);
  b.s.step();
  assert.equal(b.far.take().length, 1, "the SYN reaches vm-b");
  for (let k = 0; k < 12; k++) a.far.inject(seg(100 + k * MSS, 0x10, MSS, 2 + k));
  a.s.step();
  const [good, bad] = wire(a.s.rack);
  bad[bad.length - 7] ^= 0x01; // one payload bit of the second large segment, as if on the wire
  (b.link as VnetLink).sent.length = 0;
  forward(b.s, good);
  forward(b.s, bad);
  b.s.step();
  const got = b.far.take();
  const ev = b.s.sw.counters.toJSON();
  assert.equal(got.length, 1, JSON.stringify(ev));
  assert.equal(ev.events["gso-delivered"], 1);
  assert.equal(ev.events["large-segment-split"], undefined, "nothing cut for the guest");
  assert.equal(ev.drops["bad-checksum"], 1, "the corrupted one is checked and dropped");
  // TCPv4 GSO of the MSS, checksum needed from the TCP header (34) at offset 16, 54 header bytes.
  assert.deepEqual(Array.from((b.link as VnetLink).sent[0]), [
    1,
    1,
    54,
    0,
    MSS & 0xff,
    MSS >> 8,
    34,
    0,
    16,
    0,
  ]);
  const want = Array.from({ length: 6 }, (_, k) => seg(100 + k * MSS, 0x10, MSS, 2 + k));
  const data = want.flatMap((f) => Array.from(f.subarray(54)));
  assert.deepEqual(Array.from(got[0].subarray(54)), data, "the six segments' bytes, in order");
});

Deno.test("gro before the pipeline: with headers on the underlay a train leaves with its checksum partial", () => {
  const a = rawSled(VA, SLED, true);
  for (let k = 0; k < 6; k++) a.far.inject(seg(100 + k * MSS, 0x10, MSS, 2 + k));
  a.s.step();
  const ev = a.s.sw.counters.toJSON().events;
  assert.equal(ev["gro-out"], 1);
  assert.equal(ev["csum-partial-out"], 1, "left for the kernel, as a TSO frame's segments are");
});
