// CLI port verbs: add and remove ports.

import { enc, readDoc, type Row, tableOf, type Verb } from "./common.ts";

/** Port verbs: add and remove ports. */
const ext = (p: Row) => {
  const x = p.externalIps as Row | null;
  if (!x) return [];
  const snat = x.snat as Row | undefined;
  return [
    ...(x.ephemeral as string[]),
    ...(x.floating as string[]),
    ...(snat ? [`${snat.ip}:${(snat.ports as number[]).join("-")}`] : []),
  ];
};

export const PORT_VERBS: Record<string, Verb> = {
  "list-ports": {
    summary: "list ports with their addresses, external IPs and state",
    usage: "list-ports",
    args: 0,
    async run(c) {
      const ports = (await c.call("GET", "/v1/ports")) as Row[];
      const ov = (p: Row) => (p.overlay as Row | undefined) ?? {};
      return {
        data: ports,
        table: tableOf(
          ["NAME", "KIND", "MAC", "ZONE", "IPv4", "IPv6", "EXTERNAL IP", "VNI", "STATE"],
          ports,
          [
            (p) => p.name,
            (p) => p.kind,
            (p) => p.mac,
            (p) => p.zone,
            (p) => ov(p).ipv4 ?? (p.addresses as string[]).filter((a) => !a.includes(":")),
            (p) => ov(p).ipv6 ?? (p.addresses as string[]).filter((a) => a.includes(":")),
            ext,
            (p) => ov(p).vni,
            (p) => (p.status as Row | null)?.state,
          ],
        ),
      };
    },
  },
  "add-port": {
    summary: "add a port from a YAML/JSON file",
    usage: "add-port FILE   (a port as in the config's ports[], YAML or JSON)",
    args: 1,
    async run(c, [file]) {
      const p = (await c.call("POST", "/v1/ports", await readDoc(file))) as Row;
      return { data: p, table: () => `added port ${p.name}` };
    },
  },
  "rm-port": {
    summary: "remove a port",
    usage: "rm-port NAME",
    args: 1,
    async run(c, [name]) {
      return {
        data: await c.call("DELETE", `/v1/ports/${enc(name)}`),
        table: () => `removed port ${name}`,
      };
    },
  },
};

// pause-port and start-port: the switch keeps the port's state; only its traffic stops.
for (
  const [verb, action, done] of [["pause-port", "pause", "paused"], [
    "start-port",
    "start",
    "started",
  ]]
) {
  PORT_VERBS[verb] = {
    summary: action === "pause"
      ? "pause a port: its traffic stops, its tables and flows stay"
      : "start a paused port",
    usage: `${verb} PORT`,
    port: true,
    args: 1,
    async run(c, [port]) {
      return {
        data: await c.call("POST", `/v1/ports/${enc(port)}/${action}`),
        table: () => `${done} ${port}`,
      };
    },
  };
}
