import assert from "node:assert/strict";
import { formatTable, median, ratios, RowResult } from "../../lib/testbed/report.ts";

function row(
  id: string,
  group: RowResult["group"],
  work: RowResult["work"],
  runs: Record<string, number[]>,
): RowResult {
  return { id, label: id, group, work, status: "ok", runs };
}

Deno.test("median: odd, even, empty, non-finite ignored", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  assert.equal(median([NaN, 5]), 5);
});

Deno.test("ratios: xdeno against the best OVS row and the kernel row of the same work", () => {
  const rows = [
    row("kernel-bridge", "kernel", "l2", { tcp1Gbps: [5, 6, 7], rttMedianUs: [3] }),
    row("ovs-system-l2", "ovs", "l2", { tcp1Gbps: [0.8, 0.7, 0.9], rttMedianUs: [70] }),
    row("ovs-afxdp-l2", "ovs", "l2", { tcp1Gbps: [1.1, 1.2, 1.0], rttMedianUs: [10] }),
    row("xdeno-l2", "xdeno", "l2", { tcp1Gbps: [3.3, 3.0, 3.6], rttMedianUs: [20] }),
    row("kernel-vxlan", "kernel", "overlay", { tcp1Gbps: [3.2] }),
  ];
  const rs = ratios(rows);
  const tcp = rs.find((r) => r.work === "l2" && r.figure === "tcp1Gbps")!;
  assert.equal(tcp.xdeno, 3.3);
  assert.equal(tcp.ovsRow, "ovs-afxdp-l2");
  assert.equal(tcp.ovs, 1.1);
  assert.equal(tcp.xdenoOverOvs!.toFixed(3), (3.3 / 1.1).toFixed(3));
  assert.equal(tcp.kernelRow, "kernel-bridge");
  assert.equal(tcp.xdenoOverKernel!.toFixed(3), (3.3 / 6).toFixed(3));
  // Latency: the best peer is the lowest.
  const rtt = rs.find((r) => r.work === "l2" && r.figure === "rttMedianUs")!;
  assert.equal(rtt.ovsRow, "ovs-afxdp-l2");
  assert.equal(rtt.xdenoOverOvs, 2);
  // No xdeno overlay row: ratio is null, peers still reported.
  const ov = rs.find((r) => r.work === "overlay" && r.figure === "tcp1Gbps")!;
  assert.equal(ov.xdeno, null);
  assert.equal(ov.kernel, 3.2);
  assert.equal(ov.xdenoOverKernel, null);
});

Deno.test("table: medians aligned, skipped rows with their reason, ratios listed", () => {
  const rows: RowResult[] = [
    row("kernel-bridge", "kernel", "l2", { tcp1Gbps: [5, 7, 6], connPerSec: [40000.4] }),
    row("xdeno-l2", "xdeno", "l2", { tcp1Gbps: [3] }),
    {
      ...row("xdeno-geneve", "xdeno", "overlay", {}),
      status: "skipped",
      reason: "not yet runnable",
    },
  ];
  const text = formatTable(rows, ratios(rows));
  const lines = text.split("\n");
  assert.match(lines[0], /^path\s+TCP×1 Gb\/s\s+TCP×4 Gb\/s\s+UDP64 <1% kpps\s+trafgen kpps/);
  assert.match(lines[2], /^kernel-bridge\s+6\.00(\s+–){5}\s+40000\s/);
  assert.match(text, /xdeno-geneve\s+skipped: not yet runnable/);
  assert.match(text, /l2\s+tcp1Gbps\s+×OVS –\s+×kernel 0\.50/);
  const widths = new Set(lines.slice(0, 4).map((l) => l.length));
  assert.equal(widths.size, 1, "header, rule and rows are the same width");
});
