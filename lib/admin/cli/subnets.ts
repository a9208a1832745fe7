// CLI verbs for a port's subnets, as opteadm names them: attached subnets (internal or
// external) and transit IPs per direction.

import { enc, type Row, type Verb } from "./common.ts";

/** Subnet verbs. */
export const SUBNET_VERBS: Record<string, Verb> = {
  "allow-cidr": {
    summary: "let a port send/receive on a prefix (transit IP, per --dir)",
    usage: "allow-cidr -p PORT PREFIX [--dir in|out]   (no --dir: both)",
    options: ["dir"],
    port: true,
    args: 2,
    async run(c, [port, cidr], o) {
      const b: Row = { cidr };
      if (o.dir !== undefined) b.dir = o.dir;
      return {
        data: await c.call("POST", `/v1/ports/${enc(port)}/subnets/transit`, b),
        table: () => `allowed ${cidr}${o.dir ? ` (${o.dir})` : ""}`,
      };
    },
  },
  "remove-cidr": {
    summary: "withdraw an allow-cidr (per --dir)",
    usage: "remove-cidr -p PORT PREFIX [--dir in|out]   (no --dir: both)",
    options: ["dir"],
    port: true,
    args: 2,
    async run(c, [port, cidr], o) {
      const q = new URLSearchParams({ cidr });
      if (typeof o.dir === "string") q.set("dir", o.dir);
      return {
        data: await c.call("DELETE", `/v1/ports/${enc(port)}/subnets/transit?${q}`),
        table: () => `removed ${cidr}${o.dir ? ` (${o.dir})` : ""}`,
      };
    },
  },
  "attach-subnet": {
    summary: "give a port a subnet (-e: external, no NAT)",
    usage: "attach-subnet -p PORT PREFIX [-e|--external]",
    port: true,
    short: { e: "external" },
    flags: ["external"],
    args: 2,
    async run(c, [port, cidr], o) {
      return {
        data: await c.call("POST", `/v1/ports/${enc(port)}/subnets/attached`, {
          cidr,
          external: o.external === true,
        }),
        table: () => `attached ${cidr}${o.external ? " (external)" : ""}`,
      };
    },
  },
  "detach-subnet": {
    summary: "take an attached subnet away",
    usage: "detach-subnet -p PORT PREFIX",
    port: true,
    args: 2,
    async run(c, [port, cidr]) {
      return {
        data: await c.call(
          "DELETE",
          `/v1/ports/${enc(port)}/subnets/attached?cidr=${enc(cidr)}`,
        ),
        table: () => `detached ${cidr}`,
      };
    },
  },
};
