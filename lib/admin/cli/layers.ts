// CLI layer verbs: a port's layers (list-layers) and one layer's rules and flows (dump-layer),
// printed as opteadm prints them.

import { enc, type Row, tableOf, type Verb } from "./common.ts";

/** A rule's id as the operator knows it: the API's id when it has one (firewall), else the engine's. */
const ruleId = (r: Row) => r.ref ?? r.id;

/** The rules of one direction, their default last (opteadm's "DEF" row). */
function rulesTable(title: string, rules: Row[], def: unknown, defHits: unknown): string {
  const rows: Row[] = [...rules, {
    id: "DEF",
    priority: "--",
    hits: defHits,
    match: "*",
    action: def,
  }];
  const t = tableOf(["ID", "PRI", "HITS", "PREDICATES", "ACTION"], rows, [
    ruleId,
    (r) => r.priority,
    (r) => r.hits,
    (r) => r.match,
    (r) => (r.ref == null && r.name ? `${r.action} (${r.name})` : r.action),
  ])();
  return `${title}\n${"-".repeat(70)}\n${t}`;
}

/** dump-layer's text: inbound rules, outbound rules (each with its default), then the flows. */
export function layerText(port: string, d: Row): string {
  const rules = d.rules as { in: Row[]; out: Row[] };
  const defaults = d.defaults as { in: string; out: string };
  const stats = d.stats as { in: Row; out: Row };
  const flows = d.flows as Row[];
  const flowTable = flows.length === 0 ? "(no flows)" : tableOf(
    ["OUT FLOW", "IN FLOW", "RULE", "ACTION"],
    flows,
    [(f) => f.out, (f) => f.in, (f) => f.rule, (f) => f.desc],
  )();
  return [
    `Port ${port} - Layer ${d.layer}`,
    "=".repeat(70),
    rulesTable("Inbound Rules", rules.in, defaults.in, stats.in.defaultHits),
    "",
    rulesTable("Outbound Rules", rules.out, defaults.out, stats.out.defaultHits),
    "",
    `Flows\n${"-".repeat(70)}\n${flowTable}`,
  ].join("\n");
}

/** Layer verbs. */
export const LAYER_VERBS: Record<string, Verb> = {
  "list-layers": {
    summary: "list a port's layers",
    usage: "list-layers PORT   (PORT also as -p PORT)",
    port: true,
    args: 1,
    async run(c, [port]) {
      const r = (await c.call("GET", `/v1/ports/${enc(port)}/layers`)) as Row[];
      return {
        data: r,
        table: r.length === 0 ? () => "(no layers)" : tableOf(
          ["NAME", "RULES IN", "RULES OUT", "DEF IN", "DEF OUT", "FLOWS", "DROPS IN", "DROPS OUT"],
          r,
          [
            (l) => l.layer,
            (l) => l.rulesIn,
            (l) => l.rulesOut,
            (l) => l.defaultIn,
            (l) => l.defaultOut,
            (l) => l.flows,
            (l) => (l.stats as { in?: Row } | null)?.in?.drops,
            (l) => (l.stats as { out?: Row } | null)?.out?.drops,
          ],
        ),
      };
    },
  },
  "dump-layer": {
    summary: "dump one layer's rules (inbound, outbound, defaults) and flows",
    usage: "dump-layer PORT LAYER   (PORT also as -p PORT)",
    port: true,
    args: 2,
    async run(c, [port, layer]) {
      const d = (await c.call("GET", `/v1/ports/${enc(port)}/layers/${enc(layer)}`)) as Row;
      return { data: d, table: () => layerText(port, d) };
    },
  },
};
