// Geneve between xdeno sleds as UDP_L4 GSO frames: the large segments of one TSO frame leave as
// one frame (virtio-net GSO_UDP_L4, gso_size = one Geneve packet) whose UDP payload, cut every
// gso_size bytes as the kernel's UDP segmentation does, is a row of complete Geneve packets;
// the receiving sled cuts such a frame back and handles each packet as if it came alone.
// The test cuts with its own code and checks the datagrams with tshark; the real kernel's
// segmentation is checked by tests/e2e/uso_test.ts.

import assert from "node:assert/strict";
import { miniGuest } from "./vpcsled.ts";
import { MSS, SLED2, tcp, TSO, tsoSend, VA, VB, vpcSled } from "./tso_fixture.ts";
import { frame, GW_MAC, hex, routedSled, SLED, type Sled, UL } from "./harness.ts";
import { haveTshark, tsharkFields, tsharkProblems } from "../vpc/tshark.ts";
import type { GatherVnetLink } from "./vnet_link.ts";

/** 40 MSS units and a tail: seven large segments of 6, 6, 6, 6, 6, 6 and 4 units + 100 bytes. */
const DATA = new Uint8Array(40 * MSS + 100).map((_, i) => (i * 13 + (i >> 8)) & 0xff);
/** One Geneve packet of a full large segment: Geneve + MSS option, Ethernet, IPv4, TCP, 6 MSS. */
const PIECE = 16 + 14 + 20 + 20 + 6 * MSS;
const INNER_L4 = 62 + 16 + 14 + 20;
/** Underlay links that gather, as the runtime's packet socket does. */
const G = { ulVnet: "gather" as const };

/** Geneve frames sled `s` sent (trains whole), with their virtio-net headers and links. */
function sent(s: Sled) {
  s.rack.forEach((r) => r.take());
  return s.ulVnet.flatMap((l, link) =>
    (l as GatherVnetLink).frames.splice(0).map(({ f, h }) => ({ f, h, link }))
  ).filter(({ f }) => f[20] === 17 && f[56] === 0x17);
}

/** RFC 1071 sum over `b[from, to)`, written out here so the checks do not trust lib's. */
function onesSum(b: Uint8Array, from: number, to: number, acc = 0): number {
  for (let i = from; i < to; i += 2) acc += b[i] * 256 + (i + 1 < to ? b[i + 1] : 0);
  while (acc > 0xffff) acc = (acc % 0x10000) + Math.floor(acc / 0x10000);
  return acc;
}

const u16 = (b: Uint8Array, o: number) => b[o] * 256 + b[o + 1];
const put16 = (b: Uint8Array, o: number, v: number) => (b[o] = v >> 8, b[o + 1] = v & 0xff);

/** The outer IPv6 pseudo-header sum for a UDP length `len` (what a partial UDP field holds). */
function udpPseudo(f: Uint8Array, len: number): number {
  return onesSum(f, 22, 54, 17 + len);
}

/**
 * Cuts a UDP_L4 frame as the kernel's __udp_gso_segment does: the UDP payload every `gso`
 * bytes, each piece behind a copy of the headers with its own lengths, and the device (or
 * skb_checksum_help) completing each datagram's UDP checksum.
 */
function kernelCut(f: Uint8Array, gso: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 62; at < f.length; at += gso) {
    const piece = f.subarray(at, Math.min(f.length, at + gso));
    const d = new Uint8Array(62 + piece.length);
    d.set(f.subarray(0, 62));
    d.set(piece, 62);
    put16(d, 18, 8 + piece.length);
    put16(d, 58, 8 + piece.length);
    put16(d, 60, 0);
    put16(d, 60, 0xffff - onesSum(d, 54, d.length, udpPseudo(d, 8 + piece.length)) || 0xffff);
    out.push(d);
  }
  return out;
}

/**
 * The inner TCP checksum completed from the bytes (the field held the pseudo-header sum), then
 * the datagram's UDP checksum again: what the receiving sled's completion amounts to.
 */
function completeInner(d: Uint8Array): Uint8Array {
  const g = d.slice();
  put16(g, INNER_L4 + 16, 0xffff - onesSum(g, INNER_L4, g.length));
  put16(g, 60, 0);
  put16(g, 60, 0xffff - onesSum(g, 54, g.length, udpPseudo(g, g.length - 54)) || 0xffff);
  return g;
}

/** Hands sled `to` the frames with their headers, as its underlay packet socket would. */
function deliver(to: Sled, frames: { f: Uint8Array; h: Uint8Array; link: number }[]) {
  for (const { f, h, link } of frames) {
    const g = f.slice();
    g.set(f.subarray(6, 12), 0);
    g.set(f.subarray(0, 6), 6);
    to.ulVnet[link].inbound.push(h);
    to.rack[link].inject(g);
  }
  to.step();
}

Deno.test("uso: a TSO frame's large segments leave as one UDP_L4 frame whose datagrams are whole Geneve packets", async (t) => {
  const a = vpcSled(SLED, VA, G);
  const { syn, got } = tsoSend(a, DATA, sent);
  assert.equal(syn.length, 1, "the SYN alone");
  assert.equal(got.length, 1, JSON.stringify(a.s.sw.counters.toJSON()));
  const { f, h } = got[0];
  const body = 6 * PIECE + (PIECE - 2 * MSS + 100);
  assert.equal(f.length, 62 + body);
  // NEEDS_CSUM, UDP_L4, 62 header bytes, gso_size one Geneve packet, checksum at UDP + 6.
  assert.equal(hex(h), hex(Uint8Array.of(1, 5, 62, 0, PIECE & 0xff, PIECE >> 8, 54, 0, 6, 0)));
  assert.equal(u16(f, 18), 8 + body, "IPv6 payload length of the whole frame");
  assert.equal(u16(f, 58), 8 + body, "UDP length of the whole frame");
  assert.equal(u16(f, 60), udpPseudo(f, 8 + body), "UDP field: the pseudo-header sum");
  const ev = a.s.sw.counters.toJSON().events;
  assert.equal(ev["uso-out"], 1);
  assert.equal(ev["uso-pieces"], 6);
  assert.equal(ev["large-segment-out"], 7);
  const cut = kernelCut(f, PIECE);
  assert.equal(cut.length, 7);
  const done = cut.map((d, k) => {
    assert.ok(d.length - 14 <= 9000, `datagram ${k} fits the underlay MTU`);
    assert.equal(hex(d.subarray(70, 78)), "0129020100000" + MSS.toString(16), `MSS option ${k}`);
    // The inner TCP checksum was left partial: the pseudo-header sum of the inner packet.
    const tcpLen = u16(d, 94) - 20;
    assert.equal(u16(d, INNER_L4 + 16), onesSum(d, 104, 112, 6 + tcpLen), `partial field ${k}`);
    const g = completeInner(d);
    const from = k * 6 * MSS, to = Math.min(DATA.length, from + 6 * MSS);
    const want = frame(
      tcp(
        VA.mac,
        VB.mac,
        100 + from,
        k === 6 ? 0x18 : 0x10,
        DATA.subarray(from, to),
        0x100 + k * 6,
      ),
    );
    assert.equal(hex(g.subarray(92)), hex(want.subarray(14)), `large segment ${k}`);
    return g;
  });
  await t.step({
    name: "tshark: every datagram is a valid Geneve packet with the MSS option",
    ignore: !haveTshark && !Deno.env.get("CI"),
    async fn() {
      assert.deepEqual(await tsharkProblems(done), []);
      const rows = await tsharkFields(done, [
        "udp.checksum.status",
        "geneve.option.class",
        "tcp.len",
        "tcp.checksum.status",
      ]);
      assert.deepEqual(rows.map((r) => r[0]), Array(7).fill("1"), "UDP checksums good");
      assert.deepEqual(rows.map((r) => r[1]), Array(7).fill("0x0129"));
      assert.deepEqual(rows.map((r) => r[2]), [...Array(6).fill("8688"), "5892"]);
      assert.deepEqual(rows.map((r) => r[3]), Array(7).fill("1"));
    },
  });
});

Deno.test("uso: the far sled cuts a UDP_L4 frame into its Geneve packets: one GSO frame for an offloading guest, complete segments for one without", () => {
  for (const offload of [true, false]) {
    const a = vpcSled(SLED, VA, G);
    // The receiving end's links take the whole frame, as the packet socket does.
    const b = vpcSled(SLED2, VB, { ...G, offload, ulMtu: 65535 });
    const { syn, got } = tsoSend(a, DATA, sent);
    deliver(b.s, syn);
    assert.equal(b.far.take().length, 1, "SYN delivered");
    b.link.sent.length = 0;
    deliver(b.s, got);
    const out = b.far.take(), ev = b.s.sw.counters.toJSON();
    assert.deepEqual(ev.drops, {});
    assert.equal(ev.events["uso-in"], 1);
    assert.equal(ev.events["overlay-in"], 1 + 7, "the SYN and seven Geneve packets");
    const want = frame(tcp(GW_MAC, VB.mac, 100, 0x18, DATA, 0x100));
    if (offload) {
      assert.equal(out.length, 1, JSON.stringify(ev));
      assert.deepEqual(b.link.sent.map(hex), [
        hex(Uint8Array.of(1, 1, 54, 0, MSS & 0xff, MSS >> 8, 34, 0, 16, 0)),
      ]);
      const g = out[0].slice();
      put16(g, 50, 0xffff - onesSum(g, 34, g.length));
      assert.equal(hex(g), hex(want));
    } else {
      assert.equal(out.length, 41, JSON.stringify(ev));
      out.forEach((f, k) => {
        const end = 14 + u16(f, 16);
        assert.equal(onesSum(f, 34, end, onesSum(f, 26, 34, 6 + end - 34)), 0xffff, `csum ${k}`);
        assert.equal(hex(f.subarray(54)), hex(DATA.subarray(k * MSS, (k + 1) * MSS)), `data ${k}`);
      });
    }
  }
});

/** Sled b (guest without offload) after the handshake, and the UDP_L4 frame sled a sent. */
function pairWithFrame() {
  const a = vpcSled(SLED, VA, G);
  const b = vpcSled(SLED2, VB, { ...G, offload: false });
  const { syn, got } = tsoSend(a, DATA, sent);
  deliver(b.s, syn);
  b.far.take();
  return { b, got: got[0] };
}

/** Asserts the guest got the MSS segments `ks` of DATA, each checksum complete and right. */
function assertSegments(out: Uint8Array[], ks: number[]) {
  assert.equal(out.length, ks.length);
  out.forEach((f, n) => {
    const end = 14 + u16(f, 16), k = ks[n];
    assert.equal(onesSum(f, 34, end, onesSum(f, 26, 34, 6 + end - 34)), 0xffff, `csum ${k}`);
    assert.equal(hex(f.subarray(54)), hex(DATA.subarray(k * MSS, (k + 1) * MSS)), `data ${k}`);
  });
}

Deno.test("uso: datagrams the kernel cut on the way (NEEDS_CSUM at the outer UDP) reach a guest without offload with right checksums", () => {
  const { b, got } = pairWithFrame();
  const pieces = kernelCut(got.f, PIECE).map((f) => {
    put16(f, 60, udpPseudo(f, u16(f, 58))); // still partial: as the packet socket reports it
    return { f, h: Uint8Array.of(1, 0, 0, 0, 0, 0, 54, 0, 6, 0), link: got.link };
  });
  deliver(b.s, pieces);
  assert.deepEqual(b.s.sw.counters.toJSON().drops, {});
  assertSegments(b.far.take(), [...Array(41).keys()]);
});

Deno.test("uso: datagrams that crossed a wire (outer UDP checksum complete, inner partial) are checked by the outer checksum", () => {
  const { b, got } = pairWithFrame();
  const pieces = kernelCut(got.f, PIECE).map((f) => ({ f, h: new Uint8Array(10), link: got.link }));
  pieces[2].f[2000] ^= 0x40; // damage on the wire, in the third packet's payload
  deliver(b.s, pieces);
  assert.deepEqual(b.s.sw.counters.toJSON().drops, { "bad-checksum": 1 });
  assertSegments(b.far.take(), [...Array(41).keys()].filter((k) => k < 12 || k >= 18));
});

Deno.test("uso: malformed UDP_L4 frames are counted and dropped", () => {
  const a = vpcSled(SLED, VA, G);
  const b = vpcSled(SLED2, VB, { ...G, ulMtu: 65535 });
  const { syn, got } = tsoSend(a, DATA, sent);
  deliver(b.s, syn);
  b.far.take();
  const { f, h, link } = got[0];
  const bad = [
    { f, h: Uint8Array.of(1, 5, 62, 0, 0, 0, 54, 0, 6, 0) }, // gso_size 0
    { f, h: Uint8Array.of(1, 5, 62, 0, 100, 0, 54, 0, 6, 0) }, // > 64 pieces
    { f: f.slice(0, f.length - 10), h }, // lengths disagree with the frame
    { f, h: Uint8Array.of(1, 5, 62, 0, 0x10, 0x20, 54, 0, 6, 0) }, // pieces do not parse
  ];
  deliver(b.s, bad.map((x) => ({ ...x, link })));
  const ev = b.s.sw.counters.toJSON();
  assert.equal(b.far.take().length, 0);
  assert.ok(ev.drops["uso-malformed"] >= 4, JSON.stringify(ev));
  assert.equal(ev.drops.internal, undefined);
});

Deno.test("uso: towards a peer without the MSS option frames stay MTU-sized and plain", () => {
  const s = routedSled({ cfg: { vnet: true }, ulVnet: "gather" });
  const { link, far } = miniGuest(s);
  link.inbound.push(TSO);
  far.inject(frame(tcp(VA.mac, GW_MAC, 100, 0x18, DATA, 0x100)));
  s.step();
  const got = sent(s);
  assert.equal(got.length, 41);
  for (const { f, h } of got) {
    assert.equal(hex(h), "00000000000000000000");
    assert.ok(f.length <= 14 + 1500 + 78);
  }
  assert.equal(s.sw.counters.toJSON().events["uso-out"], undefined);
  assert.equal(UL.length, 2);
});
