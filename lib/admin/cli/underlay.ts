// CLI underlay verbs: routes.

import { type Row, tableOf, type Verb } from "./common.ts";

/** Underlay verbs: routes. */
export const UNDERLAY_VERBS: Record<string, Verb> = {
  "list-underlay-routes": {
    summary: "list underlay routes",
    usage: "list-underlay-routes",
    args: 0,
    async run(c) {
      const r = (await c.call("GET", "/v1/underlay/routes")) as Row[];
      return {
        data: r,
        table: tableOf(["PREFIX", "NEXT HOPS"], r, [
          (x) => x.prefix,
          (x) => (x.nextHops as Row[]).map((h) => `${h.via}%${h.link}`),
        ]),
      };
    },
  },
};
