// Shared pieces of the CLI verb tables: the Verb shape and table helpers.

import { parse as parseYaml } from "yaml";
import type { AdminClient } from "../client.ts";
import { renderTable } from "./table.ts";

/** A JSON row as the API returns it. */
export type Row = Record<string, unknown>;
/** Parsed options of one verb. */
export type Opts = Record<string, string | boolean | undefined>;
/** One verb: usage text, its own options and what it does. */
export interface Verb {
  /** One line for `xdeno --help`. */
  summary: string;
  usage: string;
  options?: string[];
  /** Boolean options. */
  flags?: string[];
  /** The first positional is a port, also accepted as `-p PORT` (opteadm's habit). */
  port?: boolean;
  /** Other one-letter aliases (opteadm's `-e`): letter → option name. */
  short?: Record<string, string>;
  /** Positionals needed; at most `maxArgs` (default: exactly `args`). */
  args: number;
  maxArgs?: number;
  run(
    c: AdminClient,
    a: string[],
    o: Opts,
  ): Promise<{ data: unknown; table?: () => string; raw?: boolean }>;
}

/** A cell: lists joined by commas, absent values as "-". */
export const list = (
  v: unknown,
) => (Array.isArray(v)
  ? (v.length ? v.join(",") : "-")
  : v === undefined || v === null
  ? "-"
  : String(v));
/** Escapes a path or query component. */
export const enc = encodeURIComponent;

/**
 * A table renderer over `rows`, one column function per header. Rows that say where they come
 * from (`source`: config, api, …) get a SOURCE column last.
 */
export const tableOf = (headers: string[], rows: Row[], cols: ((r: Row) => unknown)[]) => () => {
  const src = rows.some((r) => r.source !== undefined);
  const all = src ? [...cols, (r: Row) => r.source] : cols;
  return renderTable(
    src ? [...headers, "SOURCE"] : headers,
    rows.map((r) => all.map((f) => list(f(r)))),
  );
};

/** The firewall rule table. */
export const fwTable = (rules: Row[]) =>
  tableOf(["ID", "DIR", "PRI", "ACTION", "PROTO", "PORTS", "HOST"], rules, [
    (r) => r.id,
    (r) => r.direction,
    (r) => r.priority,
    (r) => r.action,
    (r) => {
      const i = r.icmp as { type: number; codes?: number[] } | undefined;
      return i ? `${r.protocol}:${i.type}${i.codes ? `,${i.codes.join("-")}` : ""}` : r.protocol;
    },
    (r) => r.ports ?? "any",
    (r) => r.host,
  ]);

/** Reads a YAML or JSON file (rule lists, port specs). */
export async function readDoc(file: string): Promise<unknown> {
  return parseYaml(await Deno.readTextFile(file));
}

/** A verb without arguments that lists `path` and renders the rows with `table`. */
export function listVerb(
  summary: string,
  usage: string,
  path: string,
  table: (rows: Row[]) => () => string,
): Verb {
  return {
    summary,
    usage,
    args: 0,
    async run(c) {
      const r = (await c.call("GET", path)) as Row[];
      return { data: r, table: table(r) };
    },
  };
}
