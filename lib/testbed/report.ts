// Benchmark results: per-row runs, medians, the xdeno/peer ratios and the printed table.

/** Metric groups the harness can run. */
export const METRICS = ["tcp1", "tcp4", "pps", "udp", "ping", "rr", "cps"] as const;
/** What runs without --metrics (all of them). */
export const DEFAULT_METRICS = METRICS;
/**
 * How each system is set up: `best` with its offloads (kernel: zone tx offload on; OVS: userspace
 * TSO; xdeno: its defaults, zone offload on), `raw` with the zones' offload off.
 */
export const MODES = ["best", "raw"] as const;
/** One mode. */
export type Mode = typeof MODES[number];
/** What each mode measures without --metrics: its targets (issue 14) and no more. */
export const MODE_METRICS: Record<Mode, readonly Metric[]> = {
  best: ["tcp1", "tcp4", "ping", "rr", "cps"],
  raw: ["tcp1", "pps", "udp"],
};
/** One metric group. */
export type Metric = typeof METRICS[number];

/** One row's outcome: every run of every figure, keyed by figure name. */
export interface RowResult {
  id: string;
  label: string;
  group: "kernel" | "ovs" | "xdeno";
  work: "direct" | "l2" | "routed" | "overlay";
  mode: Mode;
  status: "ok" | "skipped" | "error";
  reason?: string;
  runs: Record<string, number[]>;
  median?: Record<string, number>;
}

/** xdeno's figure over the best peer's for the same work in the same mode. */
export interface Ratio {
  work: string;
  mode: Mode;
  figure: string;
  /** Which way is good for this figure (ratios of latency and CPU cost want < 1). */
  better: "higher" | "lower";
  xdeno: number | null;
  ovs: number | null;
  ovsRow: string | null;
  kernel: number | null;
  kernelRow: string | null;
  xdenoOverOvs: number | null;
  xdenoOverKernel: number | null;
}

/** Median of a list (NaN when empty). */
export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Figures where smaller is better (latency, CPU cost). */
const LOWER_IS_BETTER = new Set([
  "rttMedianUs",
  "rttP99Us",
  "rrSmallP50Us",
  "rrSmallP99Us",
  "rr1kP50Us",
  "rr1kP99Us",
  "cpuSwitchSecPerGB",
  "cpuMachineSecPerGB",
]);
/** Figures compared across systems, in print order. */
export const RATIO_FIGURES = [
  "tcp1Gbps",
  "tcp4Gbps",
  "ppsKpps",
  "udp64Kpps",
  "rttMedianUs",
  "rttP99Us",
  "rrSmallTps",
  "rrSmallP50Us",
  "rrSmallP99Us",
  "rr1kTps",
  "rr1kP50Us",
  "rr1kP99Us",
  "connPerSec",
  "cpuMachineSecPerGB",
];

/** Fills `median` of every row from its runs. */
export function summarize(rows: RowResult[]): void {
  for (const r of rows) {
    r.median = Object.fromEntries(Object.entries(r.runs).map(([k, v]) => [k, median(v)]));
  }
}

function best(rows: RowResult[], figure: string): RowResult | undefined {
  const ok = rows.filter((r) => r.status === "ok" && Number.isFinite(r.median?.[figure]));
  const sign = LOWER_IS_BETTER.has(figure) ? -1 : 1;
  return ok.sort((a, b) => sign * (b.median![figure] - a.median![figure]))[0];
}

/**
 * For each work xdeno does, each mode and each figure any system measured there: xdeno's
 * median against the best OVS row and the kernel row doing the same work in the same mode
 * (kernel bridge for L2, routed for underlay, vxlan for overlay). Pure: reads `rows` (and fills
 * their medians), nothing else.
 */
export function ratios(rows: RowResult[]): Ratio[] {
  summarize(rows);
  const out: Ratio[] = [];
  for (const work of ["l2", "routed", "overlay"] as const) {
    for (const mode of MODES) {
      const same = rows.filter((r) => r.work === work && r.mode === mode);
      for (const figure of RATIO_FIGURES) {
        const x = best(same.filter((r) => r.group === "xdeno"), figure);
        const o = best(same.filter((r) => r.group === "ovs"), figure);
        const k = best(same.filter((r) => r.group === "kernel"), figure);
        if (!x && !o && !k) continue;
        const v = (r?: RowResult) => r ? r.median![figure] : null;
        const div = (a: number | null, b: number | null) => a !== null && b ? a / b : null;
        out.push({
          work,
          mode,
          figure,
          better: LOWER_IS_BETTER.has(figure) ? "lower" : "higher",
          xdeno: v(x),
          ovs: v(o),
          ovsRow: o?.id ?? null,
          kernel: v(k),
          kernelRow: k?.id ?? null,
          xdenoOverOvs: div(v(x), v(o)),
          xdenoOverKernel: div(v(x), v(k)),
        });
      }
    }
  }
  return out;
}

const COLS: [string, string, number][] = [
  ["tcp1Gbps", "TCP×1 Gb/s", 2],
  ["tcp4Gbps", "TCP×4 Gb/s", 2],
  ["udp64Kpps", "UDP64 <1% kpps", 0],
  ["ppsKpps", "trafgen kpps", 0],
  ["rttMedianUs", "RTT p50 µs", 0],
  ["rttP99Us", "RTT p99 µs", 0],
  ["rrSmallTps", "RR1B tx/s", 0],
  ["rrSmallP50Us", "RR1B p50", 0],
  ["rrSmallP99Us", "RR1B p99", 0],
  ["rr1kTps", "RR1k tx/s", 0],
  ["rr1kP99Us", "RR1k p99", 0],
  ["connPerSec", "conn/s", 0],
  ["cpuSwitchSecPerGB", "sw CPU s/GB", 2],
  ["cpuMachineSecPerGB", "all CPU s/GB", 2],
];

/** The results as an aligned text table, skipped rows with their reason, then the ratios. */
export function formatTable(rows: RowResult[], rs: Ratio[]): string {
  summarize(rows);
  const head = ["path", ...COLS.map((c) => c[1])];
  const body = rows.filter((r) => r.status === "ok").map((r) => [
    r.label,
    ...COLS.map(([k, , d]) => {
      const v = r.median?.[k];
      return v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(d);
    }),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => i === 0 ? c.padEnd(w[i]) : c.padStart(w[i])).join("  ");
  const lines = [line(head), w.map((n) => "─".repeat(n)).join("  "), ...body.map(line)];
  for (const r of rows.filter((r) => r.status !== "ok")) {
    lines.push(`${r.label.padEnd(w[0])}  ${r.status}: ${r.reason ?? ""}`);
  }
  const have = rs.filter((r) => r.xdenoOverOvs !== null || r.xdenoOverKernel !== null);
  if (have.length) {
    lines.push("", "xdeno ratios (same work, same mode; RR1B = 1-byte request/response):");
    for (const r of have) {
      const f = (x: number | null) => x === null ? "–" : x.toFixed(2);
      lines.push(
        `  ${r.work.padEnd(8)} ${r.mode.padEnd(4)} ${r.figure.padEnd(18)} ×OVS ${
          f(r.xdenoOverOvs).padStart(5)
        }  ×kernel ${f(r.xdenoOverKernel).padStart(5)}  (${r.better} is better)`,
      );
    }
  } else lines.push("", "xdeno ratios: none (no xdeno row ran)");
  return lines.join("\n");
}
