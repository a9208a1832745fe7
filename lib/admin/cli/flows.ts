// CLI flow-table verbs: a port's UFT, LFT and TCP flows (opteadm's dump-uft, dump-lft, …).

import { ApiError } from "../client.ts";
import type { AdminClient } from "../client.ts";
import { enc, type Row, tableOf, type Verb } from "./common.ts";

/** The ports that keep flow tables (those with an overlay pipeline). */
export async function pipelinePorts(c: AdminClient): Promise<string[]> {
  const ports = (await c.call("GET", "/v1/ports")) as Row[];
  return ports.filter((p) => p.overlay).map((p) => p.name as string);
}

/** UFT rows with their port (one port, or every port with a pipeline). */
async function uftRows(c: AdminClient, port: string | undefined): Promise<Row[]> {
  const names = port !== undefined ? [port] : await pipelinePorts(c);
  const out: Row[] = [];
  for (const p of names) {
    const rows = (await c.call("GET", `/v1/ports/${enc(p)}/flows/uft`)) as Row[];
    out.push(...rows.map((r) => ({ port: p, ...r })));
  }
  return out;
}

/** The LFT rows of a port, optionally of one layer. */
async function lftRows(c: AdminClient, port: string, layer?: string): Promise<Row[]> {
  const layers = (await c.call("GET", `/v1/ports/${enc(port)}/flows/lft`)) as Row[];
  if (layer !== undefined && !layers.some((l) => l.layer === layer)) {
    throw new ApiError(2, `${port} has no layer ${layer} (see xdeno list-layers ${port})`);
  }
  return layers.filter((l) => layer === undefined || l.layer === layer).flatMap((l) =>
    (l.flows as Row[]).map((f) => ({ layer: l.layer, ...f }))
  );
}

/** Flow-table verbs. */
export const FLOW_VERBS: Record<string, Verb> = {
  "dump-uft": {
    summary: "dump a port's (or every port's) unified flow table",
    usage: "dump-uft [PORT | -p PORT]   (no port: every port with a pipeline)",
    port: true,
    args: 0,
    maxArgs: 1,
    async run(c, [port]) {
      const r = await uftRows(c, port);
      return {
        data: r,
        table: r.length === 0 ? () => "(no flows)" : tableOf(
          ["PORT", "DIR", "FLOW", "HITS", "EPOCH", "TCP", "COMPILED", "TRANSFORMS"],
          r,
          [
            (x) => x.port,
            (x) => x.dir,
            (x) => x.flow,
            (x) => x.hits,
            (x) => x.epoch,
            (x) => x.tcp,
            (x) => x.compiled ? "yes" : "no",
            (x) => x.transforms,
          ],
        ),
      };
    },
  },
  "dump-lft": {
    summary: "dump a port's layer flow tables (one layer with LAYER)",
    usage: "dump-lft PORT [LAYER]   (PORT also as -p PORT)",
    port: true,
    args: 1,
    maxArgs: 2,
    async run(c, [port, layer]) {
      const r = await lftRows(c, port, layer);
      return {
        data: r,
        table: r.length === 0 ? () => "(no flows)" : tableOf(
          ["LAYER", "OUT FLOW", "IN FLOW", "RULE", "ACTION"],
          r,
          [(x) => x.layer, (x) => x.out, (x) => x.in, (x) => x.rule, (x) => x.desc],
        ),
      };
    },
  },
  "dump-tcp-flows": {
    summary: "dump a port's TCP flow states",
    usage: "dump-tcp-flows PORT   (DIR: which side opened the connection)",
    port: true,
    args: 1,
    async run(c, [port]) {
      const r = (await c.call("GET", `/v1/ports/${enc(port)}/flows/tcp`)) as Row[];
      return {
        data: r,
        table: r.length === 0
          ? () => "(no flows)"
          : tableOf(["DIR", "FLOW", "STATE", "SEGMENTS"], r, [
            (x) => x.dir,
            (x) => x.flow,
            (x) => x.state,
            (x) => x.segments,
          ]),
      };
    },
  },
  "clear-uft": {
    summary: "clear a port's unified flow table",
    usage: "clear-uft PORT",
    port: true,
    args: 1,
    async run(c, [port]) {
      const r = (await c.call("DELETE", `/v1/ports/${enc(port)}/flows/uft`)) as Row;
      return { data: r, table: () => `cleared ${r.cleared} flows` };
    },
  },
  "clear-lft": {
    summary: "clear a port's layer flow tables, or one layer's (releases their resources)",
    usage: "clear-lft PORT [LAYER]   (PORT also as -p PORT)",
    port: true,
    args: 1,
    maxArgs: 2,
    async run(c, [port, layer]) {
      const q = layer === undefined ? "" : `?layer=${enc(layer)}`;
      const r = (await c.call("DELETE", `/v1/ports/${enc(port)}/flows/lft${q}`)) as Row;
      const what = layer === undefined ? "every layer" : `layer ${layer}`;
      return { data: r, table: () => `cleared ${r.cleared} flows of ${what} on ${port}` };
    },
  },
};
