import assert from "node:assert/strict";
import * as fc from "fast-check";
import {
  BOOTREPLY,
  BOOTREQUEST,
  checkDhcp,
  DHCP_MIN_LEN,
  dhcpBufferLen,
  DhcpMessageType,
  type DhcpRepr,
  DhcpView,
  emitDhcp,
  OPT_ROUTER,
  parseDhcp,
} from "../../lib/packet/dhcp.ts";
import { decodeDnsNames, encodeDnsNames } from "../../lib/packet/dns_names.ts";
import { dhcpReprParse } from "../../lib/packet/dhcp_decode.ts";
import { fromHex, ipv4ToString, parseIpv4, parseMac, toHex } from "../../lib/packet/bytes.ts";
import { isParseError } from "../../lib/packet/error.ts";
import { dhcpReprArb } from "./interop/arbitraries.ts";

const ip = (s: string) => parseIpv4(s)!;

// A DHCPOFFER built by scapy 2.5 (BOOTP/DHCP with message-type, server_id, lease_time,
// subnet_mask, router, name_server, domain, interface-mtu, classless_static_routes, end).
const SCAPY_OFFER = fromHex(
  "020106003903f3260000000000000000ac1e000a0000000000000000a8402500010a" + "00".repeat(202) +
    "638253633501023604ac1e0001330400000e100104fffffc000304ac1e0001060801010101080808080f0a" +
    "6f786964652e746573741a0205dc7906080aac1e0001ff",
)!;

function parsed(bytes: Uint8Array): DhcpRepr {
  const v = parseDhcp(bytes, 0, bytes.length);
  assert.ok(!isParseError(v), JSON.stringify(v));
  const r = dhcpReprParse(v as DhcpView);
  assert.ok(!isParseError(r), JSON.stringify(r));
  return r as DhcpRepr;
}

Deno.test("dhcp: deconstructs scapy's OFFER field by field", () => {
  const v = parseDhcp(SCAPY_OFFER, 0, SCAPY_OFFER.length) as DhcpView;
  assert.equal(v.op, BOOTREPLY);
  assert.equal(v.xid, 0x3903f326);
  assert.equal(v.messageType, DhcpMessageType.OFFER);
  assert.equal(ipv4ToString(v.buf, v.yiaddrOff), "172.30.0.10");
  const at = v.findOption(OPT_ROUTER);
  assert.equal(v.buf[at - 1], 4);
  assert.equal(ipv4ToString(v.buf, at), "172.30.0.1");
  const r = parsed(SCAPY_OFFER);
  assert.equal(r.htype, 1);
  assert.equal(toHex(r.chaddr), "a8402500010a");
  assert.equal(ipv4ToString(r.serverId!), "172.30.0.1");
  assert.equal(r.leaseTime, 3600);
  assert.equal(ipv4ToString(r.subnetMask!), "255.255.252.0");
  assert.deepEqual(r.dnsServers!.map((a) => ipv4ToString(a)), ["1.1.1.1", "8.8.8.8"]);
  assert.equal(r.domainName, "oxide.test");
  assert.equal(r.mtu, 1500);
  assert.equal(r.classlessRoutes!.length, 1);
  assert.equal(ipv4ToString(r.classlessRoutes![0].dest), "10.0.0.0");
  assert.equal(r.classlessRoutes![0].prefixLen, 8);
  assert.equal(ipv4ToString(r.classlessRoutes![0].router), "172.30.0.1");
  assert.equal(r.other, undefined);
});

Deno.test("dhcp: emits exact bytes for a minimal ACK, padded to 300", () => {
  const b = emitDhcp({
    op: BOOTREPLY,
    xid: 0xdeadbeef,
    flags: 0x8000,
    yiaddr: ip("10.0.0.5"),
    chaddr: parseMac("a8:40:25:00:00:05")!,
    messageType: DhcpMessageType.ACK,
    serverId: ip("10.0.0.1"),
    leaseTime: 86400,
  });
  assert.equal(b.length, DHCP_MIN_LEN);
  assert.equal(toHex(b.subarray(0, 12)), "02010600deadbeef00008000");
  assert.equal(toHex(b.subarray(16, 20)), "0a000005");
  assert.equal(toHex(b.subarray(28, 44)), "a84025000005" + "00".repeat(10));
  assert.ok(b.subarray(44, 236).every((x) => x === 0), "sname/file zero");
  assert.equal(
    toHex(b.subarray(236, 256)),
    "63825363" + "350105" + "36040a000001" + "330400015180" + "ff",
  );
  assert.ok(b.subarray(256).every((x) => x === 0), "padding after END");
});

Deno.test("dhcp: RFC 3397 domain search with compression, RFC 3396 split options", () => {
  const d = fromHex("03656e67056170706c6503636f6d00096d61726b6574696e67c004")!;
  assert.deepEqual(decodeDnsNames(d, true), ["eng.apple.com", "marketing.apple.com"]);
  assert.equal((decodeDnsNames(d, false) as { kind: string }).kind, "malformed");
  // Backward pointers into earlier names are fine.
  assert.deepEqual(decodeDnsNames(fromHex("01610001620000c000c003")!, true), [
    "a",
    "b",
    "",
    "a",
    "b",
  ]);
  // A pointer to itself, a forward pointer, loops through the current name: all refused.
  for (const bad of ["c000", "c002000000", "0161c000", "00000162c002", "0161c0000000"]) {
    const r = decodeDnsNames(fromHex(bad)!, true);
    assert.ok(isParseError(r), bad);
  }
  const labelTooLong = Uint8Array.of(64, ...new Array(64).fill(0x61), 0);
  assert.ok(isParseError(decodeDnsNames(labelTooLong, true)));
  // 40 names of ~20 bytes: option 119 is longer than 255 and must be split and rejoined.
  const names = Array.from({ length: 40 }, (_, k) => `zone${k}.sled1.oxide.test`);
  const r = parsed(
    emitDhcp({ op: BOOTREPLY, xid: 1, chaddr: new Uint8Array(6), domainSearch: names }),
  );
  assert.deepEqual(r.domainSearch, names);
  assert.equal(encodeDnsNames(["a.b."]).length, encodeDnsNames(["a.b"]).length);
});

Deno.test("dhcp: RFC 3442 classless routes including default and /32", () => {
  const d = fromHex("00c0a80001" + "080ac0a80002" + "18ac1e00c0a80003" + "20ac1e0001c0a80004")!;
  const body = Uint8Array.of(121, d.length, ...d, 255);
  const msg = emitDhcp({ op: BOOTREPLY, xid: 1, chaddr: new Uint8Array(6) });
  msg.set(body, 240);
  const r = parsed(msg);
  assert.deepEqual(
    r.classlessRoutes!.map((x) =>
      `${ipv4ToString(x.dest)}/${x.prefixLen} via ${ipv4ToString(x.router)}`
    ),
    [
      "0.0.0.0/0 via 192.168.0.1",
      "10.0.0.0/8 via 192.168.0.2",
      "172.30.0.0/24 via 192.168.0.3",
      "172.30.0.1/32 via 192.168.0.4",
    ],
  );
  // Round trip through emit gives the same wire body.
  const again = emitDhcp({ ...r, other: undefined });
  assert.ok(toHex(again).includes("79" + d.length.toString(16) + toHex(d)));
  const wide = Uint8Array.of(121, 5, 33, 1, 2, 3, 4, 255);
  msg.set(wide, 240);
  assert.ok(isParseError(dhcpReprParse(parseDhcp(msg, 0, msg.length) as DhcpView)));
});

Deno.test("dhcp: emit then parse gives back the Repr (property)", () => {
  fc.assert(fc.property(dhcpReprArb, (r) => {
    const b = emitDhcp(r);
    assert.equal(b.length, dhcpBufferLen(r));
    assert.deepEqual(parsed(b), r);
  }));
});

Deno.test("dhcp: malformed messages are typed errors, never throws", () => {
  const ok = emitDhcp({ op: BOOTREQUEST, xid: 7, chaddr: new Uint8Array(6), messageType: 1 });
  const err = (b: Uint8Array) => {
    const v = parseDhcp(b, 0, b.length);
    return isParseError(v) ? v : dhcpReprParse(v);
  };
  assert.deepEqual(err(ok.subarray(0, 239)), { kind: "truncated", at: "dhcp", offset: 0 });
  const badCookie = ok.slice();
  badCookie[236] = 0;
  assert.equal((err(badCookie) as { kind: string }).kind, "malformed");
  assert.deepEqual(err(ok.subarray(0, 242)), {
    kind: "truncated",
    at: "dhcp.options",
    offset: 240,
  });
  const noEnd = ok.slice(0, 243);
  assert.deepEqual(err(noEnd), { kind: "malformed", at: "dhcp.options", offset: 243 });
  const badType = ok.slice();
  badType.set([53, 2, 1, 1, 255], 240);
  assert.deepEqual(err(badType), { kind: "malformed", at: "dhcp.option53", offset: 240 });
  const badMask = ok.slice();
  badMask.set([1, 3, 255, 255, 0, 255], 240);
  assert.equal((err(badMask) as { at: string }).at, "dhcp.option1");
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), (b) => {
    err(b);
  }));
  fc.assert(
    fc.property(
      dhcpReprArb,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      fc.nat(),
      (r, edits, cut) => {
        const b = emitDhcp(r);
        for (const [at, v] of edits) b[240 + (at % (b.length - 240))] = v;
        err(b.subarray(0, cut % (b.length + 1)));
      },
    ),
  );
});

Deno.test("dhcp: one re-pointed view serves many messages (the hairpin's no-allocation path)", () => {
  const view = new DhcpView(new Uint8Array(0), 0, 0);
  const frame = new Uint8Array(2048);
  for (const type of [DhcpMessageType.DISCOVER, DhcpMessageType.REQUEST]) {
    const msg = emitDhcp({
      op: BOOTREQUEST,
      xid: type,
      chaddr: new Uint8Array(6),
      messageType: type,
    });
    frame.set(msg, 42);
    assert.equal(checkDhcp(frame, 42, 42 + msg.length), null);
    view.reset(frame, 42, 42 + msg.length);
    assert.equal(view.messageType, type);
    assert.equal(view.xid, type);
    assert.equal(view.findOption(OPT_ROUTER), -1);
  }
  assert.deepEqual(checkDhcp(frame, 42, 200), { kind: "truncated", at: "dhcp", offset: 42 });
});

Deno.test("dhcp: DNS name decoding terminates and never throws on any bytes (property)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (b, compressed) => {
      const r = decodeDnsNames(b, compressed);
      if (Array.isArray(r)) assert.ok(r.every((n) => n.length <= 255));
    }),
    { numRuns: 3000 },
  );
});
