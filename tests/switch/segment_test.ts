import assert from "node:assert/strict";
import * as fc from "fast-check";
import { VNET } from "../../ffi/layout.ts";
import { HEADROOM, VNET_HDR_LEN } from "../../lib/link/link.ts";
import { buildFrame, type LayerSpec } from "../../lib/packet/build.ts";
import { PacketMeta } from "../../lib/packet/meta.ts";
import { parseFrame } from "../../lib/packet/parse.ts";
import { Segmenter } from "../../lib/switch/segment.ts";

const ETH = { type: "ethernet", src: "a8:40:25:fa:00:0a", dst: "a8:40:25:ff:77:77" } as const;

/** IP layer of either family; `k` numbers the segment (IPv4 ids count up from 0x1234). */
function ip(v6: boolean, k: number): LayerSpec {
  return v6
    ? { type: "ipv6", src: "fd00:10::1", dst: "fd00:10::2", hopLimit: 64 }
    : { type: "ipv4", src: "172.30.0.10", dst: "172.30.0.11", id: 0x1234 + k, df: true };
}

/** A super-frame (or one expected segment) with `data` after a TCP header. */
function tcpFrame(v6: boolean, k: number, seq: number, flags: number, data: Uint8Array) {
  return buildFrame([
    ETH,
    ip(v6, k),
    { type: "tcp", srcPort: 40000, dstPort: 5201, seq, ack: 77, flags, window: 512 },
    { type: "payload", data },
  ]);
}

/** A virtio-net header asking for TSO with `mss`. */
function gsoHeader(v6: boolean, mss: number, ecn = false): Uint8Array {
  const h = new Uint8Array(VNET_HDR_LEN);
  h[1] = (v6 ? VNET.VIRTIO_NET_HDR_GSO_TCPV6 : VNET.VIRTIO_NET_HDR_GSO_TCPV4) |
    (ecn ? VNET.VIRTIO_NET_HDR_GSO_ECN : 0);
  h[4] = mss & 0xff;
  h[5] = mss >> 8;
  return h;
}

/** Splits `frame` (placed at HEADROOM) and returns copies of the segments. */
function split(seg: Segmenter, frame: Uint8Array, h: Uint8Array): Uint8Array[] | null {
  const buf = new Uint8Array(HEADROOM + frame.length);
  buf.set(frame, HEADROOM);
  const meta = new PacketMeta();
  assert.equal(parseFrame(buf, HEADROOM, frame.length, meta, false), null);
  const n = seg.split(h, 0, buf, HEADROOM, meta.outer);
  if (n < 0) return null;
  const b = seg.batch;
  return Array.from({ length: n }, (_, k) => b.bufs[k].slice(b.offs[k], b.offs[k] + b.lens[k]));
}

/** The segments a correct TSO produces: seq advances, FIN/PSH last only, CWR first only. */
function expected(v6: boolean, seq: number, flags: number, data: Uint8Array, mss: number) {
  const out: Uint8Array[] = [];
  const n = Math.ceil(data.length / mss);
  for (let k = 0; k < n; k++) {
    let f = flags;
    if (k !== n - 1) f &= ~0x09;
    if (k !== 0) f &= ~0x80;
    const part = data.subarray(k * mss, Math.min(data.length, (k + 1) * mss));
    out.push(tcpFrame(v6, k, (seq + k * mss) >>> 0, f, part));
  }
  return out;
}

const payload = (n: number, salt: number) =>
  new Uint8Array(n).map((_, i) => (i * 31 + salt + (i >> 8)) & 0xff);

for (const v6 of [false, true]) {
  const fam = v6 ? "IPv6" : "IPv4";
  Deno.test(`segment: a ${fam} TSO super-frame becomes exact MSS segments`, () => {
    const seg = new Segmenter(64, 65536 + HEADROOM);
    const data = payload(10 * 1448 + 333, 5);
    const flags = 0x80 | 0x10 | 0x08 | 0x01; // CWR ACK PSH FIN
    const got = split(seg, tcpFrame(v6, 0, 0xfffff000, flags, data), gsoHeader(v6, 1448, true));
    const want = expected(v6, 0xfffff000, flags, data, 1448);
    assert.equal(got?.length, 11);
    // Sequence numbers wrap past 2^32 within this frame.
    got!.forEach((g, k) => assert.deepEqual(g, want[k], `segment ${k}`));
  });

  Deno.test(`segment: ${fam} property: any payload and MSS split into exact segments`, () => {
    const seg = new Segmenter(64, 65536 + HEADROOM);
    fc.assert(
      fc.property(
        fc.integer({ min: 536, max: 9000 }),
        fc.integer({ min: 1, max: 60000 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 0, max: 255 }),
        (mss, len, seq, salt) => {
          fc.pre(Math.ceil(len / mss) <= 64);
          const data = payload(len, salt);
          const got = split(seg, tcpFrame(v6, 0, seq, 0x18, data), gsoHeader(v6, mss));
          const want = expected(v6, seq, 0x18, data, mss);
          assert.equal(got?.length, want.length);
          got!.forEach((g, k) => assert.deepEqual(g, want[k]));
        },
      ),
      { numRuns: 60 },
    );
  });
}

Deno.test("segment: refuses what it cannot split (wrong GSO type, UDP, too many segments)", () => {
  const seg = new Segmenter(8, 65536 + HEADROOM);
  const data = payload(4000, 1);
  const v4 = tcpFrame(false, 0, 1, 0x10, data);
  assert.equal(split(seg, v4, gsoHeader(true, 1000)), null, "TCPV6 header on IPv4");
  assert.equal(split(seg, v4, gsoHeader(false, 0)), null, "gso_size 0");
  assert.equal(split(seg, v4, gsoHeader(false, 400)), null, "10 segments > capacity 8");
  assert.equal(split(seg, v4, gsoHeader(false, 500))?.length, 8, "exactly capacity");
  const udp = buildFrame([
    ETH,
    ip(false, 0),
    { type: "udp", srcPort: 1, dstPort: 2 },
    { type: "payload", data },
  ]);
  assert.equal(split(seg, udp, gsoHeader(false, 1000)), null, "UDP is no TCP");
});
