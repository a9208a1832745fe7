// Offload through the switch (SwitchConfig.vnet): virtio-net headers travel with forwarded
// frames, GSO super-frames skip the MTU check on pass-through paths, paths that cannot carry
// them drop and count them, and frames from links without headers go out with a zero header.

import assert from "node:assert/strict";
import { type FrameBatch, type Link, VNET_HDR_LEN } from "../../lib/link/link.ts";
import { type MemoryLink, memoryPair } from "../../lib/link/memory.ts";
import { Switch } from "../../lib/switch/switch.ts";
import { fold, pseudoSumV6 } from "../../lib/packet/checksum.ts";
import { frame, GW_LL, GW_MAC, hex, SLED, udp6, UL, ZA, ZB } from "./harness.ts";

/** A memory link that exchanges virtio-net headers like an offloading TAP would. */
class VnetLink implements Link {
  readonly vnet = true;
  readonly kind = "vnet-memory";
  readonly fd = -1;
  /** Headers of frames the far end injects, in order. */
  readonly inbound: Uint8Array[] = [];
  /** Headers the switch sent with each frame. */
  readonly sent: Uint8Array[] = [];
  constructor(readonly inner: MemoryLink) {}
  get name() {
    return this.inner.name;
  }
  get mac() {
    return this.inner.mac;
  }
  get mtu() {
    return this.inner.mtu;
  }
  get stats() {
    return this.inner.stats;
  }
  recv(batch: FrameBatch): number {
    const n = this.inner.recv(batch);
    for (let i = 0; i < n; i++) {
      batch.vnet!.set(this.inbound.shift() ?? new Uint8Array(VNET_HDR_LEN), i * VNET_HDR_LEN);
    }
    return n;
  }
  send(batch: FrameBatch, count: number): number {
    for (let i = 0; i < count; i++) {
      this.sent.push(batch.vnet!.slice(i * VNET_HDR_LEN, (i + 1) * VNET_HDR_LEN));
    }
    return this.inner.send(batch, count);
  }
  sendFrame(buf: Uint8Array, off: number, len: number): boolean {
    this.sent.push(new Uint8Array(VNET_HDR_LEN));
    return this.inner.sendFrame(buf, off, len);
  }
  isUp() {
    return this.inner.isUp();
  }
  close() {
    this.inner.close();
  }
}

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
