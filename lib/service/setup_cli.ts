// First-steps commands that need no running service: `xdeno example-config` (the commented
// example configuration) and `xdeno gen-token FILE` (an admin bearer token, mode 0600).

import { toHex } from "../packet/bytes.ts";
import { EXAMPLE_CONFIG } from "../config/example.ts";

/** Prints the example configuration (redirect it to a file and edit). */
export function exampleConfigMain(args: string[]): number {
  if (args.includes("--help") || args.includes("-h") || args.length > 0) {
    const help = args.includes("--help") || args.includes("-h");
    (help ? console.log : console.error)(
      `${help ? "" : `xdeno example-config: unexpected argument ${JSON.stringify(args[0])}\n`}` +
        "usage: xdeno example-config > xdeno.yaml   (then: xdeno check-config xdeno.yaml)",
    );
    return help ? 0 : 2;
  }
  Deno.stdout.writeSync(new TextEncoder().encode(EXAMPLE_CONFIG));
  return 0;
}

/** Writes a fresh random admin token to FILE with mode 0600; refuses to overwrite one. */
export async function genTokenMain(args: string[]): Promise<number> {
  const usage = "usage: xdeno gen-token FILE   (32 random bytes as hex, mode 0600; " +
    "use it as admin.tokenFile / --token-file)";
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage);
    return 0;
  }
  if (args.length !== 1 || args[0].startsWith("-")) {
    console.error(`xdeno gen-token: needs exactly one FILE\n${usage}`);
    return 2;
  }
  const file = args[0];
  const token = toHex(crypto.getRandomValues(new Uint8Array(32)));
  try {
    await Deno.writeTextFile(file, token + "\n", { createNew: true, mode: 0o600 });
    // The umask may have narrowed the mode further; never wider than 0600.
    await Deno.chmod(file, 0o600);
  } catch (e) {
    const why = e instanceof Deno.errors.AlreadyExists
      ? "exists; remove it first (a token in use would be replaced)"
      : (e as Error).message;
    console.error(`xdeno gen-token: ${file}: ${why}`);
    return 1;
  }
  console.error(`wrote a new admin token to ${file} (mode 0600)`);
  return 0;
}
