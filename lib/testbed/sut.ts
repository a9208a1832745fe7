// The "switch under test" hook: how the harness, the demo and the e2e tests start xdeno on a
// switch-mode topology. The default is xdeno (xdeno_sut.ts); XDENO_BENCH_SUT picks another.

import { Topology, TopologyOptions } from "./topology.ts";

/** A switch running on a topology. */
export interface RunningSwitch {
  /** Process ids whose CPU time is the switch's (for CPU s/GB). */
  pids(): Promise<number[]>;
  /** Stops the switch and removes what it created. */
  stop(): Promise<void>;
}

/** A switch implementation the test bed can start. */
export interface SwitchUnderTest {
  name: string;
  /** Which rows it can carry (all when absent); the others are skipped with a reason. */
  supports?: ("l2" | "routed" | "overlay")[];
  /** Overlay traffic crosses the underlay as Geneve (default true; the kernel stand-in: vxlan). */
  geneve?: boolean;
  /** Topology it plugs into (switch mode; with or without zone veths / host TAP). */
  topology: TopologyOptions;
  /** Why it cannot run here, or undefined when it can. */
  unavailable(): Promise<string | undefined>;
  /** Starts it on `topo` (built from `topology`) and returns once it forwards. */
  start(topo: Topology): Promise<RunningSwitch>;
}

/** True when `sut` carries `work` (every kind when it declares nothing). */
export function carries(sut: SwitchUnderTest, work: "l2" | "routed" | "overlay"): boolean {
  return !sut.supports || sut.supports.includes(work);
}

/** The hook in effect: `XDENO_BENCH_SUT` names a module exporting `sut`, else xdeno itself. */
export async function loadSwitchUnderTest(): Promise<SwitchUnderTest> {
  const mod = Deno.env.get("XDENO_BENCH_SUT");
  if (!mod) return (await import("./xdeno_sut.ts")).sut;
  const url = mod.startsWith("/") ? `file://${mod}` : new URL(mod, `file://${Deno.cwd()}/`).href;
  const m = await import(url) as { sut?: SwitchUnderTest };
  if (!m.sut) throw new Error(`XDENO_BENCH_SUT=${mod}: the module exports no \`sut\``);
  return m.sut;
}
