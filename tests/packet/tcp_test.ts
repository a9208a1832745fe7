import assert from "node:assert/strict";
import { fromHex, toHex } from "../../lib/packet/bytes.ts";
import {
  emitTcp,
  parseTcp,
  parseTcpFlags,
  TCP_ACK,
  TCP_PSH,
  TCP_SYN,
  tcpBufferLen,
  tcpFlagsToString,
  tcpRepr,
  TcpView,
} from "../../lib/packet/tcp.ts";

// scapy: TCP(sport=40000, dport=443, flags="S", seq=1000, options=[("MSS",1460)])
const SYN = "9c4001bb000003e8000000006002ffff17640000020405b4";

Deno.test("tcp: deconstruct a SYN with MSS", () => {
  const b = fromHex(SYN)!;
  const v = parseTcp(b, 0, b.length) as TcpView;
  assert.deepEqual([v.srcPort, v.dstPort, v.seq, v.ack, v.headerLen], [40000, 443, 1000, 0, 24]);
  assert.deepEqual([v.flags, v.window, v.checksum, v.urgent, v.mss], [
    TCP_SYN,
    65535,
    0x1764,
    0,
    1460,
  ]);
});

Deno.test("tcp: construct from repr; options other than MSS stay raw", () => {
  const b = fromHex(SYN)!;
  const r = tcpRepr(parseTcp(b, 0, b.length) as TcpView);
  assert.deepEqual(r, {
    srcPort: 40000,
    dstPort: 443,
    seq: 1000,
    ack: 0,
    flags: TCP_SYN,
    window: 65535,
    urgent: 0,
    mss: 1460,
  });
  const out = new Uint8Array(tcpBufferLen(r));
  emitTcp(r, out, 0);
  assert.equal(toHex(out), SYN.replace("1764", "0000"));
  // NOP NOP SACK-permitted + window scale: 20 + 4 (MSS) + 7 → padded to 32.
  const opts = fromHex("0101040203030700")!.subarray(0, 7);
  const r2 = { srcPort: 1, dstPort: 2, flags: TCP_SYN, mss: 1400, options: opts };
  const o2 = new Uint8Array(tcpBufferLen(r2));
  emitTcp(r2, o2, 0);
  const v2 = parseTcp(o2, 0, o2.length) as TcpView;
  assert.deepEqual([v2.headerLen, v2.mss], [32, 1400]);
  assert.equal(toHex(v2.options), "020405780101040203030700");
});

Deno.test("tcp: flags text form", () => {
  assert.equal(parseTcpFlags("SA"), TCP_SYN | TCP_ACK);
  assert.equal(parseTcpFlags("pa"), TCP_PSH | TCP_ACK);
  assert.equal(parseTcpFlags("SX"), null);
  assert.equal(tcpFlagsToString(0x12), "SA");
  assert.equal(tcpFlagsToString(0xff), "FSRPAUEC");
});

Deno.test("tcp: bad data offset and malformed options", () => {
  const b = fromHex(SYN)!;
  assert.deepEqual(parseTcp(b, 0, 19), { kind: "truncated", at: "tcp", offset: 0 });
  b[12] = 0x40;
  assert.deepEqual(parseTcp(b, 0, b.length), {
    kind: "malformed",
    at: "tcp.data-offset",
    offset: 12,
  });
  b[12] = 0x70;
  assert.equal((parseTcp(b, 0, b.length) as { kind: string }).kind, "truncated");
  // An option whose length runs past the header yields no MSS rather than an overread.
  const c = fromHex(SYN)!;
  c[21] = 9;
  assert.equal((parseTcp(c, 0, c.length) as TcpView).mss, 0);
  c[21] = 0;
  assert.equal((parseTcp(c, 0, c.length) as TcpView).mss, 0);
});
