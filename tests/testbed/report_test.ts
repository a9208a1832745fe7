import assert from "node:assert/strict";
import { formatTable, median, ratios, RowResult } from "../../lib/testbed/report.ts";
import { parseRr } from "../../lib/testbed/rr.ts";

function row(
  id: string,
  group: RowResult["group"],
  work: RowResult["work"],
  runs: Record<string, number[]>,
  mode: RowResult["mode"] = "raw",
): RowResult {
  return { id, label: id, group, work, mode, status: "ok", runs };
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
  assert.match(lines[2], /^kernel-bridge\s+6\.00(\s+–){10}\s+40000\s/);
  assert.match(text, /xdeno-geneve\s+skipped: not yet runnable/);
  assert.match(text, /l2\s+raw\s+tcp1Gbps\s+×OVS\s+–\s+×kernel\s+0\.50\s+\(higher is better\)/);
  const widths = new Set(lines.slice(0, 4).map((l) => l.length));
  assert.equal(widths.size, 1, "header, rule and rows are the same width");
});

Deno.test("ratios: one entry per (work, mode, figure) measured, modes never mixed, `better` set", () => {
  const rows: RowResult[] = [
    row("kernel-vxlan-raw", "kernel", "overlay", { tcp1Gbps: [3], rttP99Us: [20] }),
    row("kernel-vxlan-best", "kernel", "overlay", { tcp1Gbps: [16], rrSmallTps: [40000] }, "best"),
    row("xdeno-geneve-raw", "xdeno", "overlay", { tcp1Gbps: [1.5], rttP99Us: [50] }),
    row("xdeno-geneve-best", "xdeno", "overlay", { tcp1Gbps: [8], rrSmallTps: [10000] }, "best"),
    row("ovs-system-geneve-raw", "ovs", "overlay", { tcp1Gbps: [0.75] }),
    { ...row("ovs-system-geneve-best", "ovs", "overlay", {}, "best"), status: "skipped" },
  ];
  const rs = ratios(rows);
  const keys = rs.map((r) => `${r.work}/${r.mode}/${r.figure}`).sort();
  assert.deepEqual(keys, [
    "overlay/best/rrSmallTps",
    "overlay/best/tcp1Gbps",
    "overlay/raw/rttP99Us",
    "overlay/raw/tcp1Gbps",
  ]);
  const get = (mode: string, figure: string) =>
    rs.find((r) => r.work === "overlay" && r.mode === mode && r.figure === figure)!;
  // Best against best, raw against raw.
  assert.deepEqual(
    { ...get("best", "tcp1Gbps") },
    {
      work: "overlay",
      mode: "best",
      figure: "tcp1Gbps",
      better: "higher",
      xdeno: 8,
      ovs: null,
      ovsRow: null,
      kernel: 16,
      kernelRow: "kernel-vxlan-best",
      xdenoOverOvs: null,
      xdenoOverKernel: 0.5,
    },
  );
  assert.equal(get("raw", "tcp1Gbps").xdenoOverOvs, 2);
  assert.equal(get("raw", "tcp1Gbps").kernelRow, "kernel-vxlan-raw");
  assert.equal(get("raw", "rttP99Us").better, "lower");
  assert.equal(get("raw", "rttP99Us").xdenoOverKernel, 2.5);
  assert.equal(get("best", "rrSmallTps").better, "higher");
  assert.equal(get("best", "rrSmallTps").xdenoOverKernel, 0.25);
  // The JSON contract: every entry carries exactly these keys.
  for (const r of rs) {
    assert.deepEqual(Object.keys(r).sort(), [
      "better",
      "figure",
      "kernel",
      "kernelRow",
      "mode",
      "ovs",
      "ovsRow",
      "work",
      "xdeno",
      "xdenoOverKernel",
      "xdenoOverOvs",
    ]);
  }
});

Deno.test("rr: transactions/s and round-trip percentiles from the probe's line", () => {
  const r = parseRr('{"transactions":95974,"seconds":1.800009,"p50us":17.30,"p99us":49.59}\n');
  assert.equal(r.tps.toFixed(0), "53319"); // 95974 / 1.800009
  assert.equal(r.p50Us, 17.3);
  assert.equal(r.p99Us, 49.59);
  assert.throws(() => parseRr("connect: Connection refused\n"), /rr: no result/);
  assert.throws(() => parseRr('{"transactions":0,"seconds":0,"p50us":0,"p99us":0}'), /empty/);
});
