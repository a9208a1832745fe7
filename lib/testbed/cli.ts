// Manual driver: `deno run -A lib/testbed/cli.ts up kernel|switch [--ovs system|afxdp] [--keep]` builds the topology,
// runs its checks and tears it down (unless --keep, which prints the prefix for `down PREFIX`).

import { makePlan } from "./plan.ts";
import { OvsPeer, PortType, startOvsSleds } from "./ovs.ts";
import { teardown, up } from "./topology.ts";
import { formatResults, ovsChecks, verify } from "./verify.ts";

/** Entry point of the manual driver. */
export async function main(args: string[]): Promise<number> {
  const [verb, arg] = args;
  if (verb === "down" && arg) {
    await teardown(makePlan(arg));
    return 0;
  }
  if (verb !== "up" || (arg !== "kernel" && arg !== "switch")) {
    console.error("usage: cli.ts up kernel|switch [--ovs system|afxdp] [--keep] | down PREFIX");
    return 2;
  }
  const t0 = performance.now();
  const topo = await up({ mode: arg });
  console.log(`up ${topo.plan.prefix} (${arg}) in ${(performance.now() - t0).toFixed(0)} ms`);
  const ovsAt = args.indexOf("--ovs");
  let ovs: OvsPeer | undefined;
  try {
    if (ovsAt > 0) {
      const t1 = performance.now();
      ovs = await startOvsSleds(topo, { portType: args[ovsAt + 1] as PortType });
      console.log(`ovs up in ${(performance.now() - t1).toFixed(0)} ms`);
    }
    const res = await verify(topo, ovs ? ovsChecks(topo.plan) : undefined);
    if (res.length) console.log(formatResults(res));
    return res.every((r) => r.ok) ? 0 : 1;
  } finally {
    await ovs?.stop();
    if (args.includes("--keep")) console.log(`kept: cli.ts down ${topo.plan.prefix}`);
    else {
      const t1 = performance.now();
      await topo.down();
      console.log(`down in ${(performance.now() - t1).toFixed(0)} ms`);
    }
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
