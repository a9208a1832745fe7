// Read-only views of a port for dumps, the admin API and tests. Allowed in any port state.

import { FlowId } from "../packet/flow.ts";
import { DIR_IN, DIR_OUT, type Direction, dirName } from "./packet.ts";
import type { Port } from "./port.ts";
import type { Predicate } from "./predicate.ts";
import type { Rule } from "./rule.ts";
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
    tcp: e.tcp ? TCP_STATE_NAMES[e.tcp.state] : null,
    paired: e.pair !== null,
  }));
}

/** TCP flows as plain objects. */
export function dumpTcp(port: Port): object[] {
  const t = port.flows.tcp;
  return t.values().map((f) => ({
    flow: t.keyAt(f.idx, key).toString(),
    dir: dirName(f.opener),
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
      out: L.rules[DIR_OUT].list.map(ruleRow),
      in: L.rules[DIR_IN].list.map(ruleRow),
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

/** A rule as a dump row: its JSON plus its predicates as one line of text. */
function ruleRow(r: Rule): object {
  return { ...r.toJSON(), match: predicatesText(r.spec.predicates ?? []) };
}

/** Predicates as opteadm prints them: `kind=value` joined by spaces, "*" for none. */
export function predicatesText(ps: readonly Predicate[]): string {
  return ps.length === 0 ? "*" : ps.map(predicateText).join(" ");
}

function predicateText(p: Predicate): string {
  switch (p.kind) {
    case "etherType":
      return `ether.type=${p.values.map((v) => "0x" + v.toString(16).padStart(4, "0")).join(",")}`;
    case "etherSrc":
    case "etherDst":
      return `${p.kind === "etherSrc" ? "ether.src" : "ether.dst"}=${p.mac ?? "multicast"}`;
    case "ipVersion":
      return `ip.version=${p.version}`;
    case "ipSrc":
    case "ipDst":
      return `${p.kind === "ipSrc" ? "ip.src" : "ip.dst"}=${p.cidrs.join(",")}`;
    case "ipProto":
      return `ip.proto=${p.values.join(",")}`;
    case "srcPort":
    case "dstPort":
      return `${p.kind === "srcPort" ? "l4.src" : "l4.dst"}=${
        p.ports.map((x) => typeof x === "number" ? x : `${x[0]}-${x[1]}`).join(",")
      }`;
    case "icmpType":
    case "icmpCode":
      return `${p.v6 ? "icmp6" : "icmp"}.${p.kind === "icmpType" ? "type" : "code"}=${
        p.values.join(",")
      }`;
    case "meta":
      return `meta.${p.key}=${p.value}`;
    case "dhcpMsgType":
    case "dhcpv6MsgType":
      return `${p.kind === "dhcpMsgType" ? "dhcp" : "dhcp6"}.type=${p.values.join(",")}`;
    case "not":
      return `!(${predicateText(p.pred)})`;
    case "any":
      return `(${p.preds.map(predicateText).join(" | ")})`;
    case "all":
      return `(${p.preds.map(predicateText).join(" & ")})`;
  }
}
