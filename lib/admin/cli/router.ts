// CLI router verbs: a port's router entries, in opteadm's form (`DEST TARGET CLASS`, targets as
// `drop`, `ig`, `ig=<id>`, `ip4=…`, `ip6=…`, `sub4=…`, `sub6=…`).

import { ApiError } from "../client.ts";
import { enc, type Row, tableOf, type Verb } from "./common.ts";
import { parseRouterTarget, type RouterTarget, routerTargetText } from "../../vpc/router.ts";

/** A router entry from opteadm's `DEST TARGET CLASS` positionals. */
function routeOf([destination, target, cls]: string[]): Row {
  const t = parseRouterTarget(target);
  if (!t) {
    throw new ApiError(
      2,
      `target: "${target}" is not a router target (expected drop, ig, ig=<id>, ip4=<addr>, ip6=<addr>, sub4=<cidr> or sub6=<cidr>)`,
    );
  }
  const c = cls.toLowerCase();
  if (c !== "system" && c !== "custom") {
    throw new ApiError(2, `class: "${cls}" is not a router class (expected system or custom)`);
  }
  return { destination, target: t, class: c };
}

/** Router verbs: a port's router entries. */
export const ROUTER_VERBS: Record<string, Verb> = {
  "list-router-entries": {
    summary: "list a port's router entries",
    usage: "list-router-entries -p PORT",
    port: true,
    args: 1,
    async run(c, [port]) {
      const r = (await c.call("GET", `/v1/ports/${enc(port)}/routes`)) as Row[];
      return {
        data: r,
        table: tableOf(["DESTINATION", "TARGET", "CLASS"], r, [
          (e) => e.destination,
          (e) => routerTargetText(e.target as RouterTarget),
          (e) => e.class,
        ]),
      };
    },
  },
  "add-router-entry": {
    summary: "add a router entry to a port",
    usage:
      "add-router-entry -p PORT DEST TARGET CLASS   (TARGET: drop|ig|ig=ID|ip4=A|ip6=A|sub4=P|sub6=P)",
    port: true,
    args: 4,
    async run(c, [port, ...a]) {
      const e = routeOf(a);
      return {
        data: await c.call("POST", `/v1/ports/${enc(port)}/routes`, e),
        table: () => `added ${e.destination} → ${a[1]} (${e.class})`,
      };
    },
  },
  "del-router-entry": {
    summary: "remove a router entry (destination, target and class exactly)",
    usage: "del-router-entry -p PORT DEST TARGET CLASS",
    port: true,
    args: 4,
    async run(c, [port, ...a]) {
      const e = routeOf(a);
      return {
        data: await c.call("DELETE", `/v1/ports/${enc(port)}/routes`, e),
        table: () => `removed ${e.destination} → ${a[1]} (${e.class})`,
      };
    },
  },
};
