// Switch under test: xdeno on both sleds of a switch-mode topology, one xdeno_runner.ts per sled
// reading the sled's config file (sled_config.ts, in stateDir), plus the OVS boundary peer
// carrying the external IPs. The default switch under test of the harness and the e2e tests.

import { startBoundary } from "./boundary.ts";
import { Background, run, spawn, waitFor } from "./exec.ts";
import type { OvsPeer } from "./ovs.ts";
import { stateDir } from "./plan.ts";
import { natEntries, sledConfig, toYaml } from "./sled_config.ts";
import { RunningSwitch, SwitchUnderTest } from "./sut.ts";
import { Topology } from "./topology.ts";

const RUNNER = new URL("./xdeno_runner.ts", import.meta.url).pathname;
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** The xdeno library switch, one runner process per sled. */
export const sut: SwitchUnderTest = {
  name: "xdeno",
  topology: { mode: "switch", boundary: "switch", vpcGateway: true },
  unavailable: () => Promise.resolve(undefined),
  async start(t: Topology): Promise<RunningSwitch> {
    const procs: Background[] = [];
    let boundary: OvsPeer | undefined;
    const stop = async () => {
      for (const p of procs) {
        const r = await p.stop("SIGTERM", 3000);
        if (r.code !== 0 && r.code !== 143) console.error(`xdeno runner: ${r.stderr.trim()}`);
        else if (Deno.env.get("XDENO_RUNNER_DEBUG")) console.error(r.stdout.trim());
      }
      await boundary?.stop();
    };
    try {
      const dir = stateDir(t.plan.prefix);
      await Deno.mkdir(dir, { recursive: true });
      const rx = Deno.env.get("XDENO_RUNNER_RX") === "mmsg" ? "mmsg" : "ring";
      for (const s of t.plan.sleds) {
        const file = `${dir}/xdeno-s${s.n}.yaml`;
        await Deno.writeTextFile(file, toYaml(sledConfig(t.plan, s)));
        // XDENO_TESTBED_SERVICE=1: the appliance (`xdeno run --config`) instead of the runner.
        const argv = Deno.env.get("XDENO_TESTBED_SERVICE")
          ? ["run", "-A", MAIN, "run", "--config", file, "--state-dir", `${dir}/state-s${s.n}`]
          : ["run", "-A", RUNNER, file, rx];
        procs.push(spawn([Deno.execPath(), ...argv], s.ns));
      }
      if (t.opts.boundary === "switch") {
        boundary = await startBoundary(t, { nat: natEntries(t.plan) });
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
