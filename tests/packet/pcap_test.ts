import assert from "node:assert/strict";
import * as fc from "fast-check";
import { pcapFile, PcapWriter, readPcap, readPcapFile } from "../../lib/packet/pcap.ts";
import { fromHex, toHex } from "../../lib/packet/bytes.ts";
import { isParseError } from "../../lib/packet/error.ts";

Deno.test("pcap: writer emits the libpcap header and records byte for byte", () => {
  const chunks: Uint8Array[] = [];
  const w = new PcapWriter((c) => chunks.push(c), 96);
  assert.equal(toHex(chunks[0]), "d4c3b2a1020004000000000000000000" + "60000000" + "01000000");
  const frame = Uint8Array.from({ length: 200 }, (_, k) => k);
  w.writeFrame(frame, 10, 120, 1_700_000_000_123_456);
  assert.equal(chunks.length, 2);
  // ts 1700000000 s = 0x6553f100, 123456 us = 0x1e240, incl 96 (snaplen), orig 120.
  assert.equal(toHex(chunks[1].subarray(0, 16)), "00f15365" + "40e20100" + "60000000" + "78000000");
  assert.deepEqual(chunks[1].subarray(16), frame.subarray(10, 106));
  const before = Date.now() * 1000;
  w.writeFrame(frame, 0, 4);
  const rec = readPcap(new Uint8Array([...chunks[0], ...chunks[1], ...chunks[2]]));
  assert.ok(!isParseError(rec));
  assert.equal(rec.length, 2);
  assert.ok(Math.abs(rec[1].timeMicros - before) < 5_000_000, "default time is now");
  assert.equal(w.frames, 2);
});

Deno.test("pcap: reads big-endian and nanosecond files", () => {
  const be = fromHex(
    "a1b2c3d4000200040000000000000000" + "0000ffff" + "00000001" +
      "00000002" + "00000003" + "00000002" + "0000003c" + "abcd",
  )!;
  const f = readPcapFile(be);
  assert.ok(!isParseError(f));
  assert.equal(f.linkType, 1);
  assert.equal(f.snaplen, 65535);
  assert.equal(f.nanos, false);
  assert.deepEqual(f.records.map((r) => [r.timeMicros, r.origLen, toHex(r.data)]), [
    [2_000_003, 60, "abcd"],
  ]);
  const ns = fromHex(
    "4d3cb2a1020004000000000000000000" + "ffff0000" + "01000000" +
      "05000000" + "15cd5b07" + "01000000" + "01000000" + "ee",
  )!;
  const g = readPcapFile(ns);
  assert.ok(!isParseError(g));
  assert.equal(g.nanos, true);
  // 0x075bcd15 ns = 123456789 ns -> 123456 us.
  assert.equal(g.records[0].timeMicros, 5_123_456);
});

Deno.test("pcap: bad magic, pcapng and truncation are typed errors", () => {
  const good = pcapFile([Uint8Array.of(1, 2, 3), Uint8Array.of(4, 5)]);
  const back = readPcap(good);
  assert.ok(!isParseError(back));
  assert.deepEqual(back.map((r) => toHex(r.data)), ["010203", "0405"]);
  assert.deepEqual(readPcap(good.subarray(0, good.length - 1)), {
    kind: "truncated",
    at: "pcap.record",
    offset: 24 + 16 + 3,
  });
  assert.deepEqual(readPcap(good.subarray(0, good.length - 3)), {
    kind: "truncated",
    at: "pcap.record",
    offset: 24 + 16 + 3,
  });
  assert.deepEqual(readPcap(good.subarray(0, 10)), { kind: "truncated", at: "pcap", offset: 0 });
  assert.deepEqual(readPcap(new TextEncoder().encode("hello, this is not a pcap at all")), {
    kind: "malformed",
    at: "pcap",
    offset: 0,
  });
  const ng = fromHex("0a0d0d0a" + "00".repeat(24))!;
  assert.equal((readPcap(ng) as { kind: string }).kind, "unsupported");
  fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat(), (b, k) => {
    readPcap(b);
    const mut = good.slice();
    mut[k % mut.length] ^= b[0] ?? 0xff;
    readPcap(mut);
  }));
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 70 }), { maxLength: 10 }), (fs) => {
    const r = readPcap(pcapFile(fs));
    assert.ok(!isParseError(r));
    assert.deepEqual(r.map((x) => x.data), fs);
  }));
});
