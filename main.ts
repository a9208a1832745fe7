// xdeno entry: dispatches the sub-command named by the first argument.

import { cliMain, VERBS } from "./lib/admin/cli/mod.ts";

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
  "example-config": {
    summary: "print the commented example configuration (xdeno example-config > xdeno.yaml)",
    run: async (args) => (await import("./lib/service/setup_cli.ts")).exampleConfigMain(args),
  },
  "gen-token": {
    summary: "write a new random admin token to FILE (mode 0600)",
    run: async (args) => (await import("./lib/service/setup_cli.ts")).genTokenMain(args),
  },
  replay: {
    summary: "run a pcapng and API steps through a config offline, deterministically",
    run: async (args) => (await import("./lib/replay/cli.ts")).replayMain(args, VERSION),
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

// Verbs that drive a running service over its admin API (opteadm's vocabulary), one module per
// resource under lib/admin/cli/.
for (const [verb, v] of Object.entries(VERBS)) {
  COMMANDS[verb] = { summary: v.summary, run: (args) => cliMain(verb, args) };
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
