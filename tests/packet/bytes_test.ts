import assert from "node:assert/strict";
import * as fc from "fast-check";
import {
  fromHex,
  ipv6ToString,
  macToString,
  parseIpv4,
  parseIpv6,
  parseMac,
  toHex,
} from "../../lib/packet/bytes.ts";

Deno.test("IPv6 text form follows RFC 5952 and round-trips", () => {
  const cases: [string, string][] = [
    ["fd00:1::10", "fd00:1::10"],
    ["FE80:0:0:0:AA40:25FF:FEFF:7777", "fe80::aa40:25ff:feff:7777"],
    ["::", "::"],
    ["::1", "::1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["::ffff:192.0.2.1", "::ffff:c000:201"],
  ];
  for (const [input, want] of cases) {
    const b = parseIpv6(input);
    assert.ok(b, input);
    assert.equal(ipv6ToString(b), want);
  }
  for (
    const bad of ["", ":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::1", "1:2:3:4:5:6:7"]
  ) {
    assert.equal(parseIpv6(bad), null, bad);
  }
  fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
    assert.deepEqual(parseIpv6(ipv6ToString(b)), b);
  }));
});

Deno.test("IPv4 and MAC parse strictly", () => {
  assert.deepEqual(parseIpv4("172.30.0.10"), Uint8Array.of(172, 30, 0, 10));
  for (const bad of ["1.2.3", "1.2.3.256", "a.b.c.d", "1..2.3", "1.2.3.4.5"]) {
    assert.equal(parseIpv4(bad), null, bad);
  }
  assert.equal(macToString(parseMac("A8:40:25:FF:77:77")!), "a8:40:25:ff:77:77");
  assert.equal(parseMac("a8:40:25:zz:00:01"), null);
  assert.equal(toHex(fromHex("de ad:be ef")!), "deadbeef");
  assert.equal(fromHex("abc"), null);
});
