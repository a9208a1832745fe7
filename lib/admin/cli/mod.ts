// The operator CLI: opteadm-like verbs that talk to a running service's admin API. Tables by
// default, the API's JSON with --json. Exit 0 ok, 1 refused by the service, 2 bad usage.

import { AdminClient, ApiError } from "../client.ts";
import { type FlagSpec, parseFlags } from "./args.ts";
import type { Verb } from "./common.ts";
import { CAPTURE_VERBS } from "./capture.ts";
import { FIREWALL_VERBS } from "./firewall.ts";
import { FLEET_VERBS } from "./fleet.ts";
import { FLOW_VERBS } from "./flows.ts";
import { LAYER_VERBS } from "./layers.ts";
import { MAPPING_VERBS } from "./mappings.ts";
import { MULTICAST_VERBS } from "./multicast.ts";
import { NAT_VERBS } from "./nat.ts";
import { PORT_VERBS } from "./ports.ts";
import { ROUTER_VERBS } from "./router.ts";
import { SHOW_VERBS } from "./show.ts";
import { SUBNET_VERBS } from "./subnets.ts";
import { TRACE_VERBS } from "./trace.ts";
import { UNDERLAY_VERBS } from "./underlay.ts";

/** Every verb the CLI knows, one module per resource (add a module, list it here). */
export const VERBS: Record<string, Verb> = {
  ...SHOW_VERBS,
  ...PORT_VERBS,
  ...FIREWALL_VERBS,
  ...ROUTER_VERBS,
  ...SUBNET_VERBS,
  ...NAT_VERBS,
  ...MAPPING_VERBS,
  ...UNDERLAY_VERBS,
  ...FLOW_VERBS,
  ...LAYER_VERBS,
  ...MULTICAST_VERBS,
  ...CAPTURE_VERBS,
  ...TRACE_VERBS,
  ...FLEET_VERBS,
};

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
  const options: FlagSpec = { json: { type: "boolean" } };
  for (const k of [...COMMON, ...(v.options ?? [])]) options[k] = { type: "string" };
  for (const k of v.flags ?? []) options[k] = { type: "boolean" };
  if (v.port) options.port = { type: "string", short: "p" };
  for (const [letter, k] of Object.entries(v.short ?? {})) options[k].short = letter;
  const p = parseFlags(args, options);
  const bad = !p.ok ? p.error : positionalError(v, p.positionals, p.values.port as string);
  if (!p.ok || bad) {
    console.error(`xdeno ${verb}: ${bad}\n${usage}`);
    return 2;
  }
  const o = p.values;
  const pos = typeof o.port === "string" ? [o.port, ...p.positionals] : p.positionals;
  const url = (o.url as string | undefined) ?? Deno.env.get("XDENO_URL") ?? "http://127.0.0.1:7070";
  const tokenFile = (o["token-file"] as string | undefined) ?? Deno.env.get("XDENO_TOKEN_FILE");
  try {
    const token = tokenFile ? await readToken(tokenFile) : null;
    const r = await v.run(new AdminClient(url, token), pos, o);
    if (!r.raw) console.log(o.json || !r.table ? JSON.stringify(r.data, null, 2) : r.table());
    return 0;
  } catch (e) {
    let msg = (e as Error).message;
    if (e instanceof ApiError && e.status === 401) {
      msg += tokenFile
        ? ` (the token in ${tokenFile} was refused)`
        : " (give the service's token with --token-file FILE or XDENO_TOKEN_FILE)";
    }
    console.error(`xdeno ${verb}: ${msg}`);
    return e instanceof ApiError && e.status === 2 ? 2 : 1;
  }
}

/** Why the positionals do not fit `v` (count, or a port given twice), or null. */
function positionalError(v: Verb, pos: string[], port: string | undefined): string | null {
  const n = pos.length + (port !== undefined ? 1 : 0);
  const max = v.maxArgs ?? v.args;
  if (n < v.args) return `needs ${v.args} argument${v.args === 1 ? "" : "s"}, got ${n}`;
  if (n > max) {
    const extra = pos.slice(pos.length - (n - max)).map((a) => JSON.stringify(a)).join(" ");
    return `unexpected argument${n - max === 1 ? "" : "s"} ${extra} (takes at most ${max})`;
  }
  return null;
}

/** Reads the bearer token; a missing file is named with the flag that chose it. */
async function readToken(file: string): Promise<string> {
  try {
    return (await Deno.readTextFile(file)).trim();
  } catch (e) {
    throw new ApiError(
      2,
      `token file ${file} (--token-file or XDENO_TOKEN_FILE): ${
        e instanceof Deno.errors.NotFound ? "not found" : (e as Error).message
      }`,
    );
  }
}
