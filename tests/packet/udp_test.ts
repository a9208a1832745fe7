import assert from "node:assert/strict";
import { fromHex, toHex } from "../../lib/packet/bytes.ts";
import { emitUdp, parseUdp, udpRepr, UdpView } from "../../lib/packet/udp.ts";

// scapy: UDP(sport=5353, dport=53)/"hello" over fd00:1::10 -> fd00:2::10
const DGRAM = "14e90035000dacbf68656c6c6f";

Deno.test("udp: deconstruct, construct, round-trip", () => {
  const b = fromHex(DGRAM)!;
  const v = parseUdp(b, 0, b.length) as UdpView;
  assert.deepEqual([v.srcPort, v.dstPort, v.length, v.checksum], [5353, 53, 13, 0xacbf]);
  const r = udpRepr(v);
  assert.deepEqual(r, { srcPort: 5353, dstPort: 53, payloadLen: 5 });
  const out = new Uint8Array(8);
  emitUdp(r, out, 0);
  assert.equal(toHex(out), "14e90035000d0000");
  v.dstPort = 6081;
  v.checksum = 0;
  assert.equal(toHex(b.subarray(0, 8)), "14e917c1000d0000");
});

Deno.test("udp: length field below 8 or past the datagram is an error", () => {
  const b = fromHex(DGRAM)!;
  assert.equal((parseUdp(b, 0, 7) as { kind: string }).kind, "truncated");
  b[5] = 7;
  assert.deepEqual(parseUdp(b, 0, b.length), { kind: "malformed", at: "udp.length", offset: 4 });
  b[5] = 14;
  assert.deepEqual(parseUdp(b, 0, b.length), { kind: "truncated", at: "udp.length", offset: 4 });
});
