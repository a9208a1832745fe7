import assert from "node:assert/strict";
import { EthernetView } from "../../lib/packet/ethernet.ts";
import { Ipv4View } from "../../lib/packet/ipv4.ts";
import { Ipv6View } from "../../lib/packet/ipv6.ts";
import { ArpView } from "../../lib/packet/arp.ts";
import { NdpView } from "../../lib/packet/ndp.ts";

// A hand-written Ethernet + IPv4 header (RFC 791 layout): dst, src, type, then 10.0.0.1 → 10.0.0.2.
const FRAME = Uint8Array.from([
  ...[0x02, 0, 0, 0, 0, 0x0b], // dst
  ...[0x02, 0, 0, 0, 0, 0x0a], // src
  0x08,
  0x00,
  0x45,
  0,
  0,
  20,
  0,
  0,
  0,
  0,
  64,
  17,
  0,
  0,
  ...[10, 0, 0, 1], // src
  ...[10, 0, 0, 2], // dst
]);

Deno.test("views re-point to another buffer and offset without new objects", () => {
  const v = new Ipv4View(new Uint8Array(20), 0);
  const same = v.reset(FRAME, 14);
  assert.equal(same, v);
  assert.equal(v.ttl, 64);
  assert.equal(v.srcWord, 0x0a000001);
  assert.equal(v.dstWord, 0x0a000002);
});

Deno.test("Ethernet compare-at / copy-into / set-from work at an offset", () => {
  const buf = new Uint8Array(4 + FRAME.length);
  buf.set(FRAME, 4);
  const e = new EthernetView(buf, 4);
  const pad = Uint8Array.from([9, 9, 0x02, 0, 0, 0, 0, 0x0b]);
  assert.ok(e.dstEquals(pad, 2));
  assert.ok(!e.srcEquals(pad, 2));
  const out = new Uint8Array(8);
  e.copySrcInto(out, 1);
  assert.deepEqual([...out], [0, 0x02, 0, 0, 0, 0, 0x0a, 0]);
  e.setDstFrom(Uint8Array.of(0x33, 0x33, 0, 0, 0, 1));
  assert.deepEqual([...buf.subarray(4, 10)], [0x33, 0x33, 0, 0, 0, 1]);
  assert.ok(e.dstIsGroup);
  assert.equal(e.etherType, 0x0800);
});

Deno.test("IPv4 and IPv6 address accessors", () => {
  const v4 = new Ipv4View(FRAME, 14);
  assert.ok(v4.srcEquals(Uint8Array.of(10, 0, 0, 1)));
  assert.ok(!v4.dstEquals(Uint8Array.of(10, 0, 0, 1)));
  const ip = new Uint8Array(4);
  v4.copyDstInto(ip);
  assert.deepEqual([...ip], [10, 0, 0, 2]);

  const h = new Uint8Array(40);
  h[0] = 0x60;
  h[23] = 1; // src ::1
  h[24] = 0xff; // dst ff02::1
  h[25] = 0x02;
  h[39] = 1;
  const v6 = new Ipv6View(h, 0);
  const lo = new Uint8Array(16);
  lo[15] = 1;
  assert.ok(v6.srcEquals(lo));
  const d = new Uint8Array(16);
  v6.copyDstInto(d);
  assert.deepEqual([...d], [0xff, 2, ...new Array(13).fill(0), 1]);
  v6.setSrcFrom(d);
  assert.deepEqual([...h.subarray(8, 24)], [0xff, 2, ...new Array(13).fill(0), 1]);
});

Deno.test("ARP and NDP address accessors", () => {
  const arp = new Uint8Array(28);
  arp.set([
    0,
    1,
    8,
    0,
    6,
    4,
    0,
    1,
    2,
    0,
    0,
    0,
    0,
    0x0a,
    10,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    10,
    0,
    0,
    9,
  ]);
  const a = new ArpView(arp, 0);
  assert.ok(a.senderMacEquals(Uint8Array.of(2, 0, 0, 0, 0, 0x0a)));
  assert.ok(a.targetIpEquals(Uint8Array.of(10, 0, 0, 9)));
  const sip = new Uint8Array(4);
  a.copySenderIpInto(sip);
  assert.deepEqual([...sip], [10, 0, 0, 1]);

  // A neighbor solicitation for fe80::1 with a source link-layer option 02:00:00:00:00:0a.
  const ns = new Uint8Array(32);
  ns[0] = 135;
  ns.set([0xfe, 0x80], 8);
  ns[23] = 1;
  ns.set([1, 1, 2, 0, 0, 0, 0, 0x0a], 24);
  const n = new NdpView(ns, 0, 32);
  const t = new Uint8Array(16);
  n.copyTargetInto(t);
  assert.deepEqual([...t], [0xfe, 0x80, ...new Array(13).fill(0), 1]);
  assert.ok(n.targetEquals(t));
  assert.equal(n.linkAddrOff(), 26);
  assert.equal(n.linkAddrOff(2), -1);
});
