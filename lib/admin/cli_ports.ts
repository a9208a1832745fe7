// CLI verbs about ports and their tables: ports, firewall, router, NAT, layers, flows, capture.

import { ApiError } from "./client.ts";
import { anyTable, enc, fwTable, readDoc, type Row, type Verb } from "./cli_common.ts";

/** Port-level verbs. */
export const PORT_VERBS: Record<string, Verb> = {
  "add-port": {
    usage: "add-port FILE   (a port as in the config's ports[], YAML or JSON)",
    args: 1,
    async run(c, [file]) {
      const p = (await c.call("POST", "/v1/ports", await readDoc(file))) as Row;
      return { data: p, table: () => `added port ${p.name}` };
    },
  },
  "rm-port": {
    usage: "rm-port NAME",
    args: 1,
    async run(c, [name]) {
      return {
        data: await c.call("DELETE", `/v1/ports/${enc(name)}`),
        table: () => `removed port ${name}`,
      };
    },
  },
  "list-fw-rules": {
    usage: "list-fw-rules PORT",
    args: 1,
    async run(c, [port]) {
      const r = (await c.call("GET", `/v1/ports/${enc(port)}/firewall`)) as Row[];
      return { data: r, table: fwTable(r) };
    },
  },
  "add-fw-rule": {
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
    usage: "rm-fw-rule PORT ID",
    args: 2,
    async run(c, [port, id]) {
      return {
        data: await c.call("DELETE", `/v1/ports/${enc(port)}/firewall/${enc(id)}`),
        table: () => `removed rule ${id}`,
      };
    },
  },
  "set-fw-rules": {
    usage: "set-fw-rules PORT FILE   (a YAML/JSON list of rules; replaces all)",
    args: 2,
    async run(c, [port, file]) {
      const r =
        (await c.call("PUT", `/v1/ports/${enc(port)}/firewall`, await readDoc(file))) as Row[];
      return { data: r, table: fwTable(r) };
    },
  },
  "set-external-ips": {
    usage: "set-external-ips PORT [--snat IP:FIRST-LAST] [--ephemeral IP,...] [--floating IP,...]",
    options: ["snat", "ephemeral", "floating"],
    args: 1,
    async run(c, [port], o) {
      const body: Row = {};
      if (typeof o.snat === "string") {
        const m = /^(.*):(\d+)-(\d+)$/.exec(o.snat);
        if (!m) throw new ApiError(2, "--snat: expected IP:FIRST-LAST");
        body.snat = { ip: m[1].replace(/^\[|\]$/g, ""), ports: [Number(m[2]), Number(m[3])] };
      }
      for (const k of ["ephemeral", "floating"]) {
        if (typeof o[k] === "string") body[k] = (o[k] as string).split(",");
      }
      return {
        data: await c.call("PUT", `/v1/ports/${enc(port)}/external-ips`, body),
        table: () => `set external IPs of ${port}`,
      };
    },
  },
  "dump-uft": {
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
  "list-layers": {
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
    usage: "dump-layer PORT LAYER",
    args: 2,
    async run(c, [port, layer]) {
      return { data: await c.call("GET", `/v1/ports/${enc(port)}/layers/${enc(layer)}`) };
    },
  },
  "dump-tcp-flows": {
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
  capture: {
    usage: "capture PORT [--count N] [--seconds S] [--direction in|out|both] [--link] > x.pcap",
    options: ["count", "seconds", "direction"],
    flags: ["link"],
    args: 1,
    async run(c, [name], o) {
      if (Deno.stdout.isTerminal()) {
        throw new ApiError(2, "writes a pcap to stdout: redirect it to a file or pipe");
      }
      const q = new URLSearchParams();
      for (const k of ["count", "seconds", "direction"]) {
        if (typeof o[k] === "string") q.set(k, o[k] as string);
      }
      const body = await c.stream(`/v1/${o.link ? "links" : "ports"}/${enc(name)}/capture?${q}`);
      await body.pipeTo(Deno.stdout.writable, { preventClose: true });
      return { data: null, raw: true };
    },
  },
  "clear-uft": {
    usage: "clear-uft PORT",
    args: 1,
    async run(c, [port]) {
      const r = (await c.call("DELETE", `/v1/ports/${enc(port)}/flows/uft`)) as Row;
      return { data: r, table: () => `cleared ${r.cleared} flows` };
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
