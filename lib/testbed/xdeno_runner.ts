// xdeno for one sled of the test bed through the product's own composition (lib/runtime's
// SwitchDatapath, the config's resources applied as the service applies them), with one
// difference: the ports are the switch ends of the zones' and VMs' veths (packet sockets, the
// Linux platform's `portDevices`), where the service creates TAPs. The host port xde0 is a TAP.
//   ip netns exec <sled> deno run -A lib/testbed/xdeno_runner.ts <config.yaml> [ring|mmsg]
// Stops on SIGTERM/SIGINT, closing every link (the TAP disappears with it), and prints its
// counters. xdeno_sut.ts runs the service (`xdeno run --config`) on the same file by default.

import { parseConfigText } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { diffStates, emptyState, stateFromConfig } from "../config/resources.ts";
import { linuxPlatform } from "../runtime/platform.ts";
import { SwitchDatapath } from "../runtime/runtime.ts";
import { setBusyPollUs } from "../link/spin.ts";

/** Builds the switch from `cfg` the way the service does, runs it until a signal, then closes. */
export async function runSled(cfg: Config, rx?: "ring" | "mmsg"): Promise<void> {
  const dp = new SwitchDatapath(cfg, await linuxPlatform({ rx, portDevices: true }));
  setBusyPollUs(cfg.datapath.busyPollUs);
  try {
    for (const c of diffStates(emptyState(), stateFromConfig(cfg))) dp.applyNow(c);
    const stop = { stopped: false };
    const halt = () => stop.stopped = true;
    Deno.addSignalListener("SIGTERM", halt);
    Deno.addSignalListener("SIGINT", halt);
    console.log("xdeno-runner: forwarding");
    await dp.start(stop);
    console.log(`xdeno-runner: stopped ${JSON.stringify(dp.sw.counters)}`);
    console.log(`xdeno-runner: pipeline ${JSON.stringify(Object.fromEntries(dp.sw.ov.reasons))}`);
  } finally {
    await dp.close();
  }
}

if (import.meta.main) {
  const file = Deno.args[0];
  const r = parseConfigText(await Deno.readTextFile(file));
  if (!r.ok) {
    for (const p of r.problems) console.error(`${file}: ${p.path}: ${p.message}`);
    Deno.exit(2);
  }
  const rx = Deno.args[1] === "mmsg" ? "mmsg" : undefined;
  await runSled(r.config, rx);
}
