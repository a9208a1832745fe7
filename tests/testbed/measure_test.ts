import assert from "node:assert/strict";
import {
  cpuSeconds,
  machineBusySeconds,
  parseIperfTcp,
  parseIperfUdp,
  parsePing,
} from "../../lib/testbed/measure.ts";

// Trimmed from real iperf3 3.12 -J reports taken on the test bed.
const TCP = JSON.stringify({
  intervals: [{ sum: { bits_per_second: 9e9 } }, { sum: { bits_per_second: 8.5e9 } }],
  end: {
    sum_sent: {
      seconds: 1.001948,
      bytes: 1056964608,
      bits_per_second: 8439277152.1,
      retransmits: 1582,
    },
    sum_received: { seconds: 1.002, bytes: 1056964608, bits_per_second: 8438839185.6 },
  },
});
const UDP = JSON.stringify({
  end: {
    sum: { seconds: 1.000106, packets: 524240, lost_packets: 27549, lost_percent: 5.255 },
    sum_sent: { seconds: 1.000019, packets: 524240, lost_packets: 0 },
    sum_received: { seconds: 1.000106, packets: 524236, lost_packets: 27549 },
  },
});

Deno.test("iperf3 TCP report: receiver Gbps, bytes and sender retransmits", () => {
  const r = parseIperfTcp(TCP);
  assert.equal(r.gbps.toFixed(6), "8.438839");
  assert.equal(r.bytes, 1056964608);
  assert.equal(r.retransmits, 1582);
  assert.equal(r.seconds, 1.002);
  assert.equal(r.lastIntervalGbps, 8.5);
});

Deno.test("iperf3 UDP report: received pps net of loss, loss percent from the receiver", () => {
  const r = parseIperfUdp(UDP, 250000);
  assert.equal(r.offeredPps, 250000);
  assert.equal(Math.round(r.rxPps), Math.round((524236 - 27549) / 1.000106));
  assert.equal(Math.round(r.txPps), Math.round(524240 / 1.000019));
  assert.equal(r.lossPct.toFixed(3), ((100 * 27549) / 524236).toFixed(3));
});

Deno.test("iperf3 error reports are thrown with their message", () => {
  assert.throws(() => parseIperfTcp(JSON.stringify({ error: "unable to connect" })), /unable/);
});

Deno.test("ping output: median and p99 of time= values, counts", () => {
  const lines = [0.039, 0.007, 0.004, 0.004, 0.005, 0.010].map((t, i) =>
    `64 bytes from fd00:1::11: icmp_seq=${i + 1} ttl=64 time=${t} ms`
  );
  const out = `PING x\n${lines.join("\n")}\n\n--- x ---\n7 packets transmitted, 6 received\n`;
  const r = parsePing(out);
  assert.equal(r.sent, 7);
  assert.equal(r.received, 6);
  assert.equal(r.medianMs, (0.005 + 0.007) / 2);
  assert.equal(r.p99Ms, 0.039);
  assert.ok(Number.isNaN(parsePing("").medianMs));
});

Deno.test("CPU accounting: own process time grows with work, unknown pid counts 0", () => {
  const before = cpuSeconds([Deno.pid]);
  const busy0 = machineBusySeconds();
  // Spin until this process has used 0.1 s of CPU (bounded in wall time): on a loaded 2-core
  // machine a fixed wall-clock spin may get too little CPU to measure.
  const deadline = performance.now() + 10_000;
  let x = 0;
  while (cpuSeconds([Deno.pid]) - before < 0.1 && performance.now() < deadline) {
    for (let i = 0; i < 100_000; i++) x += Math.sqrt(x + 1);
  }
  assert.ok(x > 0);
  assert.ok(cpuSeconds([Deno.pid]) - before >= 0.05);
  assert.ok(machineBusySeconds() - busy0 >= 0.05);
  assert.equal(cpuSeconds([2 ** 22 + 12345]), 0);
});
