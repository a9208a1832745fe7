// SwitchDatapath: the admin plane's resources (Changes) applied to a running Switch. Each change
// is applied between two batches (the loop is single-threaded: `apply` runs while `run` awaits)
// and fully or not at all; the tables of a port (firewall, router, external IPs) are kept so a
// port recreated by an update gets them back.

import {
  type AdminDatapath,
  type CounterSample,
  DatapathRejected,
  type PortStatus,
} from "../contract/datapath.ts";
import type { Change, PortSpec } from "../config/resources.ts";
import type {
  Config,
  ExternalIps,
  FirewallRule,
  PortSubnets,
  RouterEntry,
  V2b,
} from "../config/schema.ts";
import { canonical } from "../config/resources.ts";
import { DIR_IN, DIR_OUT, PortStateError } from "../engine/mod.ts";
import type { Link } from "../link/link.ts";
import { ipv6ToString } from "../packet/bytes.ts";
import { Switch, type SwitchConfig } from "../switch/switch.ts";
import { linkWaiter } from "../switch/wait.ts";
import { Mappings } from "../vpc/mappings.ts";
import { type VpcPort, vpcPort } from "../vpc/vpc_port.ts";
import { McastState } from "./multicast.ts";
import type { Platform, PortLink } from "./platform.ts";
import { counterSamples } from "./samples.ts";
import { addressOf, externalInput, firewallInput, routeInput, vpcConfig } from "./translate.ts";
import { InvalidField } from "../contract/field_error.ts";

/** The part of the config the runtime is built from (the rest arrives as Changes). */
export type RuntimeConfig = Pick<Config, "sled" | "underlay" | "boundaryServices">;

/** Switch tuning passed through (batch size, frame size, timers). */
export type SwitchTuning = Pick<
  SwitchConfig,
  "batch" | "frameSize" | "tickMs" | "nud" | "vnet" | "clock"
>;

interface LivePort {
  spec: PortSpec;
  pl: PortLink;
  vpc: VpcPort | null;
}

/** A running switch driven by config Changes. */
export class SwitchDatapath implements AdminDatapath {
  readonly platform: string;
  readonly sw: Switch;
  readonly mappings = new Mappings();
  private readonly live = new Map<string, LivePort>();
  private readonly firewall = new Map<string, FirewallRule[]>();
  private readonly router = new Map<string, RouterEntry[]>();
  private readonly external = new Map<string, ExternalIps>();
  private readonly subnets = new Map<string, PortSubnets>();
  private readonly v2b = new Map<string, V2b>();
  /** Config link name → the name of the Link the switch knows it by. */
  private readonly linkNames = new Map<string, string>();
  private readonly mcast: McastState;
  private readonly stop = { stopped: false };
  private loop: Promise<void> | null = null;
  private closed = false;

  constructor(
    readonly config: RuntimeConfig,
    readonly links: Platform,
    tuning: SwitchTuning = {},
  ) {
    this.platform = links.name;
    const opened: Link[] = [];
    try {
      const underlay = config.underlay.links.map((l) => {
        const link = links.underlay(l.name, l.device ?? l.name);
        opened.push(link);
        this.linkNames.set(l.name, link.name);
        return { link, linkLocal: l.linkLocal };
      });
      this.sw = new Switch({
        ...tuning,
        underlayPrefix: config.sled.underlayPrefix,
        sledAddress: config.sled.underlayAddress,
        underlay,
      });
    } catch (e) {
      for (const l of opened) l.close();
      links.close();
      throw e;
    }
    this.mcast = new McastState(this.sw);
    if (links.tick) this.sw.onTick(() => links.tick!());
    // Default boundary routes for overlay traffic with no more specific V2B entry (every
    // configured endpoint, each with its VNI).
    for (const p of ["0.0.0.0/0", "::/0"]) this.setV2b(`-/${p}`, null);
  }

  /** Starts the packet loop (blocking poll on real links: run it in a Worker). */
  start(extra?: { readonly stopped: boolean }, idleMs = 10): Promise<void> {
    const own = this.stop;
    const stop = {
      get stopped() {
        return own.stopped || (extra?.stopped ?? false);
      },
    };
    this.loop ??= this.sw.run(stop, linkWaiter(this.sw), idleMs);
    return this.loop;
  }

  /** Applies one change now; throws DatapathRejected (nothing changed) when refused. */
  applyNow(c: Change): void {
    if (this.closed) throw new DatapathRejected(c.kind, "datapath is closed");
    try {
      this.applyInner(c);
    } catch (e) {
      if (e instanceof DatapathRejected) throw e;
      if (e instanceof PortStateError) throw new DatapathRejected("state", e.message);
      if (e instanceof InvalidField) throw new DatapathRejected(e.field, e.reason);
      const msg = e instanceof Error ? e.message : String(e);
      throw new DatapathRejected(`${c.kind}.${c.key}`, msg);
    }
  }

  /** AdminDatapath: applies one change. */
  apply(c: Change): Promise<void> {
    try {
      this.applyNow(c);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  private applyInner(c: Change): void {
    switch (c.kind) {
      case "route":
        if (c.value === null) this.sw.removeRoute(c.key);
        else {
          this.sw.setRoute(
            c.value.prefix,
            c.value.nextHops.map((h) => ({
              link: this.linkNames.get(h.link) ?? h.link,
              via: h.via,
            })),
          );
        }
        return;
      case "port":
        if (c.value === null) this.removePort(c.key);
        else this.setPort(c.value);
        return;
      case "firewall":
        return this.table(c.key, this.firewall, c.value, (v, rules) => {
          // The rule set as given: no rule the control plane did not send.
          v.setFirewall((rules ?? []).map(firewallInput));
        });
      case "router":
        return this.table(c.key, this.router, c.value, (v, rs) => {
          v.setRoutes((rs ?? []).map(routeInput));
        });
      case "externalIps":
        return this.table(c.key, this.external, c.value, (v, x) => {
          v.setExternalIps(externalInput(x));
        });
      case "subnets":
        return this.table(c.key, this.subnets, c.value, (v, x) => {
          v.setSubnets(x ?? { attached: [], transit: [] });
        });
      case "v2p": {
        const [vni, ip] = splitKey(c.key);
        if (c.value === null) this.mappings.v2p.clear(vni, ip);
        else this.mappings.v2p.set(c.value.vni, c.value.ip, c.value.mac, c.value.underlay);
        return;
      }
      case "v2b":
        return this.setV2b(c.key, c.value);
      case "m2p":
        return this.mcast.setM2p(c.value?.group ?? c.key, c.value?.underlay ?? null);
      case "subscription":
        return this.mcast.setSubscription(c.key, c.value);
      case "mcastFwd":
        return this.sw.setMcastForwarding(c.value?.underlay ?? c.key, c.value?.nextHops ?? []);
    }
  }

  /**
   * Applies one (vni, prefix) V2B resource: a prefix's endpoints are the union of its resources
   * across VNIs, each endpoint with its own VNI (upstream's TunnelEndpoint); a prefix with none
   * left falls back to the config's boundary services (default prefixes) or is cleared.
   */
  private setV2b(key: string, value: V2b | null): void {
    const old = this.v2b.get(key);
    const prefix = value?.prefix ?? old?.prefix ?? splitKey(key)[1];
    const next = new Map(this.v2b);
    if (value === null) next.delete(key);
    else next.set(key, value);
    const eps = [...next.values()].filter((m) => m.prefix === prefix)
      .flatMap((m) => m.endpoints.map((ip) => ({ ip, vni: m.vni })));
    const base = prefix === "0.0.0.0/0" || prefix === "::/0"
      ? this.config.boundaryServices.map((b) => ({ ip: b.endpoint, vni: b.vni }))
      : [];
    const use = eps.length > 0 ? eps : base;
    if (use.length > 0) this.mappings.v2b.set(prefix, use);
    else this.mappings.v2b.clear(prefix);
    if (value === null) this.v2b.delete(key);
    else this.v2b.set(key, value);
  }

  /** Stores a per-port table and applies it to the port's VPC pipeline when there is one. */
  private table<T>(
    port: string,
    store: Map<string, T>,
    value: T | null,
    set: (v: VpcPort, value: T | null) => void,
  ): void {
    const lp = this.live.get(port);
    if (value !== null && !lp) throw new DatapathRejected("port", `no port ${port}`);
    if (lp?.vpc) set(lp.vpc, value);
    if (value === null) store.delete(port);
    else store.set(port, value);
  }

  private setPort(spec: PortSpec): void {
    const old = this.live.get(spec.name);
    if (old && canonical(old.spec) === canonical(spec)) return;
    const paused = this.sw.port(spec.name)?.paused ?? false;
    if (old) this.removePort(spec.name);
    try {
      this.addPort(spec);
    } catch (e) {
      if (old) this.addPort(old.spec);
      throw e;
    } finally {
      this.setPaused(spec.name, paused);
    }
  }

  private addPort(spec: PortSpec): void {
    const vcfg = vpcConfig(spec, this.config.sled.underlayAddress, this.mappings);
    // The switch's per-batch clock (the injected one, read once a pass): replay drives it from
    // capture times.
    const vpc = vcfg ? vpcPort({ ...vcfg, clock: this.sw.batchClock }) : null;
    const pl = this.links.port(spec, {
      underlayAddress: this.config.sled.underlayAddress,
      underlayPrefix: this.config.sled.underlayPrefix,
      gatewayLinkLocal: ipv6ToString(this.sw.gatewayLinkLocal),
    });
    try {
      const underlay = spec.kind === "instance" ? [] : spec.addresses
        .map(addressOf).filter((a) => a.includes(":") && !a.toLowerCase().startsWith("fe80"));
      if (spec.kind === "host" && underlay.length === 0) {
        underlay.push(this.config.sled.underlayAddress);
      }
      this.sw.addPort({
        name: spec.name,
        kind: spec.kind,
        link: pl.link,
        mac: spec.mac,
        underlay,
        mtu: spec.mtu,
        vni: spec.overlay?.vni,
        pipeline: vpc ?? undefined,
      });
    } catch (e) {
      pl.release();
      pl.link.close();
      throw e;
    }
    this.live.set(spec.name, { spec, pl, vpc });
    this.mcast.portAdded(spec.name);
    if (vpc) {
      const fw = this.firewall.get(spec.name), rt = this.router.get(spec.name);
      const x = this.external.get(spec.name);
      if (fw) vpc.setFirewall(fw.map(firewallInput));
      if (rt) vpc.setRoutes(rt.map(routeInput));
      if (x) vpc.setExternalIps(externalInput(x));
      const sn = this.subnets.get(spec.name);
      if (sn) vpc.setSubnets(sn);
    }
  }

  private removePort(name: string): void {
    const lp = this.live.get(name);
    if (!lp) throw new DatapathRejected("name", `no port ${name}`);
    this.live.delete(name);
    this.sw.removePort(name); // releases flows (SNAT ports) and closes the link
    lp.pl.release();
  }

  /** Pauses or resumes a port's traffic (kept across a recreation of the port). */
  setPortState(name: string, state: "running" | "paused"): Promise<void> {
    if (!this.setPaused(name, state === "paused")) {
      return Promise.reject(new DatapathRejected("name", `no port ${name}`));
    }
    return Promise.resolve();
  }

  /** Pauses the switch port and its VPC pipeline (which then refuses rule and flow changes). */
  private setPaused(name: string, paused: boolean): boolean {
    const vpc = this.live.get(name)?.vpc?.port;
    if (vpc) paused ? vpc.pause() : vpc.start();
    return this.sw.setPaused(name, paused);
  }

  /** The spec a live port was built from (null: no such port). */
  portSpec(name: string): PortSpec | null {
    return this.live.get(name)?.spec ?? null;
  }

  /** The VPC pipeline of a port (null: none or no such port). */
  vpc(name: string): VpcPort | null {
    return this.live.get(name)?.vpc ?? null;
  }

  /** Runtime status of one port. */
  portStatus(name: string): PortStatus | null {
    const p = this.sw.port(name);
    if (!p) return null;
    const s = p.link.stats;
    return {
      state: p.paused ? "paused" : "running",
      link: { name: p.link.name, kind: p.link.kind, up: p.link.isUp() },
      counters: {
        rx_frames: s.rxFrames,
        tx_frames: s.txFrames,
        rx_bytes: s.rxBytes,
        tx_bytes: s.txBytes,
        drops: s.rxErrors + s.txErrors + s.txDropped,
      },
    };
  }

  /** Every port's status by name. */
  allPortStatus(): Record<string, PortStatus> {
    const out: Record<string, PortStatus> = {};
    for (const name of this.live.keys()) out[name] = this.portStatus(name)!;
    return out;
  }

  /** Port, underlay link, switch and pipeline counters. */
  counters(): CounterSample[] {
    return counterSamples(this.sw, this.live.keys(), (n) => this.live.get(n)?.vpc?.port ?? null);
  }

  /** Flows of a port's UFT, LFT or TCP table as plain rows. */
  dumpFlows(port: string, table: "uft" | "lft" | "tcp"): Promise<Record<string, unknown>[]> {
    const v = this.live.get(port)?.vpc;
    if (!v) return Promise.reject(new DatapathRejected("port", `no VPC pipeline on ${port}`));
    const rows = (dir: string, xs: object[]) => xs.map((r) => ({ dir, ...r }));
    if (table === "uft") {
      return Promise.resolve([
        ...rows("out", v.port.dumpUft(DIR_OUT)),
        ...rows("in", v.port.dumpUft(DIR_IN)),
      ]);
    }
    if (table === "tcp") return Promise.resolve(v.port.dumpTcp() as Record<string, unknown>[]);
    return Promise.resolve(
      v.port.layers.map((l) => ({ layer: l.name, ...v.port.dumpLayer(l.name) })),
    );
  }

  /**
   * Clears a port's UFT, or its LFTs (only `layer`'s when given); returns how many UFT entries
   * (for the UFT) or layer flow pairs (for LFTs) went.
   */
  async clearFlows(port: string, table: "uft" | "lft", layer?: string): Promise<number> {
    const n = (await this.dumpFlows(port, "uft")).length;
    const v = this.live.get(port)!.vpc!;
    try {
      v.port.assertMutable("flow change");
    } catch (e) {
      throw new DatapathRejected("state", (e as Error).message);
    }
    if (table === "uft") {
      v.port.bumpEpoch();
      return n;
    }
    const layers = layer === undefined
      ? v.port.layers
      : v.port.layers.filter((l) => l.name === layer);
    if (layers.length === 0) throw new DatapathRejected("layer", `${port} has no layer ${layer}`);
    const pairs = layers.reduce((s, l) => s + l.pairCount, 0);
    if (layer === undefined) v.port.clearFlows();
    else v.port.clearLayerFlows(layer);
    return pairs;
  }

  /** Stops the loop, removes every port (devices, plumbing) and closes the underlay links. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stop.stopped = true;
    await this.loop;
    const errors: unknown[] = [];
    for (const name of [...this.live.keys()].reverse()) {
      try {
        this.removePort(name);
      } catch (e) {
        errors.push(e);
      }
    }
    for (const u of this.sw.underlay) u.link.close();
    this.links.close();
    if (errors.length) throw new AggregateError(errors, "closing the datapath failed");
  }
}

function splitKey(key: string): [number, string] {
  const i = key.indexOf("/");
  return [Number(key.slice(0, i)), key.slice(i + 1)];
}
