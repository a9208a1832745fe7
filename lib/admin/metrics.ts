// Prometheus text exposition (format 0.0.4) of the datapath counters plus control-plane gauges.

import type { CounterSample } from "../contract/datapath.ts";
import type { Control } from "./control.ts";

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

/** Renders samples grouped by metric name, each name with one HELP and TYPE line. */
export function renderSamples(samples: CounterSample[]): string {
  const byName = new Map<string, CounterSample[]>();
  for (const s of samples) {
    const l = byName.get(s.name);
    if (l) l.push(s);
    else byName.set(s.name, [s]);
  }
  const out: string[] = [];
  for (const [name, list] of byName) {
    out.push(`# HELP ${name} ${list[0].help}`, `# TYPE ${name} ${list[0].type}`);
    for (const s of list) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${esc(v)}"`).join(",");
      out.push(`${name}${labels ? `{${labels}}` : ""} ${s.value}`);
    }
  }
  return out.join("\n") + "\n";
}

/** Everything /metrics shows. */
export function renderMetrics(ctl: Control): string {
  const own: CounterSample[] = [];
  for (const [kind, m] of Object.entries(ctl.state)) {
    own.push({
      name: "xdeno_resources",
      help: "configured resources by kind",
      type: "gauge",
      labels: { kind },
      value: (m as Map<string, unknown>).size,
    });
  }
  own.push({
    name: "xdeno_control_generation",
    help: "acknowledged API mutations since start",
    type: "counter",
    labels: {},
    value: ctl.generation,
  });
  return renderSamples([...own, ...(ctl.fleet?.samples() ?? []), ...ctl.datapath.counters()]);
}
