// Switch under test: xdeno on both sleds of a switch-mode topology — by default the service
// itself (`xdeno run --config FILE --platform linux`, one per sled namespace, creating the
// zones' and VMs' TAPs in their namespaces), plus the OVS boundary peer carrying the external
// IPs. XDENO_TESTBED_RUNNER=1 runs the library runner (xdeno_runner.ts on veth port links)
// instead. The default switch under test of the harness, the demo and the e2e tests.

import { startBoundary } from "./boundary.ts";
import { Background, run, spawn, waitFor } from "./exec.ts";
import type { OvsPeer } from "./ovs.ts";
import { stateDir } from "./plan.ts";
import { natEntries, sledConfig, toYaml } from "./sled_config.ts";
import { RunningSwitch, SwitchUnderTest } from "./sut.ts";
import { adoptSwitchPorts, Topology } from "./topology.ts";

const RUNNER = new URL("./xdeno_runner.ts", import.meta.url).pathname;
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** True unless XDENO_TESTBED_RUNNER=1 asks for the library runner. */
export const SERVICE = !Deno.env.get("XDENO_TESTBED_RUNNER");

/** XDENO_BENCH_WORKERS=n: the services run n datapath workers (default: the config's 1). */
const WORKERS = Number(Deno.env.get("XDENO_BENCH_WORKERS") ?? 0) || undefined;

/** Admin API address of sled `n`'s service (loopback inside the sled's namespace). */
export function adminUrl(n: number): string {
  return `http://127.0.0.1:${7070 + n}`;
}

/** The xdeno service (or library runner), one process per sled. */
export const sut: SwitchUnderTest = {
  name: "xdeno",
  topology: { mode: "switch", boundary: "switch", vpcGateway: true, portLinks: !SERVICE },
  unavailable: () => Promise.resolve(undefined),
  async start(t: Topology): Promise<RunningSwitch> {
    const procs: Background[] = [];
    let boundary: OvsPeer | undefined;
    const stop = async () => {
      for (const p of procs) {
        const r = await p.stop("SIGTERM", 5000);
        if (r.code !== 0 && r.code !== 143) console.error(`xdeno: ${r.stderr.trim()}`);
        else if (Deno.env.get("XDENO_RUNNER_DEBUG")) console.error(r.stdout.trim());
      }
      await boundary?.stop();
      if (SERVICE && procs.length === t.plan.sleds.length) await tapsGone(t);
    };
    try {
      const dir = stateDir(t.plan.prefix);
      await Deno.mkdir(dir, { recursive: true });
      const rx = Deno.env.get("XDENO_RUNNER_RX") === "mmsg" ? "mmsg" : "ring";
      for (const s of t.plan.sleds) {
        const file = `${dir}/xdeno-s${s.n}.yaml`;
        const cfg = sledConfig(t.plan, s, { zones: SERVICE, workers: WORKERS });
        await Deno.writeTextFile(file, toYaml(cfg));
        const state = `${dir}/state-s${s.n}`;
        const argv = SERVICE
          ? ["run", "-A", MAIN, "run", "--config", file, "--platform", "linux"]
            .concat(["--state-dir", state, "--listen", adminUrl(s.n).slice(7)])
          : ["run", "-A", RUNNER, file, rx];
        procs.push(spawn([Deno.execPath(), ...argv], s.ns));
      }
      if (t.opts.boundary === "switch") {
        boundary = await startBoundary(t, { nat: natEntries(t.plan) });
      }
      // Forwarding when a zone reaches the other sled's host through both switches and a rack.
      const [s1, s2] = t.plan.sleds;
      const zoneReaches = (what: string) =>
        waitFor(
          async () => {
            if (procs.some((p) => p.exited)) return true;
            const r = await run(["ping", "-6", "-c", "1", "-W", "1", s2.host], {
              ns: s1.zones[0].ns,
              check: false,
            });
            return r.code === 0;
          },
          30000,
          200,
        ).then((up) => {
          const dead = procs.find((p) => p.exited);
          if (dead) {
            return dead.wait().then((r) => {
              throw new Error(`xdeno exited: ${r.stderr.trim()}`);
            });
          }
          if (!up) throw new Error(`xdeno started but zone-a cannot reach sled2's host ${what}`);
        });
      await zoneReaches("");
      if (SERVICE) {
        // The service plumbed the zones' underlay; once every port's TAP is in (instances may
        // come after the zones), the guests take their links over.
        const guests = t.plan.sleds.flatMap((s) => [...s.zones, ...s.vms]);
        const all = await waitFor(
          async () =>
            (await Promise.all(
              guests.map((g) => run(["ip", "link", "show", g.port], { ns: g.ns, check: false })),
            )).every((r) => r.code === 0),
          20000,
          100,
        );
        if (!all) throw new Error("xdeno did not create every zone's and VM's TAP");
        // The admin API comes up after the ports: the demo's tour and the tests call it.
        const admin = await waitFor(
          async () =>
            (await Promise.all(
              t.plan.sleds.map((s) =>
                run(["curl", "-sf", "-o", "/dev/null", `${adminUrl(s.n)}/v1/ports`], {
                  ns: s.ns,
                  check: false,
                })
              ),
            )).every((r) => r.code === 0),
          20000,
          100,
        );
        if (!admin) throw new Error("xdeno's admin API does not answer on every sled");
        await adoptSwitchPorts(t);
        await zoneReaches("(after the guests configured eth0)");
      }
      return { pids: () => Promise.resolve(procs.map((p) => p.pid)), stop };
    } catch (e) {
      await stop();
      throw e;
    }
  },
};

/** Throws unless every zone's/VM's TAP went with the service (SIGTERM must remove them). */
async function tapsGone(t: Topology): Promise<void> {
  const guests = t.plan.sleds.flatMap((s) => [...s.zones, ...s.vms]);
  const left = await Promise.all(guests.map(async (g) => {
    const r = await run(["ip", "-o", "link", "show"], { ns: g.ns, check: false });
    return r.stdout.includes(": eth0:") || r.stdout.includes(`: ${g.port}:`) ? g.ns : "";
  }));
  const bad = left.filter((n) => n !== "");
  if (bad.length) throw new Error(`xdeno stopped but left TAPs in ${bad.join(", ")}`);
}
