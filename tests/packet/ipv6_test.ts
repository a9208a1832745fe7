import assert from "node:assert/strict";
import { fromHex, ipv6ToString, toHex } from "../../lib/packet/bytes.ts";
import {
  emitIpv6,
  emitIpv6Ext,
  EXT_FRAGMENT,
  EXT_HOP_BY_HOP,
  ipv6ExtBufferLen,
  ipv6Repr,
  Ipv6View,
  MAX_EXT_HEADERS,
  parseIpv6,
  walkIpv6Ext,
} from "../../lib/packet/ipv6.ts";
import { FRAG_FIRST, FRAG_LATER, HeaderLevel } from "../../lib/packet/meta.ts";

// scapy: IPv6(src="fd00::1", dst="fd00::2")/HBH()/DestOpt()/Fragment(m=1, id=7)/ICMPv6 echo
const CHAIN = "6000000000240040fd000000000000000000000000000001fd000000000000000000000000000002" +
  "3c00010400000000" + "2c00010400000000" + "3a00000100000007" + "8000a6d90009000170696e67";

Deno.test("ipv6: deconstruct the fixed header", () => {
  const b = fromHex(CHAIN)!;
  const v = parseIpv6(b, 0, b.length) as Ipv6View;
  assert.deepEqual([v.version, v.trafficClass, v.flowLabel, v.payloadLen, v.nextHeader], [
    6,
    0,
    0,
    0x24,
    0,
  ]);
  assert.equal(v.hopLimit, 64);
  assert.equal(ipv6ToString(v.src), "fd00::1");
  assert.equal(ipv6ToString(v.dst), "fd00::2");
  v.flowLabel = 0xabcde;
  assert.deepEqual([v.flowLabel, v.trafficClass, v.version], [0xabcde, 0, 6]);
});

Deno.test("ipv6: extension chain is walked to the upper layer", () => {
  const b = fromHex(CHAIN)!;
  const lv = new HeaderLevel();
  assert.equal(walkIpv6Ext(b, 0, b.length, lv), 64);
  assert.deepEqual([lv.proto, lv.fragment], [58, FRAG_FIRST]);
  const later = b.slice();
  later[58] = 0x05; // fragment offset 1280 (0x05 << 8 = 0x0500 = 160 × 8)
  assert.equal(walkIpv6Ext(later, 0, later.length, lv), -1);
  assert.deepEqual([lv.proto, lv.fragment], [58, FRAG_LATER]);
});

Deno.test("ipv6: construct header and extension headers; repr round-trips", () => {
  const b = fromHex(CHAIN)!;
  const out = new Uint8Array(40);
  emitIpv6(ipv6Repr(parseIpv6(b, 0, b.length) as Ipv6View), out, 0);
  assert.equal(toHex(out), CHAIN.slice(0, 80));
  const ext = new Uint8Array(16);
  const hbh = { type: EXT_HOP_BY_HOP, nextHeader: 44, data: Uint8Array.of(1, 4, 0, 0, 0, 0) };
  assert.equal(ipv6ExtBufferLen(hbh), 8);
  emitIpv6Ext(hbh, ext, 0);
  emitIpv6Ext({ type: EXT_FRAGMENT, nextHeader: 58, moreFragments: true, ident: 7 }, ext, 8);
  assert.equal(toHex(ext), "2c00010400000000" + "3a00000100000007");
  assert.equal(ipv6ExtBufferLen({ type: 60, nextHeader: 6, data: new Uint8Array(7) }), 16);
});

Deno.test("ipv6: bad version, length, jumbograms, loops of extension headers", () => {
  const b = fromHex(CHAIN)!;
  assert.deepEqual(parseIpv6(b, 0, 39), { kind: "truncated", at: "ipv6", offset: 0 });
  const v = b.slice();
  v[0] = 0x40;
  assert.deepEqual(parseIpv6(v, 0, v.length), { kind: "malformed", at: "ipv6.version", offset: 0 });
  assert.deepEqual(parseIpv6(b, 0, b.length - 1), {
    kind: "truncated",
    at: "ipv6.length",
    offset: 4,
  });
  const jumbo = b.slice();
  jumbo[4] = jumbo[5] = 0;
  assert.equal((parseIpv6(jumbo, 0, jumbo.length) as { kind: string }).kind, "unsupported");
  // A chain of destination-options headers longer than the limit.
  const n = MAX_EXT_HEADERS + 1;
  const long = new Uint8Array(40 + 8 * n + 8);
  long.set(b.subarray(0, 40));
  long[4] = 0;
  long[5] = 8 * n + 8;
  long[6] = 60;
  for (let i = 0; i < n; i++) long[40 + 8 * i] = 60;
  long[40 + 8 * (n - 1)] = 17;
  const lv = new HeaderLevel();
  assert.deepEqual(walkIpv6Ext(long, 0, long.length, lv), {
    kind: "malformed",
    at: "ipv6.ext-chain",
    offset: 40 + 8 * MAX_EXT_HEADERS,
  });
  // Hop-by-hop anywhere but first is malformed (RFC 8200 §4.1).
  const late = b.slice();
  late[40] = 0;
  assert.deepEqual(walkIpv6Ext(late, 0, late.length, lv), {
    kind: "malformed",
    at: "ipv6.hop-by-hop",
    offset: 48,
  });
  // An extension length past the datagram.
  const over = b.slice();
  over[41] = 9;
  assert.deepEqual(walkIpv6Ext(over, 0, over.length, lv), {
    kind: "truncated",
    at: "ipv6.ext",
    offset: 40,
  });
});
