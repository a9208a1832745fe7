// CLI verbs about sled-wide tables: V2P/V2B/M2P mappings, multicast, underlay routes.

import { enc, type Row, tableOf, type Verb } from "./cli_common.ts";

/** Mapping and underlay verbs. */
export const MAP_VERBS: Record<string, Verb> = {
  "set-v2p": {
    usage: "set-v2p VNI VIRT_IP MAC UNDERLAY_IP",
    args: 4,
    async run(c, [vni, ip, mac, underlay]) {
      return {
        data: await c.call("PUT", "/v1/v2p", { vni: Number(vni), ip, mac, underlay }),
        table: () => `set v2p ${vni}/${ip}`,
      };
    },
  },
  "clear-v2p": {
    usage: "clear-v2p VNI VIRT_IP",
    args: 2,
    async run(c, [vni, ip]) {
      return {
        data: await c.call("DELETE", `/v1/v2p?vni=${enc(vni)}&ip=${enc(ip)}`),
        table: () => `cleared v2p ${vni}/${ip}`,
      };
    },
  },
  "dump-v2p": {
    usage: "dump-v2p",
    args: 0,
    async run(c) {
      const r = (await c.call("GET", "/v1/v2p")) as Row[];
      return {
        data: r,
        table: tableOf(["VNI", "IP", "MAC", "UNDERLAY"], r, [
          (m) => m.vni,
          (m) => m.ip,
          (m) => m.mac,
          (m) => m.underlay,
        ]),
      };
    },
  },
  "dump-v2b": {
    usage: "dump-v2b",
    args: 0,
    async run(c) {
      const r = (await c.call("GET", "/v1/v2b")) as Row[];
      return {
        data: r,
        table: tableOf(["VNI", "PREFIX", "ENDPOINTS"], r, [
          (m) => m.vni,
          (m) => m.prefix,
          (m) => m.endpoints,
        ]),
      };
    },
  },
  "set-m2p": {
    usage: "set-m2p GROUP UNDERLAY_GROUP",
    args: 2,
    async run(c, [group, underlay]) {
      return {
        data: await c.call("PUT", "/v1/m2p", { group, underlay }),
        table: () => `set m2p ${group}`,
      };
    },
  },
  "dump-m2p": {
    usage: "dump-m2p",
    args: 0,
    async run(c) {
      const r = (await c.call("GET", "/v1/m2p")) as Row[];
      return {
        data: r,
        table: tableOf(["GROUP", "UNDERLAY"], r, [(m) => m.group, (m) => m.underlay]),
      };
    },
  },
  "list-underlay-routes": {
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
  "mcast-subscribe": {
    usage: "mcast-subscribe PORT GROUP",
    args: 2,
    async run(c, [port, group]) {
      return {
        data: await c.call("POST", `/v1/ports/${enc(port)}/multicast`, { group }),
        table: () => `${port} subscribed to ${group}`,
      };
    },
  },
  "mcast-unsubscribe": {
    usage: "mcast-unsubscribe PORT GROUP",
    args: 2,
    async run(c, [port, group]) {
      return {
        data: await c.call("DELETE", `/v1/ports/${enc(port)}/multicast?group=${enc(group)}`),
        table: () => `${port} left ${group}`,
      };
    },
  },
  "set-mcast-fwd": {
    usage: "set-mcast-fwd UNDERLAY_GROUP VIA=external|underlay|both...",
    args: 2,
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
