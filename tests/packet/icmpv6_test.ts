import assert from "node:assert/strict";
import { fromHex, toHex } from "../../lib/packet/bytes.ts";
import {
  emitIcmpv6,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_PARAM_PROBLEM,
  icmpv6HeaderLen,
  icmpv6Repr,
  Icmpv6View,
  isIcmpv6Error,
  isNdp,
  parseIcmpv6,
} from "../../lib/packet/icmpv6.ts";

// scapy: ICMPv6EchoRequest(id=0x1234, seq=7, data="ping"); ICMPv6PacketTooBig(mtu=1280)
const ECHO = "800094981234000770696e67";
const PTB = "02008d5700000500";

Deno.test("icmpv6: deconstruct echo and packet-too-big", () => {
  const e = parseIcmpv6(fromHex(ECHO)!, 0, 12) as Icmpv6View;
  assert.deepEqual([e.type, e.code, e.checksum, e.ident, e.seq], [128, 0, 0x9498, 0x1234, 7]);
  const p = parseIcmpv6(fromHex(PTB)!, 0, 8) as Icmpv6View;
  assert.deepEqual([p.type, p.mtu, p.dataOff], [ICMPV6_PACKET_TOO_BIG, 1280, 8]);
  assert.ok(isIcmpv6Error(p.type) && !isIcmpv6Error(e.type));
});

Deno.test("icmpv6: construct echo, packet-too-big, parameter problem", () => {
  const out = new Uint8Array(8);
  emitIcmpv6(icmpv6Repr(parseIcmpv6(fromHex(ECHO)!, 0, 12) as Icmpv6View), out, 0);
  assert.equal(toHex(out), "8000000012340007");
  emitIcmpv6({ type: ICMPV6_PACKET_TOO_BIG, mtu: 1280 }, out, 0);
  assert.equal(toHex(out), "0200000000000500");
  emitIcmpv6({ type: ICMPV6_PARAM_PROBLEM, code: 1, pointer: 40 }, out, 0);
  assert.equal(toHex(out), "0401000000000028");
  emitIcmpv6({ type: ICMPV6_ECHO_REQUEST, restOfHeader: 0xdeadbeef }, out, 0);
  assert.equal(toHex(out), "80000000deadbeef");
});

Deno.test("icmpv6: per-type fixed lengths are enforced", () => {
  assert.deepEqual([icmpv6HeaderLen(128), icmpv6HeaderLen(134), icmpv6HeaderLen(135)], [
    8,
    16,
    24,
  ]);
  assert.ok(isNdp(133) && isNdp(137) && !isNdp(138) && !isNdp(128));
  const ns = new Uint8Array(23);
  ns[0] = 135;
  assert.deepEqual(parseIcmpv6(ns, 0, 23), { kind: "truncated", at: "icmpv6", offset: 0 });
  assert.deepEqual(parseIcmpv6(ns, 0, 3), { kind: "truncated", at: "icmpv6", offset: 0 });
});
