// The operator CLI: opteadm-like verbs that talk to a running service's admin API. Tables by
// default, the API's JSON with --json. Exit 0 ok, 1 refused by the service, 2 bad usage.

import { parseArgs } from "node:util";
import { AdminClient, ApiError } from "./client.ts";
import type { Opts, Verb } from "./cli_common.ts";
import { PORT_VERBS } from "./cli_ports.ts";
import { MAP_VERBS } from "./cli_maps.ts";
import { OPTE_VERBS } from "./cli_opte.ts";

/** Every verb the CLI knows. */
export const VERBS: Record<string, Verb> = { ...PORT_VERBS, ...MAP_VERBS, ...OPTE_VERBS };

const COMMON = ["url", "token-file"];

/** Runs one verb with its arguments; returns the exit code. */
export async function cliMain(verb: string, args: string[]): Promise<number> {
  const v = VERBS[verb];
  const usage = `usage: xdeno ${v.usage} [--json] [--url URL] [--token-file FILE]\n` +
    "  --url defaults to $XDENO_URL or http://127.0.0.1:7070; --token-file to $XDENO_TOKEN_FILE";
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage);
    return 0;
  }
  let o: Opts, pos: string[];
  try {
    const options: Record<string, { type: "string" | "boolean" }> = { json: { type: "boolean" } };
    for (const k of [...COMMON, ...(v.options ?? [])]) options[k] = { type: "string" };
    for (const k of v.flags ?? []) options[k] = { type: "boolean" };
    for (const [s, k] of Object.entries(v.short ?? {})) Object.assign(options[k], { short: s });
    const p = parseArgs({ args, options, allowPositionals: true, strict: true });
    o = p.values as Opts;
    pos = p.positionals;
    if (pos.length < v.args) throw new Error(`needs ${v.args} argument${v.args === 1 ? "" : "s"}`);
  } catch (e) {
    console.error(`xdeno ${verb}: ${(e as Error).message}\n${usage}`);
    return 2;
  }
  const url = (o.url as string | undefined) ?? Deno.env.get("XDENO_URL") ?? "http://127.0.0.1:7070";
  const tokenFile = (o["token-file"] as string | undefined) ?? Deno.env.get("XDENO_TOKEN_FILE");
  try {
    const token = tokenFile ? (await Deno.readTextFile(tokenFile)).trim() : null;
    const r = await v.run(new AdminClient(url, token), pos, o);
    if (!r.raw) console.log(o.json || !r.table ? JSON.stringify(r.data, null, 2) : r.table());
    return 0;
  } catch (e) {
    console.error(`xdeno ${verb}: ${(e as Error).message}`);
    return e instanceof ApiError && e.status === 2 ? 2 : 1;
  }
}
