import assert from "node:assert/strict";
import { buildFrame, type LayerSpec } from "../../lib/packet/build.ts";
import { rewriteIpAddr } from "../../lib/packet/checksum.ts";
import { FlowId } from "../../lib/packet/flow.ts";
import { geneveOuterBytes } from "../../lib/vpc/geneve_outer.ts";
import { expectedGeneveSrcPort } from "../flow_hash.ts";
import {
  findQuoted,
  isIcmpError,
  Quoted,
  quotedFlow,
  restoreQuoted,
} from "../../lib/vpc/icmp_error.ts";
import { cat, hex, ip4, ip6, parsed } from "./frames.ts";
import { assertTsharkClean, tsharkFields, tsharkStep } from "./tshark.ts";

Deno.test("Geneve outer bytes: IPv6/UDP 6081 checksum 0, VNI, Oxide MSS and external options", async (t) => {
  const outer = geneveOuterBytes({
    src: ip6("fd00:1::1"),
    dst: ip6("fd00:2::1"),
    vni: 100,
    flowHash: 0x12345678,
    mss: 1460,
  });
  const sport = expectedGeneveSrcPort(0x12345678);
  assert.ok(sport >= 49152 && sport <= 65535);
  assert.deepEqual(
    outer,
    cat(
      hex("000000000000 000000000000 86dd"),
      hex("6004 5678 0018 11ff"), // flow label = hash & 0xfffff; payload 24 = UDP 8 + Geneve 16
      ip6("fd00:1::1"),
      ip6("fd00:2::1"),
      Uint8Array.of(sport >> 8, sport & 0xff),
      hex("17c1 0018 0000"),
      hex("02 00 6558 000064 00"), // 2 words of options, protocol TEB, VNI 100
      hex("0129 02 01 000005b4"), // Oxide class, type 2 (MSS), 1 word, 1460
    ),
  );
  const ext = geneveOuterBytes({
    src: ip6("fd00:1::1"),
    dst: ip6("fd00:99::1"),
    vni: 99,
    flowHash: 7,
    external: true,
  });
  assert.deepEqual(ext.subarray(62, 70), hex("01 00 6558 000063 00"));
  assert.deepEqual(ext.subarray(70, 74), hex("0129 00 00"));
  // Inner frame appended, lengths patched as the engine's push does: tshark must accept it.
  const inner = buildFrame([
    { type: "ethernet", src: "a8:40:25:fa:00:05", dst: "a8:40:25:fa:00:06" },
    { type: "ipv4", src: "172.30.0.5", dst: "172.30.0.6" },
    { type: "tcp", srcPort: 40000, dstPort: 22, flags: "S", mss: 1460 },
  ]);
  const frame = cat(outer, inner);
  const plen = frame.length - 54;
  frame[18] = plen >> 8;
  frame[19] = plen & 0xff;
  frame[58] = plen >> 8;
  frame[59] = plen & 0xff;
  const m = parsed(frame);
  assert.equal(m.encap, true);
  assert.equal(m.vni, 100);
  assert.equal(m.oxideMss, 1460);
  await assertTsharkClean(t, [frame], "Geneve encap");
  await tsharkStep(t, "Geneve fields", async () => {
    const rows = await tsharkFields([frame], ["geneve.vni", "geneve.option.class", "tcp.dstport"]);
    assert.deepEqual(rows, [["0x000064", "0x0129", "22"]]);
  });
});

function errorFrame(
  quotedSrc: string,
  quotedPort: number,
  outerDst: string,
  udpLayers: LayerSpec[],
) {
  return buildFrame([
    { type: "ethernet", src: "a8:40:25:77:77:77", dst: "a8:40:25:fa:00:05" },
    { type: "ipv4", src: "192.0.2.254", dst: outerDst, ttl: 250 },
    { type: "icmpv4", kind: "destUnreachable", code: 3 },
    { type: "ipv4", src: quotedSrc, dst: "8.8.8.8", ttl: 63, id: 77 },
    { type: "udp", srcPort: quotedPort, dstPort: 53 },
    ...udpLayers,
  ]);
}

Deno.test("ICMP error quoting a SNAT flow: quoted source restored, all checksums right (exact)", async (t) => {
  const payload: LayerSpec[] = [{ type: "payload", data: "query" }];
  const err = errorFrame("203.0.113.9", 1024, "203.0.113.9", payload);
  const m = parsed(err);
  assert.ok(isIcmpError(m.outer));
  const q = new Quoted();
  assert.ok(findQuoted(err, m.outer, q));
  const f = new FlowId();
  quotedFlow(err, q, f);
  assert.equal(f.toString(), "UDP 203.0.113.9:1024 -> 8.8.8.8:53");
  rewriteIpAddr(err, m.outer, true, ip4("10.0.0.5"), 0);
  restoreQuoted(err, m.outer, q, ip4("10.0.0.5"), 40000);
  assert.deepEqual(err, errorFrame("10.0.0.5", 40000, "10.0.0.5", payload));
  await assertTsharkClean(t, [err], "translated ICMP error");
});

Deno.test("ICMPv6 packet-too-big quoting TCP, truncated quote without the L4 checksum", () => {
  const mk = (src: string, port: number) =>
    buildFrame([
      { type: "ethernet", src: "a8:40:25:77:77:77", dst: "a8:40:25:fa:00:05" },
      { type: "ipv6", src: "2001:db8::1", dst: src },
      { type: "icmpv6", kind: "packetTooBig", mtu: 1280 },
      { type: "ipv6", src, dst: "2001:db8::2" },
      { type: "tcp", srcPort: port, dstPort: 443, flags: "A", seq: 5 },
    ]);
  const full = mk("2001:db8:ff::9", 1500);
  // Cut the quote after the TCP ports and sequence number (8 bytes), as routers may.
  const cut = full.slice(0, full.length - 12);
  const plen = cut.length - 54;
  cut[18] = plen >> 8;
  cut[19] = plen & 0xff;
  const m = parsed(cut);
  // Fix the outer ICMPv6 checksum of the cut frame so it starts valid.
  const q = new Quoted();
  assert.ok(findQuoted(cut, m.outer, q));
  assert.equal(q.csumAt, -1);
  rewriteIpAddr(cut, m.outer, true, ip6("fd00:a::5"), 0);
  restoreQuoted(cut, m.outer, q, ip6("fd00:a::5"), 40000);
  const want = mk("fd00:a::5", 40000).slice(0, full.length - 12);
  want[18] = plen >> 8;
  want[19] = plen & 0xff;
  // Everything but the outer checksum equals the reference (its quote is cut the same way).
  assert.deepEqual(cut.subarray(0, 56), want.subarray(0, 56));
  assert.deepEqual(cut.subarray(58), want.subarray(58));
  assert.equal(cut[14 + 6], 58);
});
