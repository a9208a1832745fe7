// Switch under test: xdeno's library switch on both sleds of a switch-mode topology, through
// xdeno_runner.ts (pass-through paths only until the VPC pipeline is wired: the overlay rows are
// skipped). Use: XDENO_BENCH_SUT=lib/testbed/xdeno_sut.ts deno task bench:e2e …

import { Background, run, spawn, waitFor } from "./exec.ts";
import { RACK_LL } from "./plan.ts";
import { RunningSwitch, SwitchUnderTest } from "./sut.ts";
import { Topology } from "./topology.ts";
import type { RunnerConfig } from "./xdeno_runner.ts";

const RUNNER = new URL("./xdeno_runner.ts", import.meta.url).pathname;

/** The xdeno library switch, one runner process per sled. */
export const sut: SwitchUnderTest = {
  name: "xdeno",
  topology: { mode: "switch" },
  supports: ["l2", "routed"],
  unavailable: () => Promise.resolve(undefined),
  async start(t: Topology): Promise<RunningSwitch> {
    const procs: Background[] = [];
    const stop = async () => {
      for (const p of procs) {
        const r = await p.stop("SIGTERM", 3000);
        if (r.code !== 0 && r.code !== 143) console.error(`xdeno runner: ${r.stderr.trim()}`);
      }
    };
    try {
      for (const s of t.plan.sleds) {
        const cfg: RunnerConfig = {
          sledAddress: s.host,
          hostMac: s.hostMac,
          underlayPrefix: "fd00::/16",
          rx: Deno.env.get("XDENO_RUNNER_RX") === "mmsg" ? "mmsg" : undefined,
          uplinks: s.uplinks.map((u) => ({ name: u.name, ll: u.ll, via: RACK_LL })),
          zones: s.zones.map((z, i) => ({
            name: `zone-${"abcdef"[i]}`,
            link: z.port,
            mac: z.mac,
            ip6: z.ip6,
          })),
        };
        procs.push(spawn([Deno.execPath(), "run", "-A", RUNNER, JSON.stringify(cfg)], s.ns));
      }
      // Forwarding when a zone reaches the other sled's host through both switches and a rack.
      const [s1, s2] = t.plan.sleds;
      const up = await waitFor(
        async () => {
          if (procs.some((p) => p.exited)) return true;
          const r = await run(["ping", "-6", "-c", "1", "-W", "1", s2.host], {
            ns: s1.zones[0].ns,
            check: false,
          });
          return r.code === 0;
        },
        20000,
        200,
      );
      const dead = procs.find((p) => p.exited);
      if (dead) throw new Error(`xdeno runner exited: ${(await dead.wait()).stderr.trim()}`);
      if (!up) throw new Error("xdeno runners started but zone-a cannot reach sled2's host");
      return { pids: () => Promise.resolve(procs.map((p) => p.pid)), stop };
    } catch (e) {
      await stop();
      throw e;
    }
  },
};
