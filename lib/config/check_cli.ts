// `xdeno check-config FILE…`: validates without touching the system.

import { formatProblems, loadConfig } from "./load.ts";

/** Runs check-config; 0 when every file is valid, 2 otherwise. */
export async function checkConfigMain(args: string[]): Promise<number> {
  if (args.length === 0 || args.includes("--help") || args.includes("-h")) {
    console.log(
      "usage: xdeno check-config FILE...\n\nValidates config files; prints every problem as FILE: field: reason and exits 2.",
    );
    return args.length === 0 ? 2 : 0;
  }
  let bad = false;
  for (const file of args) {
    const r = await loadConfig(file);
    if (r.ok) {
      console.log(`${file}: ok (${r.config.ports.length} ports, platform ${r.config.platform})`);
    } else {
      bad = true;
      console.error(formatProblems(file, r.problems));
    }
  }
  return bad ? 2 : 0;
}
