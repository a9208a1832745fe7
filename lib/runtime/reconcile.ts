// The one reconciler: configuration and API resources (Changes) become typed commands. Switch
// state (ports, routes, multicast, pause) changes only through `SwitchCommand`s the switch
// applies (between batches: the loop is single-threaded and this runs while `run` awaits); a
// port's VPC tables go to its pipeline. It keeps what the switch cannot: the desired per-port
// tables so a port recreated by an update gets them back, the V2B union across VNIs, and the
// config's link names.

import { DatapathRejected } from "../contract/datapath.ts";
import { canonical, type Change, type PortSpec } from "../config/resources.ts";
import type { ExternalIps, FirewallRule, PortSubnets, RouterEntry, V2b } from "../config/schema.ts";
import { ipv6ToString } from "../packet/bytes.ts";
import type { Switch, SwitchCommand } from "../switch/switch.ts";
import { Mappings } from "../vpc/mappings.ts";
import { type VpcPort, vpcPort } from "../vpc/vpc_port.ts";
import { McastState } from "./multicast.ts";
import type { Platform, PortLink } from "./platform.ts";
import type { RuntimeConfig } from "./runtime.ts";
import { addressOf, externalInput, firewallInput, routeInput, vpcConfig } from "./translate.ts";

/** A port the reconciler created: its spec and its link's undo (the switch holds the rest). */
interface LivePort {
  spec: PortSpec;
  pl: PortLink;
}

/** The desired VPC tables of one port (absent: none given). */
interface PortTables {
  firewall?: FirewallRule[];
  router?: RouterEntry[];
  externalIps?: ExternalIps;
  subnets?: PortSubnets;
}

type TableKind = keyof PortTables;
/** The order tables are given to a recreated port's pipeline. */
const TABLE_KINDS: readonly TableKind[] = ["firewall", "router", "externalIps", "subnets"];

/** Sets one table on a pipeline (null: the empty table). */
const SETTERS: { [K in TableKind]: (v: VpcPort, x: PortTables[K] | null) => void } = {
  // The rule set as given: no rule the control plane did not send.
  firewall: (v, rules) => v.setFirewall((rules ?? []).map(firewallInput)),
  router: (v, rs) => v.setRoutes((rs ?? []).map(routeInput)),
  externalIps: (v, x) => v.setExternalIps(externalInput(x ?? null)),
  subnets: (v, x) => v.setSubnets(x ?? { attached: [], transit: [] }),
};

/** Turns Changes into switch commands and pipeline updates for one switch. */
export class Reconciler {
  readonly mappings = new Mappings();
  private readonly live = new Map<string, LivePort>();
  private readonly tables = new Map<string, PortTables>();
  private readonly v2b = new Map<string, V2b>();
  /** Config link name → the name of the Link the switch knows it by. */
  private readonly linkNames = new Map<string, string>();
  private readonly mcast: McastState;

  constructor(
    private readonly sw: Switch,
    private readonly config: RuntimeConfig,
    private readonly platform: Platform,
    linkNames: Iterable<[string, string]>,
  ) {
    for (const [cfg, link] of linkNames) this.linkNames.set(cfg, link);
    this.mcast = new McastState(sw, (cmd) => this.command(cmd));
    // Default boundary routes for overlay traffic with no more specific V2B entry (every
    // configured endpoint, each with its VNI).
    for (const p of ["0.0.0.0/0", "::/0"]) this.setV2b(`-/${p}`, null);
  }

  /** Hands one typed command to the switch (throws, changing nothing, when refused). */
  private command(cmd: SwitchCommand): void {
    this.sw.apply(cmd);
  }

  /** Applies one change (throws, changing nothing, when refused). */
  apply(c: Change): void {
    switch (c.kind) {
      case "route":
        if (c.value === null) {
          return this.command({ op: "removeRoute", prefix: c.key, ifPresent: true });
        }
        return this.command({
          op: "setRoute",
          prefix: c.value.prefix,
          nextHops: c.value.nextHops.map((h) => ({
            link: this.linkNames.get(h.link) ?? h.link,
            via: h.via,
          })),
        });
      case "port":
        if (c.value === null) this.removePort(c.key);
        else this.setPort(c.value);
        return;
      case "firewall":
      case "router":
      case "externalIps":
      case "subnets":
        return this.table(c.key, c.kind, c.value);
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
        return this.command({
          op: "setMcastForwarding",
          underlay: c.value?.underlay ?? c.key,
          nextHops: c.value?.nextHops ?? [],
        });
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
  private table<K extends TableKind>(port: string, kind: K, value: PortTables[K] | null): void {
    if (value !== null && !this.live.has(port)) {
      throw new DatapathRejected("port", `no port ${port}`);
    }
    const vpc = this.vpc(port);
    if (vpc) SETTERS[kind](vpc, value);
    const t = this.tables.get(port) ?? {};
    if (value === null) delete t[kind];
    else t[kind] = value;
    if (Object.keys(t).length > 0) this.tables.set(port, t);
    else this.tables.delete(port);
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
      if (this.sw.port(spec.name)) this.setPaused(spec.name, paused);
    }
  }

  private addPort(spec: PortSpec): void {
    const sled = this.config.sled;
    const vcfg = vpcConfig(spec, sled.underlayAddress, this.mappings);
    // The switch's per-batch clock (the injected one, read once a pass): replay drives it from
    // capture times.
    const vpc = vcfg ? vpcPort({ ...vcfg, clock: this.sw.batchClock }) : null;
    const pl = this.platform.port(spec, {
      underlayAddress: sled.underlayAddress,
      underlayPrefix: sled.underlayPrefix,
      gatewayLinkLocal: ipv6ToString(this.sw.gatewayLinkLocal),
    });
    try {
      const underlay = spec.kind === "instance" ? [] : spec.addresses
        .map(addressOf).filter((a) => a.includes(":") && !a.toLowerCase().startsWith("fe80"));
      if (spec.kind === "host" && underlay.length === 0) underlay.push(sled.underlayAddress);
      this.command({
        op: "addPort",
        spec: {
          name: spec.name,
          kind: spec.kind,
          link: pl.link,
          mac: spec.mac,
          underlay,
          mtu: spec.mtu,
          vni: spec.overlay?.vni,
          pipeline: vpc ?? undefined,
        },
      });
    } catch (e) {
      pl.release();
      pl.link.close();
      throw e;
    }
    this.live.set(spec.name, { spec, pl });
    this.mcast.portAdded(spec.name);
    const t = this.tables.get(spec.name);
    if (vpc && t) {
      for (const k of TABLE_KINDS) if (t[k]) SETTERS[k](vpc, t[k] as never);
    }
  }

  /** Removes a port the reconciler created: its switch entry and link, then its plumbing. */
  removePort(name: string): void {
    const lp = this.live.get(name);
    if (!lp) throw new DatapathRejected("name", `no port ${name}`);
    this.live.delete(name);
    this.command({ op: "removePort", name }); // releases flows (SNAT ports) and closes the link
    lp.pl.release();
  }

  /** Pauses the switch port and its VPC pipeline (which then refuses rule and flow changes). */
  setPaused(name: string, paused: boolean): boolean {
    if (!this.sw.port(name)) return false;
    const vpc = this.vpc(name)?.port;
    if (vpc) paused ? vpc.pause() : vpc.start();
    this.command({ op: "setPaused", name, paused });
    return true;
  }

  /** The VPC pipeline of a port, as the switch holds it (null: none or no such port). */
  vpc(name: string): VpcPort | null {
    // Every pipeline given to the switch is a VpcPort made in addPort.
    return (this.sw.port(name)?.pipeline ?? null) as VpcPort | null;
  }

  /** The spec a live port was built from (null: no such port). */
  portSpec(name: string): PortSpec | null {
    return this.live.get(name)?.spec ?? null;
  }

  /** Names of the ports the reconciler created, oldest first. */
  portNames(): string[] {
    return [...this.live.keys()];
  }
}

function splitKey(key: string): [number, string] {
  const i = key.indexOf("/");
  return [Number(key.slice(0, i)), key.slice(i + 1)];
}
