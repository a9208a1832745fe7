// `MemoryDatapath`: the datapath contract with no packet I/O, so the service runs and every
// admin path is testable without privileges.

import { type Change, type Kind, PER_PORT_KINDS } from "../config/resources.ts";
import { CaptureLink, type FrameWriter, type TapOptions } from "../link/capture.ts";
import { type MemoryLink, memoryPair } from "../link/memory.ts";
import {
  type AdminDatapath,
  type CaptureTarget,
  type CounterSample,
  DatapathRejected,
  type PortStatus,
} from "../contract/datapath.ts";

/** A datapath without packet I/O: tracks ports and changes so every admin path runs. */
export class MemoryDatapath implements AdminDatapath {
  readonly platform = "memory";
  readonly ports = new Map<string, PortStatus>();
  /** Number of applied changes per kind (for metrics and tests). */
  readonly applied = new Map<Kind, number>();
  /** Each port's switch-side link (tappable) and the client's end of its wire. */
  readonly links = new Map<string, { link: CaptureLink; client: MemoryLink }>();
  closed = false;

  /** Applies one change; refuses a table for a port it does not have. */
  apply(c: Change): Promise<void> {
    if (c.kind === "port") {
      if (c.value === null) {
        this.ports.delete(c.key);
        this.links.get(c.key)?.link.close();
        this.links.delete(c.key);
      } else if (!this.ports.has(c.key)) {
        const [sw, client] = memoryPair({ name: c.key }, {
          name: `${c.key}-client`,
          mac: c.value.mac,
        });
        this.links.set(c.key, { link: new CaptureLink(sw), client });
        this.ports.set(c.key, {
          state: "running",
          link: { name: c.key, kind: "memory", up: true },
          counters: { rx_frames: 0, tx_frames: 0, drops: 0 },
        });
      }
    } else if ((PER_PORT_KINDS as readonly string[]).includes(c.kind) && c.value !== null) {
      if (!this.ports.has(c.key)) {
        return Promise.reject(new DatapathRejected("port", `no port ${c.key}`));
      }
    }
    this.applied.set(c.kind, (this.applied.get(c.kind) ?? 0) + 1);
    return Promise.resolve();
  }

  /** Status of a port, null when absent. */
  portStatus(name: string): PortStatus | null {
    return this.ports.get(name) ?? null;
  }

  /** Per-port counters and applied-change counts. */
  counters(): CounterSample[] {
    const out: CounterSample[] = [];
    for (const [port, st] of this.ports) {
      for (const [k, v] of Object.entries(st.counters)) {
        out.push({
          name: `xdeno_port_${k}_total`,
          help: `port ${k.replace("_", " ")}`,
          type: "counter",
          labels: { port },
          value: v,
        });
      }
    }
    for (const [kind, n] of this.applied) {
      out.push({
        name: "xdeno_changes_applied_total",
        help: "datapath changes applied",
        type: "counter",
        labels: { kind },
        value: n,
      });
    }
    return out;
  }

  /** Pauses or starts a port. */
  setPortState(name: string, state: "running" | "paused"): Promise<void> {
    const p = this.ports.get(name);
    if (!p) return Promise.reject(new DatapathRejected("name", `no port ${name}`));
    p.state = state;
    return Promise.resolve();
  }

  /** Taps a port's link (this datapath has no underlay links). */
  tap(target: CaptureTarget, writer: FrameWriter, opts: TapOptions): (() => void) | null {
    const l = target.kind === "port" ? this.links.get(target.name) : undefined;
    return l ? l.link.tap(writer, opts) : null;
  }

  /** Forgets everything. */
  close(): Promise<void> {
    this.closed = true;
    for (const l of this.links.values()) l.link.close();
    this.links.clear();
    this.ports.clear();
    return Promise.resolve();
  }
}
