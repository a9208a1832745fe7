// CLI multicast verbs: subscriptions and underlay forwarding.

import { enc, type Row, tableOf, type Verb } from "./common.ts";

/** Multicast verbs: subscriptions and underlay forwarding. */
export const MULTICAST_VERBS: Record<string, Verb> = {
  "mcast-subscribe": {
    summary: "subscribe a port to a multicast group",
    usage: "mcast-subscribe PORT GROUP",
    port: true,
    args: 2,
    async run(c, [port, group]) {
      return {
        data: await c.call("POST", `/v1/ports/${enc(port)}/multicast`, { group }),
        table: () => `${port} subscribed to ${group}`,
      };
    },
  },
  "mcast-unsubscribe": {
    summary: "unsubscribe a port from a multicast group",
    usage: "mcast-unsubscribe PORT GROUP",
    port: true,
    args: 2,
    async run(c, [port, group]) {
      return {
        data: await c.call("DELETE", `/v1/ports/${enc(port)}/multicast?group=${enc(group)}`),
        table: () => `${port} left ${group}`,
      };
    },
  },
  "set-mcast-fwd": {
    summary: "set underlay multicast forwarding",
    usage: "set-mcast-fwd UNDERLAY_GROUP VIA=external|underlay|both...",
    args: 2,
    maxArgs: Infinity,
    async run(c, [underlay, ...hops]) {
      const nextHops = hops.map((h) => {
        const i = h.lastIndexOf("=");
        return i < 0
          ? { via: h, replication: "external" }
          : { via: h.slice(0, i), replication: h.slice(i + 1) };
      });
      return {
        data: await c.call("PUT", "/v1/multicast/forwarding", { underlay, nextHops }),
        table: () => `set forwarding for ${underlay}`,
      };
    },
  },
  "dump-mcast-fwd": {
    summary: "list underlay multicast forwarding",
    usage: "dump-mcast-fwd",
    args: 0,
    async run(c) {
      const r = (await c.call("GET", "/v1/multicast/forwarding")) as Row[];
      return {
        data: r,
        table: tableOf(["UNDERLAY", "NEXT HOPS"], r, [
          (x) => x.underlay,
          (x) => (x.nextHops as Row[]).map((h) => `${h.via}=${h.replication}`),
        ]),
      };
    },
  },
};
