// Shared pieces of the CLI verb tables: the Verb shape and table helpers.

import { parse as parseYaml } from "yaml";
import type { AdminClient } from "./client.ts";
import { renderTable } from "./table.ts";

/** A JSON row as the API returns it. */
export type Row = Record<string, unknown>;
/** Parsed options of one verb. */
export type Opts = Record<string, string | boolean | undefined>;
/** One verb: usage text, its own options and what it does. */
export interface Verb {
  usage: string;
  options?: string[];
  /** Boolean options. */
  flags?: string[];
  /** One-letter aliases (opteadm's `-p PORT`): letter → option name. */
  short?: Record<string, string>;
  args: number;
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

/** A table renderer over `rows`, one column function per header. */
export const tableOf = (headers: string[], rows: Row[], cols: ((r: Row) => unknown)[]) => () =>
  renderTable(headers, rows.map((r) => cols.map((f) => list(f(r)))));

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

/** A table of whatever columns the rows have (flow dumps). */
export function anyTable(r: Row[], empty: string): () => string {
  return () => (r.length
    ? renderTable(
      Object.keys(r[0]).map((k) => k.toUpperCase()),
      r.map((x) => Object.values(x).map(list)),
    )
    : empty);
}
