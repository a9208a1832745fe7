// CLI layer verbs: a port's layers, their rules and flows.

import { anyTable, enc, type Row, type Verb } from "./common.ts";

/** Layer verbs: a port's layers, their rules and flows. */
export const LAYER_VERBS: Record<string, Verb> = {
  "list-layers": {
    summary: "list a port's layers",
    usage: "list-layers PORT",
    args: 1,
    async run(c, [port]) {
      const r = (await c.call("GET", `/v1/ports/${enc(port)}/layers`)) as Row[];
      return {
        data: r,
        table: anyTable(r, "(no layers)"),
      };
    },
  },
  "dump-layer": {
    summary: "dump one layer's rules and flows",
    usage: "dump-layer PORT LAYER",
    args: 2,
    async run(c, [port, layer]) {
      return { data: await c.call("GET", `/v1/ports/${enc(port)}/layers/${enc(layer)}`) };
    },
  },
};
