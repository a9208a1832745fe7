import assert from "node:assert/strict";
import { fromHex, toHex } from "../../lib/packet/bytes.ts";
import {
  emitIcmpv4,
  ICMP_DEST_UNREACHABLE,
  ICMP_ECHO_REQUEST,
  ICMP_FRAG_NEEDED,
  icmpv4Repr,
  Icmpv4View,
  isIcmpv4Error,
  parseIcmpv4,
} from "../../lib/packet/icmpv4.ts";
import { internetChecksum } from "../../lib/packet/checksum.ts";

// scapy: ICMP(type=8, id=0x1234, seq=7)/"ping"
const ECHO = "080006f41234000770696e67";

Deno.test("icmpv4: deconstruct echo; checksum covers header and data", () => {
  const b = fromHex(ECHO)!;
  const v = parseIcmpv4(b, 0, b.length) as Icmpv4View;
  assert.deepEqual([v.type, v.code, v.checksum, v.ident, v.seq, v.dataOff], [
    ICMP_ECHO_REQUEST,
    0,
    0x06f4,
    0x1234,
    7,
    8,
  ]);
  assert.equal(internetChecksum(b, 0, b.length), 0);
});

Deno.test("icmpv4: construct echo and frag-needed; repr round-trips", () => {
  const b = fromHex(ECHO)!;
  const out = new Uint8Array(8);
  emitIcmpv4(icmpv4Repr(parseIcmpv4(b, 0, b.length) as Icmpv4View), out, 0);
  assert.equal(toHex(out), "080000001234" + "0007");
  emitIcmpv4({ type: ICMP_DEST_UNREACHABLE, code: ICMP_FRAG_NEEDED, mtu: 1400 }, out, 0);
  assert.equal(toHex(out), "0304000000000578");
  const v = parseIcmpv4(out, 0, 8) as Icmpv4View;
  assert.equal(v.nextHopMtu, 1400);
  assert.ok(isIcmpv4Error(v.type));
  assert.deepEqual(icmpv4Repr(v), { type: 3, code: 4, restOfHeader: 1400 });
});

Deno.test("icmpv4: fewer than 8 bytes is truncated", () => {
  assert.deepEqual(parseIcmpv4(fromHex(ECHO)!, 0, 7), {
    kind: "truncated",
    at: "icmpv4",
    offset: 0,
  });
});
