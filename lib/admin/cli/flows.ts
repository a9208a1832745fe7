// CLI flow-table verbs: a port's UFT and TCP flows.

import { anyTable, enc, type Row, type Verb } from "./common.ts";

/** Flow-table verbs: a port's UFT and TCP flows. */
export const FLOW_VERBS: Record<string, Verb> = {
  "dump-uft": {
    summary: "dump a port's unified flow table",
    usage: "dump-uft PORT",
    args: 1,
    async run(c, [port]) {
      const r = (await c.call("GET", `/v1/ports/${enc(port)}/flows/uft`)) as Row[];
      return {
        data: r,
        table: anyTable(r, "(no flows)"),
      };
    },
  },
  "dump-tcp-flows": {
    summary: "dump a port's TCP flow states",
    usage: "dump-tcp-flows PORT",
    args: 1,
    async run(c, [port]) {
      const r = (await c.call("GET", `/v1/ports/${enc(port)}/flows/tcp`)) as Row[];
      return {
        data: r,
        table: anyTable(r, "(no flows)"),
      };
    },
  },
  "clear-uft": {
    summary: "clear a port's unified flow table",
    usage: "clear-uft PORT",
    args: 1,
    async run(c, [port]) {
      const r = (await c.call("DELETE", `/v1/ports/${enc(port)}/flows/uft`)) as Row;
      return { data: r, table: () => `cleared ${r.cleared} flows` };
    },
  },
};
