// `xdeno demo`: builds the two-sled test bed in network namespaces, starts xdeno on both sleds
// (plus the OVS boundary peer), tours every path of issue 8 and prints the results as a table,
// then tears everything down — on a terminal (or with --keep) only once the operator says so.

import { have, isRoot } from "./exec.ts";
import { stateDir, ZONE_OVERLAY } from "./plan.ts";
import { adminUrl, SERVICE, sut } from "./xdeno_sut.ts";
import { Topology, up } from "./topology.ts";
import { formatTour, tour } from "./tour.ts";
import type { RunningSwitch } from "./sut.ts";

const USAGE = `usage: xdeno demo [--keep] [--seconds N]

Builds a two-sled rack in network namespaces (zones, VMs, two rack routers, boundary services,
an external client), runs xdeno on both sleds and tours every path: zone↔zone, zone↔GZ, sled↔sled
via both racks, VM↔VM over Geneve, SNAT and floating IPs through boundary services, DHCP/RA.
  --keep       leave the rack and xdeno running after the tour until Enter or Ctrl-C
               (the default when stdout is a terminal; otherwise the demo tears down at once)
  --seconds N  length of each TCP transfer (default 2)
Needs root, iperf3, Open vSwitch, dhclient and ndisc6 (tests/setup.sh installs them).`;

const TOOLS = ["iperf3", "ovs-vswitchd", "dhclient", "rdisc6", "ethtool"];

function pokeHelp(t: Topology): string {
  const p = t.plan, [s1, s2] = p.sleds;
  const x = (ns: string, cmd: string) => `ip netns exec ${ns} ${cmd}`;
  const lines: [string, string][] = [
    [x(s1.zones[0].ns, `ping ${s2.zones[0].ip6}`), "zone-a → sled2 zone via the racks"],
    [x(s1.vms[0].ns, `ping ${s2.vms[0].ip4}`), "vm0 → sled2 vm0, Geneve VNI 10"],
    [x(s1.vms[0].ns, `ping ${p.external.ip4}`), "vm0 → the outside via SNAT"],
    [x(p.external.ns, `ping ${ZONE_OVERLAY.floating}`), "the outside → zone-a's floating IP"],
    [x(p.racks[0], "tcpdump -ni s1 udp port 6081"), "Geneve on rack0's link to sled1"],
    [`ip netns list | grep ${p.prefix}`, "every namespace of this rack"],
    [`cat ${stateDir(p.prefix)}/xdeno-s1.yaml`, "sled1's xdeno config"],
  ];
  if (SERVICE) {
    // The admin API listens on loopback inside each sled's namespace.
    const u = adminUrl(s1.n);
    lines.push(
      [x(s1.ns, `npx deno run -A main.ts list-ports --url ${u}`), "sled1's ports (from the repo)"],
      [x(s1.ns, `curl -s ${u}/v1/ports`), "the same as JSON"],
      [x(s1.ns, `curl -s ${u}/metrics`), "counters (Prometheus text)"],
      [x(s2.ns, `curl -s ${adminUrl(s2.n)}/v1/ports`), "sled2's admin API"],
    );
  }
  const w = Math.max(...lines.map(([c]) => c.length));
  return ["Poke at it (as root):", ...lines.map(([c, what]) => `  ${c.padEnd(w)}  # ${what}`)]
    .join("\n");
}

/** Resolves at the first newline on `input`, or when it ends (the keep-running wait). */
export async function untilEnter(input: ReadableStream<Uint8Array>): Promise<void> {
  const reader = input.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || value.includes(10)) return;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Entry of `xdeno demo`; returns the exit code. */
export async function demoMain(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  if (!isRoot()) {
    console.error(
      "xdeno demo: needs root — it creates network namespaces, veths, TAPs and packet sockets.\n" +
        "Run it as root, e.g. `sudo deno task demo` (nothing was changed).",
    );
    return 1;
  }
  const missing = [];
  for (const tool of TOOLS) if (!await have(tool)) missing.push(tool);
  if (missing.length) {
    console.error(`xdeno demo: missing tools: ${missing.join(", ")} (run tests/setup.sh)`);
    return 1;
  }
  const si = args.indexOf("--seconds");
  const seconds = si >= 0 ? Number(args[si + 1]) : 2;
  if (!(seconds > 0 && seconds <= 30)) {
    console.error(`xdeno demo: --seconds: expected 1-30, got ${args[si + 1]}`);
    return 2;
  }
  const t0 = performance.now();
  const el = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  let topo: Topology | undefined;
  let sw: RunningSwitch | undefined;
  let closing: Promise<void> | undefined;
  const teardown = () =>
    closing ??= (async () => {
      await sw?.stop();
      await topo?.down();
    })();
  const onSignal = () => {
    console.log("\ntearing down…");
    teardown().then(
      () => console.log(`torn down: namespaces, links and both xdeno services are gone (${el()})`),
      (e) => console.error(`teardown failed: ${(e as Error).message}`),
    ).finally(() => Deno.exit(130));
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    topo = await up(sut.topology);
    console.log(`rack ${topo.plan.prefix}: namespaces and links up (${el()})`);
    sw = await sut.start(topo);
    console.log(`xdeno forwarding on both sleds, boundary services up (${el()})\n`);
    const rows = await tour(topo, seconds);
    console.log(formatTour(rows));
    const failed = rows.filter((r) => !r.ok).length;
    console.log(
      `\n${rows.length - failed}/${rows.length} paths ok, ${el()}` +
        (failed ? ` — ${failed} FAILED` : ""),
    );
    console.log(`\n${pokeHelp(topo)}`);
    if (args.includes("--keep") || Deno.stdout.isTerminal()) {
      console.log("\nThe rack stays up: press Enter or Ctrl-C to tear it all down.");
      // The signal handler exits on Ctrl-C; Enter (or stdin closing) falls through to teardown.
      await untilEnter(Deno.stdin.readable);
      console.log("tearing down…");
    }
    return failed ? 1 : 0;
  } catch (e) {
    console.error(`xdeno demo: ${(e as Error).message}`);
    return 1;
  } finally {
    await teardown();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    console.log(`torn down: namespaces, links and both xdeno services are gone (${el()})`);
  }
}

if (import.meta.main) Deno.exit(await demoMain(Deno.args));
