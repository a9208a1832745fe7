import assert from "node:assert/strict";
import {
  cidrContains,
  cidrToString,
  eui64LinkLocal,
  ipv6MulticastMac,
  parseAddrPrefix,
  parseAddrWords,
  parseCidr,
  solicitedNode,
} from "../../lib/packet/addr.ts";
import { ipToString, macToString, parseIpv6, parseMac } from "../../lib/packet/bytes.ts";

Deno.test("parseCidr: strict by default, bare and loose on request", () => {
  assert.equal(cidrToString(parseCidr("10.1.0.0/16")!), "10.1.0.0/16");
  assert.equal(parseCidr("10.1.2.3/16"), null, "host bits are rejected");
  assert.equal(cidrToString(parseCidr("10.1.2.3/16", { loose: true })!), "10.1.0.0/16");
  assert.equal(parseCidr("10.1.2.3"), null, "a bare address needs `bare`");
  assert.equal(cidrToString(parseCidr("10.1.2.3", { bare: true })!), "10.1.2.3/32");
  assert.equal(cidrToString(parseCidr("fd00::1", { bare: true })!), "fd00::1/128");
  assert.equal(cidrToString(parseCidr("fd00:1::/48")!), "fd00:1::/48");
  assert.equal(cidrToString(parseCidr("0.0.0.0/0")!), "0.0.0.0/0");
  for (const bad of ["10.0.0.0/33", "fd00::/129", "10.0.0.0/x", "fd00::1/64/1", "nope/8", ""]) {
    assert.equal(parseCidr(bad, { bare: true, loose: true }), null, bad);
  }
});

Deno.test("parseAddrPrefix keeps the host bits an interface address carries", () => {
  const p = parseAddrPrefix("10.1.2.3/8")!;
  assert.deepEqual([...p.addr], [10, 1, 2, 3]);
  assert.equal(cidrToString(p.cidr), "10.0.0.0/8");
  assert.equal(parseAddrPrefix("fe80::1")!.cidr.len, 128);
  assert.equal(parseAddrPrefix("10.0.0.1/33"), null);
});

Deno.test("cidrContains compares masked words per family", () => {
  const c = parseCidr("fd00:1::/32")!;
  assert.ok(cidrContains(c, 6, parseAddrWords("fd00:1:ffff::9")!.words));
  assert.ok(!cidrContains(c, 6, parseAddrWords("fd00:2::9")!.words));
  assert.ok(!cidrContains(parseCidr("10.0.0.0/8")!, 6, parseAddrWords("a00::")!.words));
});

// Expected values as Linux derives them for a TAP with MAC 52:54:00:12:34:56 (ip -6 addr;
// ip maddr): link-local fe80::5054:ff:fe12:3456, group ff02::1:ff12:3456 on 33:33:ff:12:34:56.
Deno.test("EUI-64 link-local, solicited-node group and multicast MAC", () => {
  const ll = eui64LinkLocal(parseMac("52:54:00:12:34:56")!);
  assert.equal(ipToString(ll), "fe80::5054:ff:fe12:3456");
  const sn = solicitedNode(ll);
  assert.equal(ipToString(sn), "ff02::1:ff12:3456");
  assert.equal(macToString(ipv6MulticastMac(sn)), "33:33:ff:12:34:56");
  assert.equal(macToString(ipv6MulticastMac(parseIpv6("ff02::1")!)), "33:33:00:00:00:01");
});
