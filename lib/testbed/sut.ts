// The "switch under test" hook: how the harness, the demo and the e2e tests start xdeno on a
// switch-mode topology. Until xdeno's Linux datapath can run, the default hook reports why it
// cannot, and the harness prints its rows as skipped with that reason.

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

/** The placeholder until xdeno's switch and Linux links land (phase 2 replaces it). */
export const xdenoPending: SwitchUnderTest = {
  name: "xdeno",
  topology: { mode: "switch" },
  unavailable: () =>
    Promise.resolve(
      "xdeno not yet runnable: no Linux datapath entry point yet (set XDENO_BENCH_SUT=<module " +
        "exporting `sut: SwitchUnderTest`> to plug one in)",
    ),
  start: () => Promise.reject(new Error("xdeno not yet runnable")),
};

/** True when `sut` carries `work` (every kind when it declares nothing). */
export function carries(sut: SwitchUnderTest, work: "l2" | "routed" | "overlay"): boolean {
  return !sut.supports || sut.supports.includes(work);
}

/** The hook in effect: `XDENO_BENCH_SUT` names a module exporting `sut`, else the placeholder. */
export async function loadSwitchUnderTest(): Promise<SwitchUnderTest> {
  const mod = Deno.env.get("XDENO_BENCH_SUT");
  if (!mod) return xdenoPending;
  const url = mod.startsWith("/") ? `file://${mod}` : new URL(mod, `file://${Deno.cwd()}/`).href;
  const m = await import(url) as { sut?: SwitchUnderTest };
  if (!m.sut) throw new Error(`XDENO_BENCH_SUT=${mod}: the module exports no \`sut\``);
  return m.sut;
}
