// CLI router verbs: a port's router entries.

import { enc, type Row, tableOf, type Verb } from "./common.ts";

/** Router verbs: a port's router entries. */
export const ROUTER_VERBS: Record<string, Verb> = {
  "list-router-entries": {
    summary: "list a port's router entries",
    usage: "list-router-entries PORT",
    port: true,
    args: 1,
    async run(c, [port]) {
      const r = (await c.call("GET", `/v1/ports/${enc(port)}/routes`)) as Row[];
      return {
        data: r,
        table: tableOf(["DESTINATION", "TARGET", "VIA"], r, [
          (e) => e.destination,
          (e) => e.target,
          (e) => e.via,
        ]),
      };
    },
  },
  "add-router-entry": {
    summary: "add a router entry to a port",
    usage: "add-router-entry PORT DESTINATION internet-gateway|drop|vpc-subnet|ip [VIA]",
    port: true,
    args: 3,
    maxArgs: 4,
    async run(c, [port, destination, target, via]) {
      const e: Row = { destination, target };
      if (via !== undefined) e.via = via;
      return {
        data: await c.call("POST", `/v1/ports/${enc(port)}/routes`, e),
        table: () => `added ${destination} → ${target}`,
      };
    },
  },
  "del-router-entry": {
    summary: "remove a router entry",
    usage: "del-router-entry PORT DESTINATION",
    port: true,
    args: 2,
    async run(c, [port, dst]) {
      return {
        data: await c.call("DELETE", `/v1/ports/${enc(port)}/routes?destination=${enc(dst)}`),
        table: () => `removed ${dst}`,
      };
    },
  },
};
