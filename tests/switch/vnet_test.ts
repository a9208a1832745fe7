// Offload through the switch (SwitchConfig.vnet): virtio-net headers travel with forwarded
// frames, GSO super-frames skip the MTU check on pass-through paths, paths that cannot carry
// them drop and count them, and frames from links without headers go out with a zero header.

import assert from "node:assert/strict";
import { VNET_HDR_LEN } from "../../lib/link/link.ts";
import { type MemoryLink, memoryPair } from "../../lib/link/memory.ts";
import { VnetLink } from "./vnet_link.ts";
import { Switch } from "../../lib/switch/switch.ts";
import { fold, pseudoSumV4, pseudoSumV6 } from "../../lib/packet/checksum.ts";
import { completeChecksum } from "../../lib/packet/virtio_net.ts";
import { frame, GW_LL, GW_MAC, hex, routedSled, SLED, udp6, UL, ZA, ZB } from "./harness.ts";
import { Mappings } from "../../lib/vpc/mappings.ts";
import { vpcPort } from "../../lib/vpc/vpc_port.ts";

const VA = { name: "vm-a", mac: "a8:40:25:fa:00:0a", ip: "172.30.0.10" };
const VB = { name: "vm-b", mac: "a8:40:25:fa:00:0b", ip: "172.30.0.11" };

/** A TCPv6 GSO header: needs checksum at 54+16, segments of 1440 bytes. */
const GSO = Uint8Array.of(1, 4, 74, 0, 0xa0, 0x05, 54, 0, 16, 0);

function bed() {
  const zones: Record<string, { far: MemoryLink; link: VnetLink }> = {};
  const [ul, rack] = memoryPair({ name: "ul0", mac: UL[0].mac, mtu: 1500 }, {
    name: "rack",
    mac: UL[0].rackMac,
  });
  const sw = new Switch({
    underlayPrefix: "fd00::/16",
    sledAddress: SLED,
    underlay: [{ link: ul, linkLocal: UL[0].ll }],
    vnet: true,
  });
  for (const z of [ZA, ZB]) {
    // The wire carries super-frames (as a TAP does); the port's MTU stays 1500.
    const [mine, far] = memoryPair({ name: z.name, mtu: 65535 }, {
      name: `${z.name}-zone`,
      mac: z.mac,
      mtu: 65535,
    });
    const link = new VnetLink(mine);
    sw.addPort({ name: z.name, kind: "system", link, mac: z.mac, underlay: [z.ip], mtu: 1500 });
    zones[z.name] = { far, link };
  }
  return { sw, zones, rack };
}

Deno.test("vnet: a GSO super-frame crosses zone→zone whole, header and all, no PTB", () => {
  const { sw, zones } = bed();
  const big = udp6(ZA.mac, GW_MAC, ZA.ip, ZB.ip, { size: 8000 });
  zones[ZA.name].link.inbound.push(GSO);
  zones[ZA.name].far.inject(big);
  sw.poll();
  assert.deepEqual(zones[ZB.name].far.take().map(hex), [
    hex(udp6(GW_MAC, ZB.mac, ZA.ip, ZB.ip, { size: 8000, hop: 63 })),
  ]);
  assert.deepEqual(zones[ZB.name].link.sent.map(hex), [hex(GSO)]);
  assert.deepEqual(zones[ZA.name].far.take(), [], "no packet-too-big");
  assert.deepEqual(sw.counters.toJSON().drops, {});
});

Deno.test("vnet: the same frame without GSO is too big for the port (control)", () => {
  const { sw, zones } = bed();
  zones[ZA.name].far.inject(udp6(ZA.mac, GW_MAC, ZA.ip, ZB.ip, { size: 8000 }));
  sw.poll();
  assert.deepEqual(zones[ZB.name].far.take(), []);
  assert.equal(sw.counters.toJSON().drops["too-big"], 1);
});

function echoToGateway(): Uint8Array {
  return frame([
    { type: "ethernet", src: ZA.mac, dst: GW_MAC },
    { type: "ipv6", src: ZA.ip, dst: GW_LL, hopLimit: 64 },
    { type: "icmpv6", kind: "echoRequest", id: 7, seq: 1 },
    { type: "payload", data: new Uint8Array(3000) },
  ]);
}

Deno.test("vnet: a GSO frame to the gateway (answered path) is dropped as gso", () => {
  const { sw, zones } = bed();
  zones[ZA.name].link.inbound.push(GSO);
  zones[ZA.name].far.inject(echoToGateway());
  sw.poll();
  assert.equal(sw.counters.toJSON().drops["gso"], 1);
  assert.deepEqual(zones[ZA.name].far.take(), []);
});

Deno.test("vnet: a partial checksum is completed before NDP checks it", () => {
  const { sw, zones } = bed();
  const rs = frame([
    { type: "ethernet", src: ZA.mac, dst: "33:33:00:00:00:02" },
    { type: "ipv6", src: "fe80::aa40:25ff:fe00:10a", dst: "ff02::2", hopLimit: 255 },
    { type: "ndp", kind: "rs", options: [{ type: "sourceLinkAddr", mac: ZA.mac }] },
  ]);
  const l4len = rs.length - 54;
  // What a kernel hands over with CHECKSUM_PARTIAL: the field holds the pseudo-header sum.
  const pseudo = fold(pseudoSumV6(rs, 14, 58, l4len));
  rs[56] = pseudo >> 8;
  rs[57] = pseudo & 0xff;
  zones[ZA.name].link.inbound.push(Uint8Array.of(1, 0, 0, 0, 0, 0, 54, 0, 2, 0));
  zones[ZA.name].far.inject(rs);
  sw.poll();
  const got = zones[ZA.name].far.take();
  assert.equal(got.length, 1, JSON.stringify(sw.counters.toJSON()));
  assert.equal(got[0][54], 134, "a router advertisement");
});

Deno.test("vnet: a frame from a link without headers leaves with a zero header", () => {
  const { sw, zones, rack } = bed();
  // First a GSO frame through slot 0, so a stale header would be visible.
  zones[ZA.name].link.inbound.push(GSO);
  zones[ZA.name].far.inject(udp6(ZA.mac, GW_MAC, ZA.ip, ZB.ip, { size: 8000 }));
  sw.poll();
  rack.inject(udp6(UL[0].rackMac, UL[0].mac, "fd00:2::10", ZB.ip, { size: 100 }));
  sw.poll();
  const sent = zones[ZB.name].link.sent;
  assert.equal(sent.length, 2);
  assert.equal(hex(sent[1]), hex(new Uint8Array(VNET_HDR_LEN)));
  assert.equal(zones[ZB.name].far.take().length, 2);
});

/** An instance's TCP frame (IPv4, VNI 10) carrying `data` at `seq`. */
function vmTcp(
  srcMac: string,
  dstMac: string,
  seq: number,
  flags: number,
  data: Uint8Array,
  id = 0x100,
) {
  return frame([
    { type: "ethernet", src: srcMac, dst: dstMac },
    { type: "ipv4", src: VA.ip, dst: VB.ip, ttl: 64, id, df: true },
    { type: "tcp", srcPort: 40000, dstPort: 5201, seq, ack: 9, flags, window: 512 },
    { type: "payload", data },
  ]);
}

/**
 * Two instances on one sled; vm-b's link carries virtio-net headers only with `gro`. `ulMtu`
 * 1600 leaves no room for large segments (each MSS segment crosses Geneve alone).
 */
function vmPair(gro: boolean, ulMtu = 9000) {
  const s = routedSled({ cfg: { vnet: true }, ulMtu });
  const maps = new Mappings();
  maps.v2p.set(10, VA.ip, VA.mac, SLED);
  maps.v2p.set(10, VB.ip, VB.mac, SLED);
  const guests = [VA, VB].map((g) => {
    const [mine, far] = memoryPair({ name: g.name, mtu: 65535 }, {
      name: `${g.name}-guest`,
      mac: g.mac,
      mtu: 65535,
    });
    const link = new VnetLink(mine);
    const pipeline = vpcPort({
      name: g.name,
      vni: 10,
      guestMac: g.mac,
      underlay: SLED,
      v4: { privateIp: g.ip, subnet: "172.30.0.0/22" },
      mappings: maps,
      clock: () => s.clock.t,
    });
    const l = g === VB && !gro ? mine : link;
    // The wire carries super-frames (as a TAP does); the guest's MTU is 1500.
    s.sw.addPort({
      name: g.name,
      kind: "instance",
      link: l,
      mac: g.mac,
      vni: 10,
      pipeline,
      mtu: 1500,
    });
    return { far, link };
  });
  // The handshake opens the flow in both stateful pipelines.
  guests[0].far.inject(vmTcp(VA.mac, GW_MAC, 99, 0x02, new Uint8Array(0)));
  s.step();
  assert.equal(guests[1].far.take().length, 1, JSON.stringify(s.sw.counters.toJSON()));
  guests[1].link.sent.length = 0;
  return { s, guests };
}

const TSO_DATA = new Uint8Array(3 * 1448 + 100).map((_, i) => (i * 13 + 1) & 0xff);
const TSO_HDR = Uint8Array.of(0, 1, 54, 0, 1448 & 0xff, 1448 >> 8, 0, 0, 0, 0);

for (const ulMtu of [1600, 9000]) {
  Deno.test(`vnet: an instance's TSO super-frame reaches a guest without offload as MSS segments (underlay MTU ${ulMtu})`, () => {
    const { s, guests } = vmPair(false, ulMtu);
    const data = TSO_DATA;
    guests[0].link.inbound.push(TSO_HDR);
    guests[0].far.inject(vmTcp(VA.mac, GW_MAC, 100, 0x18, data));
    s.step();
    const got = guests[1].far.take();
    const want = [0, 1, 2, 3].map((k) =>
      vmTcp(
        GW_MAC,
        VB.mac,
        100 + k * 1448,
        k === 3 ? 0x18 : 0x10,
        data.subarray(k * 1448, Math.min(data.length, (k + 1) * 1448)),
        0x100 + k, // IPv4 ids count up per segment, as a kernel's TSO does
      )
    );
    assert.deepEqual(got.map(hex), want.map(hex));
    const j = s.sw.counters.toJSON();
    assert.equal(j.events["gso-segmented"], 1);
    if (ulMtu === 1600) {
      assert.equal(j.events["overlay-loopback"], 5, "SYN + 4 segments crossed Geneve");
      assert.equal(j.events["large-segment-split"], undefined);
    } else {
      assert.equal(j.events["overlay-loopback"], 2, "SYN + one large segment crossed Geneve");
      assert.equal(j.events["large-segment-split"], 1, "cut for the guest without offload");
    }
    assert.equal(j.events["gro-merged"], undefined, "no headers towards vm-b: no coalescing");
    assert.deepEqual(j.drops, {});
  });
}

for (const ulMtu of [1600, 9000]) {
  Deno.test(`vnet: an offloading instance gets one GSO frame (underlay MTU ${ulMtu})`, () => {
    const { s, guests } = vmPair(true, ulMtu);
    guests[0].link.inbound.push(TSO_HDR);
    guests[0].far.inject(vmTcp(VA.mac, GW_MAC, 100, 0x18, TSO_DATA));
    s.step();
    const got = guests[1].far.take();
    const want = vmTcp(GW_MAC, VB.mac, 100, 0x18, TSO_DATA, 0x100);
    // Checksum left partial: the field holds the pseudo-header sum, the header says where.
    const ps = fold(pseudoSumV4(want, 14, 6, want.length - 34));
    want[50] = ps >> 8;
    want[51] = ps & 0xff;
    assert.deepEqual(got.map(hex), [hex(want)]);
    assert.deepEqual(guests[1].link.sent.map(hex), [
      hex(Uint8Array.of(1, 1, 54, 0, 1448 & 0xff, 1448 >> 8, 34, 0, 16, 0)),
    ]);
    const j = s.sw.counters.toJSON();
    // Small underlay: four MSS segments merged again; large: one large segment delivered whole.
    assert.equal(j.events["gro-merged"], ulMtu === 1600 ? 3 : undefined);
    assert.equal(j.events["gso-delivered"], ulMtu === 1600 ? undefined : 1);
    assert.deepEqual(j.drops, {});
    // The merged frame's partial checksum completes to the one the whole segment would carry.
    const full = vmTcp(GW_MAC, VB.mac, 100, 0x18, TSO_DATA, 0x100);
    assert.ok(completeChecksum(got[0], 0, got[0].length, 34, 16));
    assert.equal(hex(got[0]), hex(full));
  });
}
