// Receive coalescing on the pass-through paths (issue 14): in-order TCP segments a zone sent
// without TSO leave towards an offloading port or underlay link as one GSO super-frame
// (zone→zone, underlay→zone, zone→underlay), and stay apart towards a link without headers.
// Expected frames come from the frame builder; tshark checks the merged frame's checksum.

import assert from "node:assert/strict";
import { type MemoryLink, memoryPair } from "../../lib/link/memory.ts";
import { Switch } from "../../lib/switch/switch.ts";
import { completeChecksum } from "../../lib/packet/virtio_net.ts";
import { VnetLink } from "./vnet_link.ts";
import { frame, GW_MAC, hex, RACK_LL, rackNa, REMOTE, SLED, UL, ZA, ZB } from "./harness.ts";
import { haveTshark, tsharkFields } from "../vpc/tshark.ts";

const PSH_ACK = 0x18, ACK = 0x10;

/** A TCPv6 segment of the test flow: `n` payload bytes at `seq`. */
function seg(
  srcMac: string,
  dstMac: string,
  src: string,
  dst: string,
  seq: number,
  n: number,
  o: { flags?: number; hop?: number } = {},
): Uint8Array {
  return frame([
    { type: "ethernet", src: srcMac, dst: dstMac },
    { type: "ipv6", src, dst, hopLimit: o.hop ?? 64 },
    { type: "tcp", srcPort: 40000, dstPort: 5201, seq, ack: 7, flags: o.flags ?? ACK, window: 500 },
    { type: "payload", data: new Uint8Array(n).map((_, i) => ((seq + i) * 7) & 0xff) },
  ]);
}

/** Three segments of one train (1400, 1400, 600 bytes; PSH on the last). */
function train(srcMac: string, dstMac: string, src: string, dst: string, hop = 64) {
  return [
    seg(srcMac, dstMac, src, dst, 1000, 1400, { hop }),
    seg(srcMac, dstMac, src, dst, 2400, 1400, { hop }),
    seg(srcMac, dstMac, src, dst, 3800, 600, { hop, flags: PSH_ACK }),
  ];
}

/** A sled whose zones and uplink carry virtio-net headers (zone-b's only with `zbVnet`). */
function bed(zbVnet = true) {
  const [ulMine, rack] = memoryPair({ name: "ul0", mac: UL[0].mac, mtu: 9000 }, {
    name: "rack",
    mac: UL[0].rackMac,
    mtu: 9000,
  });
  const ul = new VnetLink(ulMine);
  const sw = new Switch({
    underlayPrefix: "fd00::/16",
    sledAddress: SLED,
    underlay: [{ link: ul, linkLocal: UL[0].ll }],
    vnet: true,
  });
  const far: Record<string, MemoryLink> = {}, links: Record<string, VnetLink> = {};
  for (const z of [ZA, ZB]) {
    // The wire carries super-frames (as a TAP does); the port's MTU stays 1500.
    const [mine, f] = memoryPair({ name: z.name, mtu: 65535 }, {
      name: `${z.name}-zone`,
      mac: z.mac,
      mtu: 65535,
    });
    const link = new VnetLink(mine);
    links[z.name] = link;
    const port = z === ZB && !zbVnet ? mine : link;
    sw.addPort({
      name: z.name,
      kind: "system",
      link: port,
      mac: z.mac,
      underlay: [z.ip],
      mtu: 1500,
    });
    far[z.name] = f;
  }
  sw.setRoute("fd00:2::/64", [{ link: "ul0", via: RACK_LL }]);
  sw.poll();
  if (rack.take().some((f) => f[54] === 135)) rack.inject(rackNa(0));
  sw.poll();
  rack.take();
  return { sw, far, links, rack, ul };
}

/** The single frame `got` as the receiving kernel sees it: the partial checksum completed. */
function completed(got: Uint8Array, h: Uint8Array): Uint8Array {
  const f = got.slice();
  if (h[0] & 1) completeChecksum(f, 0, f.length, h[6] | (h[7] << 8), h[8] | (h[9] << 8));
  return f;
}

/** Asserts one GSO TCPv6 frame of MSS 1400 equal to `whole` (once its checksum is completed). */
async function assertOneGsoFrame(got: Uint8Array[], hdrs: Uint8Array[], whole: Uint8Array) {
  assert.equal(got.length, 1, `one frame, got ${got.length}`);
  const h = hdrs.at(-1)!;
  // NEEDS_CSUM, TCPV6, header 74 bytes, gso_size 1400, checksum from 54 at +16.
  assert.deepEqual(Array.from(h), [1, 4, 74, 0, 1400 & 0xff, 1400 >> 8, 54, 0, 16, 0]);
  const f = completed(got[0], h);
  assert.ok(hex(f) === hex(whole), `merged frame differs from the whole stream built at once`);
  if (!haveTshark) return;
  const [row] = await tsharkFields([f], ["tcp.len", "tcp.checksum.status", "tcp.seq_raw"]);
  // tcp.checksum.status 1: good (tshark verifies it over the whole stream).
  assert.deepEqual(row, ["3400", "1", "1000"]);
}

Deno.test("gro: a zone's in-order TCP segments reach another zone as one GSO frame", async () => {
  const { sw, far, links } = bed();
  for (const f of train(ZA.mac, GW_MAC, ZA.ip, ZB.ip)) far[ZA.name].inject(f);
  sw.poll();
  const whole = seg(GW_MAC, ZB.mac, ZA.ip, ZB.ip, 1000, 3400, { hop: 63, flags: PSH_ACK });
  await assertOneGsoFrame(far[ZB.name].take(), links[ZB.name].sent, whole);
  const ev = sw.counters.toJSON().events;
  assert.equal(ev["gro-merged"], 2);
  assert.equal(ev["delivered-local"], 3);
});

/** A receive header with DATA_VALID: the kernel checked the segment's checksum. */
const DATA_VALID = Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0, 0, 0);

Deno.test("gro: checked segments from the underlay reach a zone as one GSO frame", async () => {
  const { sw, far, links, rack, ul } = bed();
  for (const f of train(UL[0].rackMac, UL[0].mac, REMOTE, ZA.ip)) {
    ul.inbound.push(DATA_VALID);
    rack.inject(f);
  }
  sw.poll();
  const whole = seg(GW_MAC, ZA.mac, REMOTE, ZA.ip, 1000, 3400, { hop: 63, flags: PSH_ACK });
  await assertOneGsoFrame(far[ZA.name].take(), links[ZA.name].sent, whole);
  assert.equal(sw.counters.toJSON().events["gro-merged"], 2);
});

Deno.test("gro: unchecked segments from the underlay stay apart (their checksums count)", () => {
  const { sw, far, links, rack } = bed();
  for (const f of train(UL[0].rackMac, UL[0].mac, REMOTE, ZA.ip)) rack.inject(f);
  sw.poll();
  const want = train(GW_MAC, ZA.mac, REMOTE, ZA.ip, 63);
  assert.deepEqual(far[ZA.name].take().map(hex), want.map(hex));
  assert.deepEqual(links[ZA.name].sent.map((h) => h[1]), [0, 0, 0], "no GSO header");
});

Deno.test("gro: a zone's segments leave on an offloading underlay link as one GSO frame", async () => {
  const { sw, far, rack, ul } = bed();
  for (const f of train(ZA.mac, GW_MAC, ZA.ip, REMOTE)) far[ZA.name].inject(f);
  sw.poll();
  const whole = seg(UL[0].mac, UL[0].rackMac, ZA.ip, REMOTE, 1000, 3400, {
    hop: 63,
    flags: PSH_ACK,
  });
  await assertOneGsoFrame(rack.take(), ul.sent, whole);
  assert.equal(sw.counters.toJSON().events["forwarded-underlay"], 3);
});

Deno.test("gro: towards a port without virtio-net headers the segments stay apart", () => {
  const { sw, far } = bed(false);
  const sent = train(ZA.mac, GW_MAC, ZA.ip, ZB.ip);
  for (const f of sent) far[ZA.name].inject(f);
  sw.poll();
  const want = train(GW_MAC, ZB.mac, ZA.ip, ZB.ip, 63);
  assert.deepEqual(far[ZB.name].take().map(hex), want.map(hex));
  assert.equal(sw.counters.toJSON().events["gro-merged"], undefined);
});

Deno.test("gro: a segment out of order starts a new frame", () => {
  const { sw, far, links } = bed();
  const [a, b, c] = train(ZA.mac, GW_MAC, ZA.ip, ZB.ip);
  for (const f of [a, c, b]) far[ZA.name].inject(f);
  sw.poll();
  const got = far[ZB.name].take();
  assert.equal(got.length, 3);
  assert.deepEqual(links[ZB.name].sent.map((h) => h[1]), [0, 0, 0], "no GSO header");
});
