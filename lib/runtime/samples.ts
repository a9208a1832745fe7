// The switch's counters as /metrics samples: per-port and per-underlay-link I/O, switch drops
// and events by reason, and pipeline drop reasons. Built on request (never per packet).

import type { CounterSample } from "../contract/datapath.ts";
import type { Port } from "../engine/port.ts";
import type { LinkStats } from "../link/link.ts";
import { DROP_REASONS, EVENTS } from "../switch/counters.ts";
import type { Switch } from "../switch/switch.ts";

const LINK_FIELDS: [keyof LinkStats, string, string][] = [
  ["rxFrames", "rx_frames", "frames received"],
  ["txFrames", "tx_frames", "frames sent"],
  ["rxBytes", "rx_bytes", "bytes received"],
  ["txBytes", "tx_bytes", "bytes sent"],
  ["rxErrors", "rx_errors", "receive errors"],
  ["txErrors", "tx_errors", "send errors"],
  ["txDropped", "tx_dropped", "frames dropped on send"],
];

/** Every counter of `sw`; `ports` are the names the admin plane knows, `vpc` their pipelines. */
export function counterSamples(
  sw: Switch,
  ports: Iterable<string>,
  vpc: (port: string) => Port | null = () => null,
): CounterSample[] {
  const out: CounterSample[] = [];
  const link = (prefix: string, label: Record<string, string>, s: LinkStats) => {
    for (const [k, name, help] of LINK_FIELDS) {
      out.push({
        name: `xdeno_${prefix}_${name}_total`,
        help: `${prefix} ${help}`,
        type: "counter",
        labels: label,
        value: s[k],
      });
    }
  };
  for (const name of ports) {
    const p = sw.port(name);
    if (p) link("port", { port: name }, p.link.stats);
    const v = vpc(name);
    if (v) pipelineSamples(out, name, v);
  }
  for (const u of sw.underlay) link("underlay", { link: u.link.name }, u.link.stats);
  const byIndex = (
    name: string,
    help: string,
    label: string,
    keys: readonly string[],
    v: ArrayLike<number>,
  ) =>
    keys.forEach((k, i) =>
      out.push({ name, help, type: "counter", labels: { [label]: k }, value: v[i] })
    );
  byIndex(
    "xdeno_switch_drops_total",
    "frames the switch dropped, by reason",
    "reason",
    DROP_REASONS,
    sw.counters.drops,
  );
  byIndex(
    "xdeno_switch_events_total",
    "switch events, by kind",
    "event",
    EVENTS,
    sw.counters.events,
  );
  for (const [reason, n] of sw.ov.reasons) {
    out.push({
      name: "xdeno_pipeline_drops_total",
      help: "frames a VPC pipeline dropped, by reason",
      type: "counter",
      labels: { reason },
      value: n,
    });
  }
  return out;
}

/** A port's pipeline drops and errors by reason, and each layer's drops by direction. */
function pipelineSamples(out: CounterSample[], port: string, p: Port): void {
  const byReason = (name: string, help: string, m: Iterable<[string, number]>) => {
    for (const [reason, value] of m) {
      out.push({ name, help, type: "counter", labels: { port, reason }, value });
    }
  };
  byReason(
    "xdeno_port_pipeline_drops_total",
    "frames a port's pipeline dropped, by reason",
    p.stats.drops,
  );
  byReason(
    "xdeno_port_pipeline_errors_total",
    "a port's pipeline errors, by reason",
    p.stats.errors,
  );
  for (const l of p.layers) {
    for (const direction of ["out", "in"] as const) {
      out.push({
        name: "xdeno_layer_drops_total",
        help: "frames a layer dropped (deny rule or default), by port and direction",
        type: "counter",
        labels: { port, layer: l.name, direction },
        value: l.stats[direction].drops,
      });
    }
  }
}
