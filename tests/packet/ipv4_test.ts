import assert from "node:assert/strict";
import { fromHex, ipv4ToString, toHex } from "../../lib/packet/bytes.ts";
import { emitIpv4, ipv4BufferLen, ipv4Repr, Ipv4View, parseIpv4 } from "../../lib/packet/ipv4.ts";

// scapy: IP(src="10.0.0.5", dst="10.0.0.6", id=0, flags="DF", ttl=1)/UDP(sport=1, dport=2)
const HDR = "4500001c00004000011165c70a0000050a000006" + "000100020008ebd0";

Deno.test("ipv4: deconstruct a header", () => {
  const b = fromHex(HDR)!;
  const v = parseIpv4(b, 0, b.length) as Ipv4View;
  assert.deepEqual([v.version, v.headerLen, v.tos, v.totalLen, v.ident], [4, 20, 0, 28, 0]);
  assert.deepEqual([v.dontFragment, v.moreFragments, v.fragOffset, v.ttl, v.proto], [
    true,
    false,
    0,
    1,
    17,
  ]);
  assert.equal(v.checksum, 0x65c7);
  assert.ok(v.verifyChecksum());
  assert.equal(ipv4ToString(v.src), "10.0.0.5");
  assert.equal(ipv4ToString(v.dst), "10.0.0.6");
});

Deno.test("ipv4: construct with options and fragment fields; repr round-trips", () => {
  const b = fromHex(HDR)!;
  const r = ipv4Repr(parseIpv4(b, 0, b.length) as Ipv4View);
  const out = new Uint8Array(20);
  emitIpv4(r, out, 0);
  assert.equal(toHex(out), HDR.slice(0, 40));
  // Router alert option (94 04 00 00), later fragment at offset 1480.
  const r2 = {
    ...r,
    options: fromHex("94040000")!,
    dontFragment: false,
    moreFragments: true,
    fragOffset: 1480,
    ident: 0xabcd,
  };
  const o2 = new Uint8Array(ipv4BufferLen(r2) + 8);
  assert.equal(emitIpv4(r2, o2, 0), 24);
  const v2 = parseIpv4(o2, 0, o2.length) as Ipv4View;
  assert.deepEqual([v2.headerLen, v2.totalLen, v2.moreFragments, v2.fragOffset, v2.ident], [
    24,
    32,
    true,
    1480,
    0xabcd,
  ]);
  assert.equal(toHex(v2.options), "94040000");
  assert.ok(v2.verifyChecksum());
  v2.ttl = 0;
  assert.ok(!v2.verifyChecksum());
  v2.fillChecksum();
  assert.ok(v2.verifyChecksum());
});

Deno.test("ipv4: version, IHL and total length are checked", () => {
  const b = fromHex(HDR)!;
  const err = (x: Uint8Array, end = x.length) => parseIpv4(x, 0, end);
  assert.deepEqual(err(b, 19), { kind: "truncated", at: "ipv4", offset: 0 });
  const v6 = b.slice();
  v6[0] = 0x65;
  assert.deepEqual(err(v6), { kind: "malformed", at: "ipv4.version", offset: 0 });
  const ihl = b.slice();
  ihl[0] = 0x44;
  assert.deepEqual(err(ihl), { kind: "malformed", at: "ipv4.ihl", offset: 0 });
  ihl[0] = 0x4f;
  assert.deepEqual(err(ihl), { kind: "truncated", at: "ipv4.options", offset: 20 });
  const len = b.slice();
  len[3] = 19;
  assert.deepEqual(err(len), { kind: "malformed", at: "ipv4.length", offset: 2 });
  len[3] = 29;
  assert.deepEqual(err(len), { kind: "truncated", at: "ipv4.length", offset: 2 });
});
