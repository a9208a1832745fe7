// Read-only views of a port for dumps, the admin API and tests. Allowed in any port state.

import { FlowId } from "../packet/flow.ts";
import { DIR_IN, DIR_OUT, type Direction, dirName } from "./packet.ts";
import type { Port } from "./port.ts";
import { TCP_STATE_NAMES } from "./tcp.ts";

const key = new FlowId();

/** UFT entries of `dir` as plain objects. */
export function dumpUft(port: Port, dir: Direction): object[] {
  const t = port.flows.uft[dir];
  return t.values().map((e) => ({
    flow: t.keyAt(e.idx, key).toString(),
    dir: dirName(dir),
    epoch: e.epoch,
    hits: e.hits,
    compiled: e.plan !== null,
    transforms: e.list.map((x) => x.name ?? "unnamed"),
    tcp: e.tcp ? TCP_STATE_NAMES[e.tcp.state] : undefined,
    paired: e.pair !== null,
  }));
}

/** TCP flows as plain objects. */
export function dumpTcp(port: Port): object[] {
  const t = port.flows.tcp;
  return t.values().map((f) => ({
    flow: t.keyAt(f.idx, key).toString(),
    state: TCP_STATE_NAMES[f.state],
    segments: f.segments,
  }));
}

/** A layer's rules, LFT pairs and counters. */
export function dumpLayer(port: Port, name: string): object {
  const L = port.layer(name);
  return {
    name: L.name,
    defaults: { out: L.defaults[DIR_OUT], in: L.defaults[DIR_IN] },
    rules: {
      out: L.rules[DIR_OUT].list.map((r) => r.toJSON()),
      in: L.rules[DIR_IN].list.map((r) => r.toJSON()),
    },
    flows: L.lft[DIR_OUT].values().map((p) => ({
      out: L.lft[DIR_OUT].keyAt(p.outIdx, key).toString(),
      in: L.lft[DIR_IN].keyAt(p.inIdx, key).toString(),
      desc: p.desc.name ?? "stateful",
      rule: p.rule,
    })),
    stats: L.stats,
  };
}

/** Port counters plus table occupancy. */
export function statsSnapshot(port: Port): object {
  const f = port.flows;
  return {
    ...port.stats.toJSON(),
    state: port.stateName,
    epoch: f.epoch,
    uftOut: f.uft[DIR_OUT].size,
    uftIn: f.uft[DIR_IN].size,
    tcpFlows: f.tcp.size,
    lft: Object.fromEntries(port.layers.map((l) => [l.name, l.pairCount])),
  };
}
