// The operator CLI: opteadm-like verbs that talk to a running service's admin API. Tables by
// default, the API's JSON with --json. Exit 0 ok, 1 refused by the service, 2 bad usage.

import { parseArgs } from "node:util";
import { AdminClient, ApiError } from "../client.ts";
import type { Opts, Verb } from "./common.ts";
import { CAPTURE_VERBS } from "./capture.ts";
import { FIREWALL_VERBS } from "./firewall.ts";
import { FLOW_VERBS } from "./flows.ts";
import { LAYER_VERBS } from "./layers.ts";
import { MAPPING_VERBS } from "./mappings.ts";
import { MULTICAST_VERBS } from "./multicast.ts";
import { NAT_VERBS } from "./nat.ts";
import { PORT_VERBS } from "./ports.ts";
import { ROUTER_VERBS } from "./router.ts";
import { UNDERLAY_VERBS } from "./underlay.ts";

/** Every verb the CLI knows, one module per resource (add a module, list it here). */
export const VERBS: Record<string, Verb> = {
  ...PORT_VERBS,
  ...FIREWALL_VERBS,
  ...ROUTER_VERBS,
  ...NAT_VERBS,
  ...MAPPING_VERBS,
  ...UNDERLAY_VERBS,
  ...FLOW_VERBS,
  ...LAYER_VERBS,
  ...MULTICAST_VERBS,
  ...CAPTURE_VERBS,
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
  let o: Opts, pos: string[];
  try {
    const options: Record<string, { type: "string" | "boolean" }> = { json: { type: "boolean" } };
    for (const k of [...COMMON, ...(v.options ?? [])]) options[k] = { type: "string" };
    for (const k of v.flags ?? []) options[k] = { type: "boolean" };
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
