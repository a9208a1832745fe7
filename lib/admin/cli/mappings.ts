// CLI mapping verbs: V2P, V2B and M2P.

import { enc, listVerb, type Row, tableOf, type Verb } from "./common.ts";

/** Mapping verbs: V2P, V2B and M2P. */
export const MAPPING_VERBS: Record<string, Verb> = {
  "set-v2p": {
    summary: "set a virtual-to-physical mapping",
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
    summary: "clear a V2P mapping",
    usage: "clear-v2p VNI VIRT_IP",
    args: 2,
    async run(c, [vni, ip]) {
      return {
        data: await c.call("DELETE", `/v1/v2p?vni=${enc(vni)}&ip=${enc(ip)}`),
        table: () => `cleared v2p ${vni}/${ip}`,
      };
    },
  },
  "dump-v2p": listVerb(
    "list V2P mappings",
    "dump-v2p",
    "/v1/v2p",
    (r) =>
      tableOf(["VNI", "IP", "MAC", "UNDERLAY"], r, [
        (m) => m.vni,
        (m) => m.ip,
        (m) => m.mac,
        (m) => m.underlay,
      ]),
  ),
  "set-v2b": {
    summary: "add boundary endpoints for a prefix (VNI default 99)",
    usage: "set-v2b PREFIX TUNNEL_ENDPOINT... [--vni N]   (adds endpoints; VNI default 99)",
    options: ["vni"],
    args: 2,
    maxArgs: Infinity,
    async run(c, [prefix, ...endpoints], o) {
      const vni = Number(o.vni ?? 99);
      const r = (await c.call("PUT", "/v1/v2b", { vni, prefix, endpoints })) as Row;
      return { data: r, table: () => `v2b ${vni}/${prefix}: ${list(r.endpoints)}` };
    },
  },
  "clear-v2b": {
    summary: "remove boundary endpoints of a prefix",
    usage: "clear-v2b PREFIX TUNNEL_ENDPOINT... [--vni N]   (removes those endpoints)",
    options: ["vni"],
    args: 2,
    maxArgs: Infinity,
    async run(c, [prefix, ...endpoints], o) {
      const vni = Number(o.vni ?? 99);
      const q = new URLSearchParams({ vni: String(vni), prefix });
      for (const e of endpoints) q.append("endpoint", e);
      const r = (await c.call("DELETE", `/v1/v2b?${q}`)) as Row | null;
      return {
        data: r,
        table: () =>
          r ? `v2b ${vni}/${prefix}: ${list(r.endpoints)}` : `cleared v2b ${vni}/${prefix}`,
      };
    },
  },
  "dump-v2b": listVerb(
    "list V2B mappings",
    "dump-v2b",
    "/v1/v2b",
    (r) =>
      tableOf(["VNI", "PREFIX", "ENDPOINTS"], r, [
        (m) => m.vni,
        (m) => m.prefix,
        (m) => m.endpoints,
      ]),
  ),
  "set-m2p": {
    summary: "set a multicast-to-physical mapping",
    usage: "set-m2p GROUP UNDERLAY_GROUP",
    args: 2,
    async run(c, [group, underlay]) {
      return {
        data: await c.call("PUT", "/v1/m2p", { group, underlay }),
        table: () => `set m2p ${group}`,
      };
    },
  },
  "dump-m2p": listVerb(
    "list M2P mappings",
    "dump-m2p",
    "/v1/m2p",
    (r) => tableOf(["GROUP", "UNDERLAY"], r, [(m) => m.group, (m) => m.underlay]),
  ),
};

const list = (v: unknown) => (Array.isArray(v) && v.length ? v.join(",") : "none");
