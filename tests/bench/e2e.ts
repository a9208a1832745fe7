// End-to-end benchmark harness (issues 9, 14): `deno task bench:e2e [--seconds N] [--rounds R]
// [--only id,...] [--modes best,raw] [--metrics tcp1,tcp4,pps,udp,ping,rr,cps] [--out FILE]`, as
// root. Every system runs in two modes in the same run: `best` (kernel with the zones' tx offload
// on, OVS netdev with userspace TSO, xdeno with its defaults) and `raw` (the zones' offload off).
// Without --metrics each mode measures what its targets need (report.ts MODE_METRICS). Rows:
// kernel (veth, bridge, routed, vxlan), OVS netdev (AF_PACKET / AF_XDP ports, L2 and Geneve) and
// xdeno (through the switch-under-test hook); ids carry the mode (`xdeno-geneve-best`). Rounds
// alternate the row order (A B … B A) to cancel drift; each figure is the median over rounds.
// Writes dist/bench/e2e.json: rows, and `ratios[]` per (work, mode, figure) with `better`.

import { parseArgs as parseFlags } from "node:util";
import { have, isRoot } from "../../lib/testbed/exec.ts";
import {
  connRate,
  cpuSeconds,
  latency,
  machineBusySeconds,
  settle,
  tcpThroughput,
  udpSearch,
} from "../../lib/testbed/measure.ts";
import { BenchPath, buildBeds } from "../../lib/testbed/paths.ts";
import { loadSwitchUnderTest } from "../../lib/testbed/sut.ts";
import {
  DEFAULT_METRICS,
  formatTable,
  Metric,
  METRICS,
  type Mode,
  MODE_METRICS,
  MODES,
  ratios,
  RowResult,
} from "../../lib/testbed/report.ts";
import { ppsCapacity } from "../../lib/testbed/traffic.ts";
import { requestResponse, RR_SIZES } from "../../lib/testbed/rr.ts";

interface Args {
  seconds: number;
  rounds: number;
  only?: string[];
  /** Metrics for every mode (--metrics), or undefined: each mode's own (MODE_METRICS). */
  metrics?: Metric[];
  modes: Mode[];
  out: string;
}

const USAGE = `usage: deno task bench:e2e [--seconds N] [--rounds R] [--only id,...]
       [--modes best,raw] [--metrics tcp1,tcp4,pps,udp,ping,rr,cps] [--out FILE]
  --seconds  seconds per measurement (10; 3 for a quick run)
  --rounds   rounds per row, alternating the row order (3 from 10 s up, else 1)
  --only     run only these row ids (e.g. xdeno-geneve-best,kernel-vxlan-best)
  --modes    best (each system at its best) and/or raw (zones' offload off)
  --metrics  what to measure in every mode (default: what each mode's targets need)
  --out      JSON report (dist/bench/e2e.json)
Runs as root: it builds network namespaces and measures kernel, Open vSwitch and xdeno paths.`;

/** The harness's flags (node:util parseArgs); undefined after --help. */
function parseArgs(argv: string[]): Args | undefined {
  const { values: v } = parseFlags({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      seconds: { type: "string" },
      rounds: { type: "string" },
      only: { type: "string" },
      modes: { type: "string" },
      metrics: { type: "string" },
      out: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (v.help) return undefined;
  const seconds = Number(v.seconds ?? 10);
  if (!(seconds >= 1)) throw new Error(`--seconds ${v.seconds}: expected a number ≥ 1`);
  // A quick run must fit in 4 minutes: one round below 10 s, three (for medians) otherwise.
  const rounds = Number(v.rounds ?? (seconds >= 10 ? 3 : 1));
  if (!(rounds >= 1)) throw new Error(`--rounds ${v.rounds}: expected a number ≥ 1`);
  const metrics = v.metrics?.split(",") as Metric[] | undefined;
  for (const m of metrics ?? []) {
    if (!METRICS.includes(m)) {
      throw new Error(`--metrics: unknown "${m}" (expected ${DEFAULT_METRICS})`);
    }
  }
  const modes = (v.modes?.split(",") ?? [...MODES]) as Mode[];
  for (const m of modes) {
    if (!MODES.includes(m)) throw new Error(`--modes: unknown "${m}" (expected ${MODES})`);
  }
  return {
    seconds,
    rounds,
    only: v.only?.split(","),
    metrics,
    modes,
    out: v.out ?? "dist/bench/e2e.json",
  };
}

async function measureRow(p: BenchPath, a: Args, into: RowResult): Promise<void> {
  const act = await p.activate();
  const metrics = a.metrics ?? MODE_METRICS[p.mode];
  try {
    const pids = await act.pids();
    const push = (k: string, v: number) => (into.runs[k] ??= []).push(v);
    if (metrics.includes("tcp1")) {
      const c0 = cpuSeconds(pids), m0 = machineBusySeconds();
      const r = await tcpThroughput(p.ep, a.seconds, 1);
      const gb = r.bytes / 1e9;
      push("tcp1Gbps", r.gbps);
      push("tcp1Retransmits", r.retransmits);
      if (pids.length) push("cpuSwitchSecPerGB", (cpuSeconds(pids) - c0) / gb);
      push("cpuMachineSecPerGB", (machineBusySeconds() - m0) / gb);
      await settle();
    }
    if (metrics.includes("tcp4")) {
      push("tcp4Gbps", (await tcpThroughput(p.ep, a.seconds, 4)).gbps);
      await settle();
    }
    if (metrics.includes("pps")) {
      const u = await ppsCapacity(p.ep, Math.max(1, Math.round(a.seconds / 3)));
      push("ppsKpps", u.rxPps / 1000);
      push("ppsTxKpps", u.txPps / 1000);
      push("ppsLossPct", u.lossPct);
      await settle();
    }
    if (metrics.includes("udp")) {
      // Quick runs search with one step fewer to stay within their time budget.
      const trials = a.seconds >= 5 ? 3 : 2;
      const u = await udpSearch(p.ep, Math.max(1, Math.round(a.seconds / 3)), trials);
      push("udp64Kpps", u.rxPps / 1000);
      push("udp64LossPct", u.lossPct);
      await settle();
    }
    if (metrics.includes("ping")) {
      const l = await latency(p.ep, Math.min(1000, 250 * a.seconds));
      push("rttMedianUs", l.medianMs * 1000);
      push("rttP99Us", l.p99Ms * 1000);
    }
    if (metrics.includes("rr")) {
      // Quick runs: 2 s per size (the first 10 % is warm-up).
      const secs = Math.max(2, Math.round(a.seconds * 2 / 3));
      for (const [name, bytes] of Object.entries(RR_SIZES)) {
        const key = name === "small" ? "rrSmall" : "rr1k";
        const r = await requestResponse(p.ep, secs, bytes);
        push(`${key}Tps`, r.tps);
        push(`${key}P50Us`, r.p50Us);
        push(`${key}P99Us`, r.p99Us);
      }
      await settle();
    }
    if (metrics.includes("cps")) {
      push("connPerSec", await connRate(p.ep, a.seconds));
      await settle();
    }
  } finally {
    await act.deactivate();
  }
}

async function main(): Promise<number> {
  let a: Args | undefined;
  try {
    a = parseArgs(Deno.args);
  } catch (e) {
    console.error(`bench:e2e: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (a === undefined) {
    console.log(USAGE);
    return 0;
  }
  if (!isRoot()) {
    console.error("bench:e2e: needs root (network namespaces, OVS); run it as root");
    return 1;
  }
  for (const tool of ["ip", "iperf3", "ping", "gcc", "ethtool", "trafgen"]) {
    if (!await have(tool)) {
      console.error(`bench:e2e: ${tool} is missing (run tests/setup.sh as root)`);
      return 1;
    }
  }
  const t0 = performance.now();
  const sut = await loadSwitchUnderTest();
  const beds = await buildBeds(sut, await have("ovs-vswitchd"));
  // Ctrl-C must not leave namespaces and OVS daemons behind.
  const onInt = () => {
    console.error("[bench:e2e] interrupted: tearing down");
    beds.down().finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onInt);
  const results: RowResult[] = [];
  try {
    const rows = beds.paths.filter((p) =>
      a.modes.includes(p.mode) && (!a.only || a.only.includes(p.id))
    );
    for (const p of rows) {
      results.push({
        id: p.id,
        label: p.label,
        group: p.group,
        work: p.work,
        mode: p.mode,
        status: "ok",
        runs: {},
      });
      if (p.skip) Object.assign(results.at(-1)!, { status: "skipped", reason: p.skip });
    }
    for (let r = 0; r < a.rounds; r++) {
      const order = r % 2 === 0 ? rows : [...rows].reverse();
      for (const p of order) {
        const res = results.find((x) => x.id === p.id)!;
        if (res.status !== "ok") continue;
        const ts = performance.now();
        try {
          await measureRow(p, a, res);
          console.error(
            `[bench:e2e] round ${r + 1}/${a.rounds} ${p.id}: ${
              ((performance.now() - ts) / 1000).toFixed(1)
            } s`,
          );
        } catch (e) {
          Object.assign(res, { status: "error", reason: (e as Error).message.split("\n")[0] });
          console.error(`[bench:e2e] ${p.id}: ${(e as Error).message}`);
        }
      }
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onInt);
    await beds.down();
  }
  const elapsed = (performance.now() - t0) / 1000;
  const report = {
    meta: {
      date: new Date().toISOString(),
      cores: navigator.hardwareConcurrency,
      kernel: Deno.osRelease(),
      loadavg: Deno.loadavg(),
      switchUnderTest: Deno.env.get("XDENO_BENCH_SUT") ?? sut.name,
      seconds: a.seconds,
      rounds: a.rounds,
      elapsedSeconds: Math.round(elapsed),
      modes: a.modes,
      note: "2 shared vCPUs: client, server and switch share the cores with other work; " +
        "best: zones' tx offload on (OVS: userspace TSO), raw: off (complete checksums, no " +
        "TSO); RR = lib/testbed/rr.c TCP request/response, full round trips, 1 B and 1 KB",
    },
    rows: results,
    ratios: ratios(results),
  };
  await Deno.mkdir(a.out.replace(/\/[^/]*$/, ""), { recursive: true });
  await Deno.writeTextFile(a.out, JSON.stringify(report, null, 2) + "\n");
  console.log(formatTable(results, report.ratios));
  console.log(
    `\n${a.rounds} round(s) × ${a.seconds} s, ${elapsed.toFixed(0)} s total; wrote ${a.out}`,
  );
  return results.some((r) => r.status === "error") ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
