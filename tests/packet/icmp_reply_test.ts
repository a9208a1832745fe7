import assert from "node:assert/strict";
import {
  type FrameAddrs,
  writeFragNeeded,
  writeIcmpv6EchoReply,
  writeIcmpv6Error,
  writeNeighborAdvert,
  writeNeighborSolicit,
  writeRouterAdvert,
} from "../../lib/packet/icmp_reply.ts";
import { parseIpv4, parseIpv6, parseMac } from "../../lib/packet/bytes.ts";
import { haveTshark, tsharkFields, tsharkProblems } from "../vpc/tshark.ts";

const GW = parseMac("a8:40:25:ff:00:01")!, GUEST = parseMac("a8:40:25:00:00:05")!;
const GW_LL = parseIpv6("fe80::aa40:25ff:feff:1")!, GUEST_LL = parseIpv6("fe80::1")!;
const TO_GUEST: FrameAddrs = { dstMac: GUEST, srcMac: GW, srcIp: GW_LL, dstIp: GUEST_LL };

/** A frame written at offset 10 of a larger (dirty) slot, cut out. */
function written(fn: (b: Uint8Array, o: number) => number): Uint8Array {
  const b = new Uint8Array(2048).fill(0xee);
  const n = fn(b, 10);
  return b.slice(10, 10 + n);
}

// An echo request fe80::1 → gateway LL (id 0x1234, seq 7, data "ping"), written out by hand.
function echoRequest(): Uint8Array {
  const f = new Uint8Array(14 + 40 + 12);
  f.set(GW, 0);
  f.set(GUEST, 6);
  f.set([0x86, 0xdd], 12);
  f.set([0x60, 0, 0, 0, 0, 12, 58, 64], 14);
  f.set(GUEST_LL, 22);
  f.set(GW_LL, 38);
  f.set([128, 0, 0, 0, 0x12, 0x34, 0, 7, 0x70, 0x69, 0x6e, 0x67], 54);
  return f;
}

Deno.test({
  name: "answer writers: tshark decodes each frame as meant and finds no problem",
  ignore: !haveTshark,
  fn: async () => {
    const req = echoRequest();
    const frames = [
      written((b, o) => writeNeighborAdvert(b, o, TO_GUEST, GW_LL, true, GW)),
      written((b, o) => writeNeighborSolicit(b, o, TO_GUEST, GUEST_LL, GW)),
      written((b, o) =>
        writeRouterAdvert(b, o, TO_GUEST, {
          lifetime: 9000,
          mtu: 1500,
          curHopLimit: 64,
          managed: true,
        })
      ),
      written((b, o) => writeIcmpv6EchoReply(b, o, GUEST, GW, req, 14, 54, req.length)),
      written((b, o) => writeIcmpv6Error(b, o, TO_GUEST, 2, 0, 1400, req, 14, req.length - 14)),
      written((b, o) => {
        const v4 = new Uint8Array(28); // IPv4 + UDP 12345 → 53, length 8
        v4.set([0x45, 0, 0, 28, 0, 1, 0x40, 0, 64, 17, 0x26, 0xc3, 10, 0, 0, 5, 10, 0, 0, 9]);
        v4.set([0x30, 0x39, 0, 53, 0, 8, 0, 0], 20);
        return writeFragNeeded(
          b,
          o,
          {
            dstMac: GUEST,
            srcMac: GW,
            srcIp: parseIpv4("10.0.0.1")!,
            dstIp: parseIpv4("10.0.0.5")!,
          },
          1400,
          v4,
          0,
          28,
        );
      }),
    ];
    assert.deepEqual(await tsharkProblems(frames), []);
    const rows = await tsharkFields(frames, [
      "ipv6.hlim",
      "icmpv6.type",
      "icmpv6.nd.na.flag.s",
      "icmpv6.nd.ns.target_address",
      "icmpv6.nd.ra.router_lifetime",
      "icmpv6.opt.mtu",
      "icmpv6.echo.identifier",
      "icmpv6.data",
      "icmp.mtu",
      "icmpv6.opt.linkaddr",
    ]);
    assert.equal(rows[0][0], "255");
    assert.equal(rows[0][1], "136");
    assert.equal(rows[0][2], "1"); // solicited
    assert.equal(rows[0][9], "a8:40:25:ff:00:01");
    assert.deepEqual([rows[1][1], rows[1][3]], ["135", "fe80::1"]);
    assert.deepEqual([rows[2][1], rows[2][4], rows[2][5]], ["134", "9000", "1500"]);
    assert.deepEqual([rows[3][0], rows[3][1], rows[3][6]], ["64", "129", "0x1234"]);
    assert.equal(rows[4][1], "2|128"); // packet too big, quoting the request
    assert.equal(rows[5][8], "1400");
  },
});
