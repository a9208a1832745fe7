// CLI firewall verbs: a port's rules.

import { enc, fwTable, readDoc, type Row, type Verb } from "./common.ts";

/** Firewall verbs: a port's rules. */
export const FIREWALL_VERBS: Record<string, Verb> = {
  "list-fw-rules": {
    summary: "list a port's firewall rules",
    usage: "list-fw-rules PORT",
    port: true,
    args: 1,
    async run(c, [port]) {
      const r = (await c.call("GET", `/v1/ports/${enc(port)}/firewall`)) as Row[];
      return { data: r, table: fwTable(r) };
    },
  },
  "add-fw-rule": {
    summary: "add a firewall rule to a port",
    usage:
      "add-fw-rule PORT --direction in|out --priority N --action allow|deny [--protocol any|tcp|udp|arp|N|icmp[6][:TYPE[,LO[-HI]]]] [--ports P,LO-HI,...] [--host PREFIX|vni:N]",
    options: ["direction", "priority", "action", "protocol", "ports", "host"],
    args: 1,
    async run(c, [port], o) {
      const rule: Row = { direction: o.direction, priority: Number(o.priority), action: o.action };
      for (const k of ["ports", "host"]) if (o[k] !== undefined) rule[k] = o[k];
      if (typeof o.protocol === "string") Object.assign(rule, protocolOf(o.protocol));
      const r = (await c.call("POST", `/v1/ports/${enc(port)}/firewall`, rule)) as Row;
      return { data: r, table: fwTable([r]) };
    },
  },
  "rm-fw-rule": {
    summary: "remove a firewall rule by id",
    usage: "rm-fw-rule PORT ID",
    port: true,
    args: 2,
    async run(c, [port, id]) {
      return {
        data: await c.call("DELETE", `/v1/ports/${enc(port)}/firewall/${enc(id)}`),
        table: () => `removed rule ${id}`,
      };
    },
  },
  "set-fw-rules": {
    summary: "replace a port's firewall rules",
    usage: "set-fw-rules PORT FILE   (a YAML/JSON list of rules; replaces all)",
    port: true,
    args: 2,
    async run(c, [port, file]) {
      const r =
        (await c.call("PUT", `/v1/ports/${enc(port)}/firewall`, await readDoc(file))) as Row[];
      return { data: r, table: fwTable(r) };
    },
  },
};

/** `--protocol` as the API's fields: a name, a number, or `icmp[6]:TYPE[,LO[-HI]]`. */
function protocolOf(s: string): Row {
  if (/^\d+$/.test(s)) return { protocol: Number(s) };
  const m = /^(icmp6?):(\d+)(?:,(\d+)(?:-(\d+))?)?$/.exec(s);
  if (!m) return { protocol: s };
  const icmp: Row = { type: Number(m[2]) };
  if (m[3] !== undefined) icmp.codes = [Number(m[3]), Number(m[4] ?? m[3])];
  return { protocol: m[1], icmp };
}
