// CLI multicast verbs: subscriptions and underlay forwarding.

import { ApiError } from "../client.ts";
import { enc, listVerb, type Row, tableOf, type Verb } from "./common.ts";

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
  "dump-mcast-fwd": listVerb(
    "list underlay multicast forwarding",
    "dump-mcast-fwd",
    "/v1/multicast/forwarding",
    (r) =>
      tableOf(["UNDERLAY", "NEXT HOPS"], r, [
        (x) => x.underlay,
        (x) => (x.nextHops as Row[]).map((h) => `${h.via}=${h.replication}`),
      ]),
  ),
  "clear-m2p": {
    summary: "clear a multicast-to-physical mapping",
    usage: "clear-m2p GROUP UNDERLAY",
    args: 2,
    async run(c, [group, underlay]) {
      const cur = (await c.call("GET", "/v1/m2p")) as Row[];
      const hit = cur.find((m) => m.group === group);
      if (hit && hit.underlay !== underlay) {
        throw new ApiError(1, `underlay: ${group} maps to ${hit.underlay}, not ${underlay}`);
      }
      return {
        data: await c.call("DELETE", `/v1/m2p?group=${enc(group)}`),
        table: () => `cleared m2p ${group}`,
      };
    },
  },
  "clear-mcast-fwd": {
    summary: "clear underlay multicast forwarding",
    usage: "clear-mcast-fwd UNDERLAY",
    args: 1,
    async run(c, [underlay]) {
      return {
        data: await c.call("DELETE", `/v1/multicast/forwarding?underlay=${enc(underlay)}`),
        table: () => `cleared forwarding for ${underlay}`,
      };
    },
  },
  "dump-mcast-subs": listVerb(
    "list multicast subscriptions by group",
    "dump-mcast-subs",
    "/v1/multicast/subscriptions",
    (r) => tableOf(["GROUP", "PORTS"], r, [(s) => s.group, (s) => s.ports]),
  ),
  "mcast-unsubscribe-all": {
    summary: "unsubscribe every port from a group",
    usage: "mcast-unsubscribe-all GROUP",
    args: 1,
    async run(c, [group]) {
      const r = (await c.call("DELETE", `/v1/multicast/subscriptions?group=${enc(group)}`)) as Row;
      return { data: r, table: () => `unsubscribed ${list(r.ports)} from ${group}` };
    },
  },
};

const list = (v: unknown) => (Array.isArray(v) && v.length ? v.join(",") : "none");
