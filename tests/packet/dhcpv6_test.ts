import assert from "node:assert/strict";
import * as fc from "fast-check";
import {
  dhcpv6BufferLen,
  Dhcpv6MessageType,
  type Dhcpv6Repr,
  dhcpv6ReprParse,
  Dhcpv6View,
  duidLl,
  duidMac,
  emitDhcpv6,
  OPT6_SERVERID,
  parseDhcpv6,
} from "../../lib/packet/dhcpv6.ts";
import { fromHex, ipv6ToString, macToString, parseIpv6, toHex } from "../../lib/packet/bytes.ts";
import { isParseError } from "../../lib/packet/error.ts";
import { dhcpv6ReprArb } from "./interop/arbitraries.ts";

// A Reply built by scapy 2.5: server id DUID-LL, client id DUID-LLT, IA_NA with one address,
// DNS servers and a domain list.
const SCAPY_REPLY = fromHex(
  "071234560002000a00030001a84025ff77770001000e0001000100003039a8402500010a" +
    "00030028000000070000070800000b4000050018fd00000500000000000000000000013200000e1000001c20" +
    "00170010fd0000050000000000000000000000010018000c056f78696465047465737400",
)!;

function parsed(b: Uint8Array): Dhcpv6Repr {
  const v = parseDhcpv6(b, 0, b.length);
  assert.ok(!isParseError(v), JSON.stringify(v));
  const r = dhcpv6ReprParse(v as Dhcpv6View);
  assert.ok(!isParseError(r), JSON.stringify(r));
  return r as Dhcpv6Repr;
}

Deno.test("dhcpv6: deconstructs scapy's Reply", () => {
  const v = parseDhcpv6(SCAPY_REPLY, 0, SCAPY_REPLY.length) as Dhcpv6View;
  assert.equal(v.msgType, Dhcpv6MessageType.REPLY);
  assert.equal(v.transactionId, 0x123456);
  assert.equal(v.findOption(OPT6_SERVERID), 8);
  const r = parsed(SCAPY_REPLY);
  assert.equal(macToString(duidMac(r.serverId!)!), "a8:40:25:ff:77:77");
  assert.equal(macToString(duidMac(r.clientId!)!), "a8:40:25:00:01:0a");
  assert.equal(toHex(r.clientId!.subarray(0, 8)), "0001000100003039");
  assert.equal(r.iaNa!.length, 1);
  const ia = r.iaNa![0];
  assert.deepEqual([ia.iaid, ia.t1, ia.t2], [7, 1800, 2880]);
  assert.equal(ipv6ToString(ia.addresses[0].addr), "fd00:5::132");
  assert.equal(ia.addresses[0].preferredLifetime, 3600);
  assert.equal(ia.addresses[0].validLifetime, 7200);
  assert.deepEqual(r.dnsServers!.map((a) => ipv6ToString(a)), ["fd00:5::1"]);
  assert.deepEqual(r.domainList, ["oxide.test"]);
});

Deno.test("dhcpv6: emits exact bytes for an Advertise", () => {
  const b = emitDhcpv6({
    msgType: Dhcpv6MessageType.ADVERTISE,
    transactionId: 0xabcdef,
    clientId: duidLl(Uint8Array.of(0xa8, 0x40, 0x25, 0, 0, 5)),
    serverId: duidLl(Uint8Array.of(0xa8, 0x40, 0x25, 0xff, 0x77, 0x77)),
    iaNa: [{
      iaid: 1,
      t1: 100,
      t2: 200,
      addresses: [{ addr: parseIpv6("fd00::5")!, preferredLifetime: 300, validLifetime: 400 }],
    }],
    status: { code: 0, message: "ok" },
    preference: 255,
    rapidCommit: true,
    elapsedTime: 10,
    oro: [23, 24],
  });
  assert.equal(
    toHex(b),
    "02abcdef" + "0001000a00030001a84025000005" + "0002000a00030001a84025ff7777" +
      "00030028" + "00000001" + "00000064" + "000000c8" +
      "00050018" + "fd000000000000000000000000000005" + "0000012c" + "00000190" +
      "000d0004" + "00006f6b" + "00070001ff" + "000e0000" + "00080002000a" + "0006000400170018",
  );
});

Deno.test("dhcpv6: emit then parse gives back the Repr (property)", () => {
  fc.assert(fc.property(dhcpv6ReprArb, (r) => {
    const b = emitDhcpv6(r);
    assert.equal(b.length, dhcpv6BufferLen(r));
    assert.deepEqual(parsed(b), structuredClone(r));
  }));
});

Deno.test("dhcpv6: malformed messages are typed errors, never throws", () => {
  const err = (b: Uint8Array) => {
    const v = parseDhcpv6(b, 0, b.length);
    return isParseError(v) ? v : dhcpv6ReprParse(v);
  };
  assert.deepEqual(err(Uint8Array.of(1, 0, 0)), { kind: "truncated", at: "dhcpv6", offset: 0 });
  assert.equal((err(fromHex("0c000000")!) as { kind: string }).kind, "unsupported");
  // Option length runs past the end.
  assert.deepEqual(err(fromHex("01000001000100050001")!), {
    kind: "truncated",
    at: "dhcpv6.options",
    offset: 4,
  });
  // IA address nested inside IA_NA runs past the IA_NA.
  const nested = fromHex("0700000100030010" + "000000010000000000000000" + "00050020")!;
  assert.equal((err(nested) as { kind: string }).kind, "truncated");
  assert.deepEqual(err(fromHex("07000001000800010a")!), {
    kind: "malformed",
    at: "dhcpv6.option8",
    offset: 4,
  });
  // Compression pointers are not allowed in the domain list.
  assert.deepEqual(err(fromHex("0700000100180002c000")!), {
    kind: "malformed",
    at: "dhcpv6.option24",
    offset: 4,
  });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
    err(b);
  }));
  fc.assert(
    fc.property(
      dhcpv6ReprArb,
      fc.array(fc.tuple(fc.nat(), fc.nat(255))),
      fc.nat(),
      (r, edits, cut) => {
        const b = emitDhcpv6(r);
        for (const [at, v] of edits) b[at % b.length] = v;
        err(b.subarray(0, cut % (b.length + 1)));
      },
    ),
  );
});
