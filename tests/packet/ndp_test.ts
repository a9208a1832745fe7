import assert from "node:assert/strict";
import { fromHex, ipv6ToString, macToString, toHex } from "../../lib/packet/bytes.ts";
import {
  emitNdp,
  NDP_OPT_MTU,
  NDP_OPT_PREFIX_INFO,
  NDP_OPT_TARGET_LL,
  ndpBufferLen,
  ndpOptionsRepr,
  type NdpRepr,
  NdpView,
  parseNdp,
} from "../../lib/packet/ndp.ts";

// scapy bodies (ICMPv6 onwards) of the NS, RA and NA frames in build_test.ts.
const NS = "8700e11700000000fe8000000000000000000000000000010101a84025000001";
const RA =
  "8600d15b40c8070800000000000000000101a84025ff777705010000000005dc030440c0000151800000384000000000fd000001000000000000000000000000";
const NA = "88008625e0000000fe8000000000000000000000000000010201a84025ff7777";

Deno.test("ndp: deconstruct NS, RA, NA", () => {
  const ns = parseNdp(fromHex(NS)!, 0, NS.length / 2) as NdpView;
  assert.equal(ipv6ToString(ns.target), "fe80::1");
  assert.equal(macToString(ns.linkAddr()!), "a8:40:25:00:00:01");
  assert.equal(ns.linkAddr(NDP_OPT_TARGET_LL), null);
  const ra = parseNdp(fromHex(RA)!, 0, RA.length / 2) as NdpView;
  assert.deepEqual(
    [ra.curHopLimit, ra.managed, ra.other, ra.preference, ra.routerLifetime, ra.reachableTime],
    [64, true, true, 1, 1800, 0],
  );
  assert.equal(ra.findOption(NDP_OPT_MTU), 24);
  assert.equal(ra.findOption(NDP_OPT_PREFIX_INFO), 32);
  assert.deepEqual(ndpOptionsRepr(ra), [
    { type: "sourceLinkAddr", mac: fromHex("a84025ff7777") },
    { type: "mtu", mtu: 1500 },
    {
      type: "prefixInfo",
      prefixLen: 64,
      onLink: true,
      autonomous: true,
      validLifetime: 86400,
      preferredLifetime: 14400,
      prefix: fromHex("fd000001000000000000000000000000"),
    },
  ]);
  const na = parseNdp(fromHex(NA)!, 0, NA.length / 2) as NdpView;
  assert.deepEqual([na.router, na.solicited, na.override], [true, true, true]);
  assert.equal(macToString(na.linkAddr(NDP_OPT_TARGET_LL)!), "a8:40:25:ff:77:77");
});

Deno.test("ndp: construct messages (checksum left zero for the IP layer)", () => {
  const zeroSum = (hex: string) => hex.slice(0, 4) + "0000" + hex.slice(8);
  const ra = parseNdp(fromHex(RA)!, 0, RA.length / 2) as NdpView;
  const r: NdpRepr = {
    kind: "ra",
    curHopLimit: 64,
    managed: true,
    other: true,
    preference: 1,
    routerLifetime: 1800,
    options: ndpOptionsRepr(ra),
  };
  const out = new Uint8Array(ndpBufferLen(r));
  assert.equal(emitNdp(r, out, 0), RA.length / 2);
  assert.equal(toHex(out), zeroSum(RA));
  const rs: NdpRepr = {
    kind: "rs",
    options: [{
      type: "rdnss",
      lifetime: 600,
      servers: [fromHex("fd00000000000000000000000000ffff")!],
    }],
  };
  const o2 = new Uint8Array(ndpBufferLen(rs));
  emitNdp(rs, o2, 0);
  const v = parseNdp(o2, 0, o2.length) as NdpView;
  assert.deepEqual(ndpOptionsRepr(v), rs.options);
  assert.equal(toHex(o2.subarray(8, 16)), "190300000000025" + "8");
});

Deno.test("ndp: zero-length and overlong options are refused", () => {
  const zero = fromHex(NS)!;
  zero[25] = 0;
  assert.deepEqual(parseNdp(zero, 0, zero.length), {
    kind: "malformed",
    at: "ndp.option-length",
    offset: 25,
  });
  const long = fromHex(NS)!;
  long[25] = 2;
  assert.deepEqual(parseNdp(long, 0, long.length), {
    kind: "truncated",
    at: "ndp.option",
    offset: 24,
  });
  assert.equal((parseNdp(fromHex(NS)!, 0, 23) as { kind: string }).kind, "truncated");
});
