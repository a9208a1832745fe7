import assert from "node:assert/strict";
import * as fc from "fast-check";
import { fromHex } from "../../lib/packet/bytes.ts";
import { buildFrame } from "../../lib/packet/build.ts";
import {
  csumAdjust16,
  csumAdjust32,
  fillL4Checksum,
  internetChecksum,
  ipv4HeaderChecksum,
  l4Checksum,
  rewriteDstPort,
  rewriteIpAddr,
  rewriteSrcPort,
  verifyIpv4Header,
  verifyL4Checksum,
} from "../../lib/packet/checksum.ts";
import { PacketMeta } from "../../lib/packet/meta.ts";
import { parseFrame } from "../../lib/packet/parse.ts";

const E = { type: "ethernet", src: "a8:40:25:00:00:01", dst: "a8:40:25:ff:77:77" } as const;

function meta(f: Uint8Array): PacketMeta {
  const m = new PacketMeta();
  assert.equal(parseFrame(f, 0, f.length, m), null);
  return m;
}
const csumAt = (f: Uint8Array, at: number) => (f[at] << 8) | f[at + 1];

Deno.test("checksum: RFC 1071 worked example and odd lengths", () => {
  // RFC 1071 §3: 0001 f203 f4f5 f6f7 sums to ddf2, so the checksum is 220d.
  assert.equal(internetChecksum(fromHex("0001f203f4f5f6f7")!, 0, 8), 0x220d);
  assert.equal(internetChecksum(Uint8Array.of(1), 0, 1), 0xfeff);
  assert.equal(internetChecksum(Uint8Array.of(0, 1, 0xf2), 0, 3), ~(0x0001 + 0xf200) & 0xffff);
  assert.equal(internetChecksum(new Uint8Array(0), 0, 0), 0xffff);
});

Deno.test("checksum: IPv4 header (classic example header, checksum b861)", () => {
  const h = fromHex("450000730000400040 11b861c0a80001c0a800c7")!;
  assert.equal(ipv4HeaderChecksum(h, 0), 0xb861);
  assert.ok(verifyIpv4Header(h, 0));
  h[8] ^= 1;
  assert.ok(!verifyIpv4Header(h, 0));
});

Deno.test("checksum: RFC 1624 incremental update equals a full recompute", () => {
  fc.assert(fc.property(
    fc.uint8Array({ minLength: 20, maxLength: 64 }).filter((b) => b.length % 2 === 0),
    fc.nat(9),
    fc.integer({ min: 0, max: 0xffff }),
    (data, wordIdx, neu) => {
      const c0 = internetChecksum(data, 0, data.length);
      const at = wordIdx * 2;
      const old = (data[at] << 8) | data[at + 1];
      data[at] = neu >>> 8;
      data[at + 1] = neu;
      const full = internetChecksum(data, 0, data.length);
      const inc = csumAdjust16(c0, old, neu);
      // Ones' complement has two zeros; RFC 1624 eqn. 3 never yields 0xffff for a sum that
      // can be 0, so compare modulo the ±0 ambiguity.
      assert.equal(inc % 0xffff, full % 0xffff);
    },
  ));
  fc.assert(fc.property(
    fc.uint8Array({ minLength: 8, maxLength: 8 }),
    fc.integer({ min: 0, max: 0xffffffff }),
    (data, neu) => {
      const c0 = internetChecksum(data, 0, 8);
      const old = new DataView(data.buffer).getUint32(2);
      new DataView(data.buffer).setUint32(2, neu);
      assert.equal(csumAdjust32(c0, old, neu) % 0xffff, internetChecksum(data, 0, 8) % 0xffff);
    },
  ));
});

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join("."));
const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 });
const port = fc.integer({ min: 0, max: 0xffff });

Deno.test("checksum: address and port rewrites keep TCP/UDP/ICMPv6 and IPv4 header valid", () => {
  fc.assert(fc.property(
    fc.constantFrom("tcp", "udp", "icmp") as fc.Arbitrary<"tcp" | "udp" | "icmp">,
    fc.boolean(),
    v4,
    v4,
    v6,
    v6,
    port,
    port,
    fc.uint8Array({ maxLength: 40 }),
    (l4, six, a4, b4, a6, b6, p, q, payload) => {
      const ip = six
        ? { type: "ipv6" as const, src: "fd00::1", dst: "fd00::2" }
        : { type: "ipv4" as const, src: "10.0.0.1", dst: "10.0.0.2" };
      const l4spec = l4 === "tcp"
        ? { type: "tcp" as const, srcPort: 1000, dstPort: 2000, flags: "A" }
        : l4 === "udp"
        ? { type: "udp" as const, srcPort: 1000, dstPort: 2000 }
        : six
        ? { type: "icmpv6" as const, kind: "echoRequest" as const, id: 1000 }
        : { type: "icmpv4" as const, kind: "echoRequest" as const, id: 1000 };
      const f = buildFrame([E, ip, l4spec, { type: "payload", data: payload }]);
      const m = meta(f);
      const lv = m.outer;
      const src = six ? a6 : Uint8Array.from(a4.split(".").map(Number));
      const dst = six ? b6 : Uint8Array.from(b4.split(".").map(Number));
      rewriteIpAddr(f, lv, false, src, 0);
      rewriteIpAddr(f, lv, true, dst, 0);
      rewriteSrcPort(f, lv, p);
      if (l4 !== "icmp") rewriteDstPort(f, lv, q);
      assert.ok(verifyL4Checksum(f, lv), "L4 checksum after rewrite");
      if (!six) assert.ok(verifyIpv4Header(f, lv.l3), "IPv4 header after rewrite");
      const again = meta(f).outer;
      assert.deepEqual([again.srcPort, again.dstPort], [p, l4 === "icmp" ? p : q]);
      assert.deepEqual(f.subarray(lv.l3 + (six ? 8 : 12), lv.l3 + (six ? 24 : 16)), src);
    },
  ));
});

Deno.test("checksum: UDP over IPv4 with checksum 0 stays 0 through rewrites", () => {
  const f = buildFrame([E, { type: "ipv4", src: "10.0.0.1", dst: "10.0.0.2" }, {
    type: "udp",
    srcPort: 1,
    dstPort: 2,
    checksum: "zero",
  }, { type: "payload", data: "abc" }]);
  const lv = meta(f).outer;
  rewriteIpAddr(f, lv, false, Uint8Array.of(192, 0, 2, 1), 0);
  rewriteSrcPort(f, lv, 4242);
  assert.equal(csumAt(f, lv.l4 + 6), 0);
  assert.ok(verifyIpv4Header(f, lv.l3));
  assert.ok(verifyL4Checksum(f, lv));
});

Deno.test("checksum: a UDP sum of 0 is sent as 0xffff", () => {
  const f = buildFrame([E, { type: "ipv4", src: "10.0.0.1", dst: "10.0.0.2" }, {
    type: "udp",
    srcPort: 1,
    dstPort: 2,
  }, { type: "payload", data: new Uint8Array(2) }]);
  const lv = meta(f).outer;
  // Setting a zero payload word to the current checksum makes the covered sum 0xffff.
  const c = csumAt(f, lv.l4 + 6);
  f[lv.payload] = c >>> 8;
  f[lv.payload + 1] = c;
  assert.equal(l4Checksum(f, lv), 0xffff);
  assert.ok(fillL4Checksum(f, lv));
  assert.equal(csumAt(f, lv.l4 + 6), 0xffff);
  assert.ok(verifyL4Checksum(f, lv));
  // Over IPv6 a zero UDP checksum is only acceptable for tunnels.
  const g = buildFrame([
    E,
    { type: "ipv6", src: "fd00::1", dst: "fd00::2" },
    {
      type: "udp",
      checksum: "zero",
    },
    { type: "geneve", vni: 1 },
    E,
    { type: "payload", data: "x" },
  ]);
  const gl = meta(g).outer;
  assert.equal(verifyL4Checksum(g, gl), false);
  assert.equal(verifyL4Checksum(g, gl, true), true);
});

Deno.test("checksum: verify catches a flipped payload bit", () => {
  const f = buildFrame([E, { type: "ipv6", src: "fd00::1", dst: "fd00::2" }, {
    type: "tcp",
    srcPort: 1,
    dstPort: 2,
  }, { type: "payload", data: "hello world" }]);
  const lv = meta(f).outer;
  assert.ok(verifyL4Checksum(f, lv));
  f[f.length - 1] ^= 0x10;
  assert.ok(!verifyL4Checksum(f, lv));
  assert.ok(fillL4Checksum(f, lv));
  assert.ok(verifyL4Checksum(f, lv));
});
