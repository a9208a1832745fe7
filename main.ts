// xdeno entry: dispatches the sub-command named by the first argument.

import { OPTE_VERB_SUMMARIES } from "./lib/admin/cli_opte_names.ts";

/** One CLI verb: its one-line summary and the module function that runs it. */
interface Command {
  summary: string;
  run: (args: string[]) => Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  decode: {
    summary: "decode a pcap (file or stdin) into one JSON object per frame",
    run: async (args) => (await import("./lib/packet/decode_cli.ts")).decodeMain(args),
  },
  "check-config": {
    summary: "validate config files without touching the system (exit 2 on errors)",
    run: async (args) => (await import("./lib/config/check_cli.ts")).checkConfigMain(args),
  },
  run: {
    summary: "run the switch service with its admin API (--config FILE)",
    run: async (args) => (await import("./lib/service/run.ts")).runMain(args, VERSION),
  },
  demo: {
    summary: "as root: build a two-sled rack in namespaces, run xdeno, tour every path",
    run: async (args) => (await import("./lib/testbed/demo.ts")).demoMain(args),
  },
  version: {
    summary: "print the xdeno and Deno versions",
    run: () => {
      console.log(`xdeno ${VERSION} (deno ${Deno.version.deno})`);
      return Promise.resolve(0);
    },
  },
};

/** Verbs that drive a running service over its admin API (opteadm's vocabulary). */
const API_VERBS: Record<string, string> = {
  "list-ports": "list ports (admin API)",
  "add-port": "add a port from a YAML/JSON file",
  "rm-port": "remove a port",
  "list-fw-rules": "list a port's firewall rules",
  "add-fw-rule": "add a firewall rule to a port",
  "rm-fw-rule": "remove a firewall rule by id",
  "set-fw-rules": "replace a port's firewall rules",
  "list-router-entries": "list a port's router entries",
  "add-router-entry": "add a router entry to a port",
  "del-router-entry": "remove a router entry",
  "set-external-ips": "set a port's SNAT/ephemeral/floating IPs",
  "set-v2p": "set a virtual-to-physical mapping",
  "clear-v2p": "clear a V2P mapping",
  "dump-v2p": "list V2P mappings",
  "set-v2b": "set a virtual-to-boundary mapping",
  "clear-v2b": "clear a V2B mapping",
  "dump-v2b": "list V2B mappings",
  "set-m2p": "set a multicast-to-physical mapping",
  "dump-m2p": "list M2P mappings",
  "list-underlay-routes": "list underlay routes",
  "dump-uft": "dump a port's unified flow table",
  "list-layers": "list a port's layers",
  "dump-layer": "dump one layer's rules and flows",
  "dump-tcp-flows": "dump a port's TCP flow states",
  "mcast-subscribe": "subscribe a port to a multicast group",
  "mcast-unsubscribe": "unsubscribe a port from a multicast group",
  "set-mcast-fwd": "set underlay multicast forwarding",
  "dump-mcast-fwd": "list underlay multicast forwarding",
  "capture": "stream a pcap of a port's (or --link's) frames to stdout",
  "clear-uft": "clear a port's unified flow table",
  ...OPTE_VERB_SUMMARIES,
};

for (const [verb, summary] of Object.entries(API_VERBS)) {
  COMMANDS[verb] = {
    summary,
    run: async (args) => (await import("./lib/admin/cli.ts")).cliMain(verb, args),
  };
}

/** The xdeno release this build belongs to. */
export const VERSION = "0.1.0";

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) =>
    `  ${name.padEnd(width)}  ${c.summary}`
  );
  return [
    "xdeno: a sled's virtual switch (GZ, system zones, instances, underlay, Geneve overlay)",
    "",
    "usage: xdeno <command> [options]    (xdeno <command> --help for its options)",
    "",
    "commands:",
    ...lines,
  ].join("\n");
}

/** Runs the CLI with `args`; returns the process exit code. */
export async function main(args: string[]): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === undefined || verb === "--help" || verb === "-h" || verb === "help") {
    console.log(usage());
    return verb === undefined ? 2 : 0;
  }
  if (verb === "--version") return COMMANDS.version.run([]);
  const cmd = COMMANDS[verb];
  if (!cmd) {
    console.error(`xdeno: unknown command "${verb}" (see xdeno --help for the list)`);
    return 2;
  }
  return await cmd.run(rest);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
