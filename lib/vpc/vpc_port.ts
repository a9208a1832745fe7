// A VPC port: the engine port with the layers gateway → firewall → router → nat → overlay,
// plus what must happen around the engine for every packet: a mapping-generation check (V2P/V2B
// changes invalidate exactly the UFT entries built from a changed mapping), Geneve checks that
// must hold on the fast path too (unknown critical options, VNI), and translation of ICMP
// errors quoting NATed flows.

import { ipToString, parseIp } from "../packet/bytes.ts";
import { FlowId } from "../packet/flow.ts";
import { flowOf } from "../packet/parse.ts";
import { type DryRun, Port } from "../engine/port.ts";
import { DIR_IN, DIR_OUT, type Direction, type Packet, RES_DROP } from "../engine/packet.ts";
import type { ProcessResult } from "../engine/packet.ts";
import { resolveConfig, type ResolvedConfig, type VpcPortConfig } from "./config.ts";
import { type ExternalIpConfig, stillAssigned, validateExternalIps } from "./external.ts";
import { ANY_PROTOCOL, type FirewallRule } from "./firewall_rules.ts";
import { firewallRuleText } from "./firewall_text.ts";
import { checkedFirewallTables, firewallLayer } from "./firewall.ts";
import { FirewallSet } from "./firewall_set.ts";
import { gatewayLayer, gatewayRules } from "./gateway.ts";
import { refusal, refusedBy } from "./port_guard.ts";
import { type Cidr, cidrToString } from "../packet/addr.ts";
import {
  type PortSubnets,
  type PortSubnetsInput,
  subnetsToInput,
  validateSubnets,
} from "./subnets.ts";
import { type GatewayIdentity, gatewayIdentity } from "./hairpin.ts";
import { isIcmpError } from "./icmp_error.ts";
import type { Mappings } from "./mappings.ts";
import { NatDesc, natLayer, natRules, NatState } from "./nat.ts";
import { MulticastCheck } from "./multicast.ts";
import { encapStale, overlayLayer } from "./overlay.ts";
import { routerLayer, routerRules } from "./route_layer.ts";
import { defaultRoutes, type Route, type RouteClass, RouterTable } from "./router.ts";
import { orThrow } from "./validate.ts";
import type { Reason } from "../engine/reason.ts";

export { DROP_UNKNOWN_CRITICAL, DROP_VNI_MISMATCH } from "./port_guard.ts";

/** Counters of what the VPC does around the engine. */
export class VpcCounters {
  /** ICMP errors whose quoted NATed packet was restored for the guest. */
  errorsTranslated = 0;
  /** UFT entries removed because a V2P/V2B mapping they used changed. */
  mappingInvalidations = 0;
  /** UFT scans after a change of this port's VNI's V2P entries or of V2B. */
  mappingSweeps = 0;
}

/** A VPC port; `process` is what the switch calls per packet. */
export class VpcPort {
  readonly name: string;
  readonly vni: number;
  readonly port: Port;
  readonly cfg: ResolvedConfig;
  readonly gateway: GatewayIdentity;
  readonly routes = new RouterTable();
  readonly nat = new NatState();
  readonly mappings: Mappings;
  readonly counters = new VpcCounters();
  readonly #fw: FirewallSet;
  #subnets: PortSubnets = { attached: [], transit: [] };
  readonly #v2pWatch: { readonly gen: number };
  #seenV2p: number;
  #seenV2b: number;
  readonly #errKey = new FlowId();
  readonly #mcast: MulticastCheck;

  constructor(c: VpcPortConfig) {
    const cfg = orThrow(resolveConfig(c));
    this.name = c.name;
    this.vni = c.vni;
    this.cfg = cfg;
    this.mappings = c.mappings;
    const d = c.dhcp ?? {};
    this.gateway = gatewayIdentity({
      mac: cfg.gatewayMac,
      guestMac: cfg.guestMac,
      v4: cfg.v4 ? { guestIp: cfg.v4.privateIp, gatewayIp: cfg.v4.gatewayIp! } : null,
      v6: cfg.v6 ? { guestIp: cfg.v6.privateIp } : null,
      mtu: cfg.mtu,
      dhcp: {
        dns4: (d.dns4 ?? []).map((s) => parseIp(s)!),
        dns6: (d.dns6 ?? []).map((s) => parseIp(s)!),
        hostname: d.hostname,
        domain: d.domain,
        search: d.search ?? [],
        leaseTime: d.leaseTime ?? 86400,
      },
    });
    for (const ip of [cfg.v4, cfg.v6]) if (ip) this.nat.setExternal(ip.af, ip.external);
    this.routes.replaceAll(c.routes ?? defaultRoutes(c));
    const fw = checkedFirewallTables(
      c.firewall ?? [{
        direction: "in",
        priority: 65534,
        action: "allow",
        hosts: { kind: "vni", vni: c.vni },
        protocol: ANY_PROTOCOL,
        ports: null,
      }],
      cfg,
    );
    this.#v2pWatch = this.mappings.v2p.watch(c.vni);
    this.#seenV2p = this.#v2pWatch.gen;
    this.#seenV2b = this.mappings.v2b.generation;
    this.port = new Port({
      name: c.name,
      mac: cfg.guestMac,
      clock: c.clock,
      uftLimit: c.uftLimit,
      tcpLimit: c.tcpLimit,
      layers: [
        gatewayLayer(
          cfg,
          this.gateway,
          c.vni,
          this.#attached(),
          this.#attached("in"),
          c.mappings.v2p,
        ),
        firewallLayer(fw.rules, cfg, c.lftLimit),
        routerLayer(this.routes),
        natLayer(this.nat, this.#privateIps(), c.lftLimit),
        overlayLayer({ vni: c.vni, underlay: cfg.underlay, mtu: cfg.mtu, mappings: c.mappings }),
      ],
    });
    this.port.start();
    this.#fw = new FirewallSet(this.port, cfg, fw.rules);
    this.#mcast = new MulticastCheck(this.port, cfg);
  }

  /**
   * The checks upstream's pipeline makes on a guest's multicast, which the switch replicates
   * itself (M2P): null when the frame may leave (DIR_OUT) or reach the guest (DIR_IN), else the
   * drop reason (also counted in the engine's drop counters).
   */
  multicast(dir: Direction, buf: Uint8Array, off: number, len: number): Reason | null {
    const why = this.#mcast.check(dir, buf, off, len);
    if (why !== null) this.port.stats.countDrop(why);
    return why;
  }

  /** The engine's reusable result of the last `process`. */
  get result(): ProcessResult {
    return this.port.result;
  }

  /** Processes one packet travelling `dir` (DIR_OUT from the guest, DIR_IN from the network). */
  process(dir: Direction, pkt: Packet): number {
    const m = this.mappings;
    if (this.#v2pWatch.gen !== this.#seenV2p || m.v2b.generation !== this.#seenV2b) {
      this.#sweepMappings();
    }
    const meta = pkt.meta;
    const refused = this.#refused(dir, pkt);
    if (refused !== null) return this.#drop(refused, refusedBy(refused));
    if (dir === DIR_IN && this.#translateError(pkt)) this.counters.errorsTranslated++;
    if (!isIcmpError(meta.flow)) return this.port.process(dir, pkt);
    // ICMP errors are keyed by type/code only, but each one quotes a different packet: never
    // let a UFT entry answer for the next one (translation and the related check are per error).
    const key = this.#errKey;
    flowOf(pkt.buf, meta.flow, key);
    const code = this.port.process(dir, pkt);
    const e = this.port.uft[dir].get(key);
    if (e !== null) this.port.flows.removeUft(e, true);
    return code;
  }

  /**
   * `process` without side effects (see Port.dryRun): the checks before the engine, then the
   * live layers' decisions. `pkt` is rewritten: pass a copy.
   */
  dryRun(dir: Direction, pkt: Packet): DryRun {
    const refused = this.#refused(dir, pkt);
    if (refused !== null) {
      const layer = refusedBy(refused);
      return {
        code: RES_DROP,
        steps: [{ layer, via: "drop", rule: -1, action: refused.name }],
        layer,
        rule: -1,
        reason: refused.name,
        hairpin: null,
      };
    }
    if (dir === DIR_IN) this.#translateError(pkt);
    return this.port.dryRun(dir, pkt);
  }

  /**
   * Rewrites an inbound ICMP error's quoted packet for SNAT and 1:1 (floating/ephemeral) NAT, as
   * upstream does; true when it was translated.
   */
  #translateError(pkt: Packet): boolean {
    const lv = pkt.meta.flow;
    if (!isIcmpError(lv)) return false;
    const guest = lv.ipVersion === 4 ? this.cfg.v4?.privateIp : this.cfg.v6?.privateIp;
    return this.nat.translateError(pkt.buf, lv) ||
      this.nat.translateError1to1(pkt.buf, lv, guest ?? null);
  }

  /** Why a packet is refused before the engine (a drop reason), or null. */
  #refused(dir: Direction, pkt: Packet): Reason | null {
    return refusal(dir, pkt, this.cfg.guestMac, this.vni);
  }

  #drop(why: Reason, layer: string): number {
    const r = this.port.result;
    r.reset();
    r.code = RES_DROP;
    r.layer = layer;
    r.cause = why;
    this.port.stats.countDrop(why);
    return RES_DROP;
  }

  /** Removes the UFT entries (both directions) whose encap used a mapping that changed. */
  #sweepMappings(): void {
    const m = this.mappings;
    for (const e of this.port.uft[DIR_OUT].values()) {
      if (e.list.some((x) => encapStale(x, m))) {
        this.port.flows.removeUft(e, true);
        this.counters.mappingInvalidations++;
      }
    }
    this.#seenV2p = this.#v2pWatch.gen;
    this.#seenV2b = m.v2b.generation;
    this.counters.mappingSweeps++;
  }

  /** Prefixes besides the private IP the guest may send from (`out`) or receive on (`in`). */
  #attached(dir: "in" | "out" = "out"): { v4: string[]; v6: string[] } {
    const list = (af: 4 | 6) => {
      const s = new Set((this.nat.external(af)?.attached ?? []).map(cidrToString));
      for (const a of this.#subnets.attached) if (a.cidr.af === af) s.add(cidrToString(a.cidr));
      for (const t of this.#subnets.transit) {
        if (t.cidr.af === af && (dir === "in" ? t.allowIn : t.allowOut)) {
          s.add(cidrToString(t.cidr));
        }
      }
      return [...s];
    };
    return { v4: list(4), v6: list(6) };
  }

  #privateIps() {
    return { v4: this.cfg.v4?.privateIp ?? null, v6: this.cfg.v6?.privateIp ?? null };
  }

  // ---- firewall ----

  /** The firewall rules in force, as given. */
  firewallRules(): FirewallRule[] {
    return this.#fw.list();
  }

  /**
   * Replaces every firewall rule (all validated first). As upstream's set_fw_rules, the
   * firewall's flows are cut: every connection is judged by the new rules on its next packet,
   * so a revoked allow stops traffic at once (and the UFT entries built through them go too).
   */
  setFirewall(rules: readonly FirewallRule[]): void {
    this.#fw.set(rules);
  }

  /** Adds one firewall rule; returns an id for `removeFirewallRule`. */
  addFirewallRule(rule: FirewallRule): number {
    return this.#fw.add(rule);
  }

  /** Removes a rule added by `addFirewallRule`; false when unknown. */
  removeFirewallRule(id: number): boolean {
    return this.#fw.remove(id);
  }

  // ---- routes ----

  /** Adds a route entry (duplicates allowed, as upstream). */
  addRoute(r: Route): void {
    this.port.assertMutable("rule change");
    this.routes.add(r);
    this.port.setRules("router", routerRules(this.routes));
  }

  /** Removes one entry matching destination, target and class exactly; false when absent. */
  removeRoute(r: Route): boolean {
    this.port.assertMutable("rule change");
    const ok = this.routes.remove(r);
    if (ok) this.port.setRules("router", routerRules(this.routes));
    return ok;
  }

  /** Replaces the routes of one class, or the whole table when `cls` is omitted. */
  setRoutes(routes: readonly Route[], cls?: RouteClass): void {
    this.port.assertMutable("rule change");
    this.routes.replaceAll(routes, cls);
    this.port.setRules("router", routerRules(this.routes));
  }

  // ---- attached subnets and transit IPs ----

  /** The attached subnets and transit IPs in force. */
  subnets(): PortSubnetsInput {
    return subnetsToInput(this.#subnets);
  }

  /**
   * Replaces the attached subnets and transit IPs (all validated first). The gateway lets the
   * guest send from / receive on them; external attached subnets also skip NAT and are
   * refused by VPC targets.
   */
  setSubnets(input: PortSubnetsInput): void {
    const subnets = orThrow(validateSubnets(input));
    this.port.assertMutable("rule change");
    this.#subnets = subnets;
    this.nat.attachedExternal = [4, 6].map((af) =>
      this.#subnets.attached.filter((a) => a.external && a.cidr.af === af).map((a) => a.cidr)
    ) as [Cidr[], Cidr[]];
    this.#addressingChanged();
  }

  /** Re-derives the nat and gateway rules from the port's addresses (external IPs, subnets). */
  #addressingChanged(): void {
    this.port.setRules("nat", natRules(this.nat, this.#privateIps()));
    // Attached subnets and transit IPs are guest addresses too: the anti-spoof follows them.
    this.port.setRules(
      "gateway",
      gatewayRules(
        this.cfg,
        this.gateway,
        this.vni,
        this.#attached(),
        this.#attached("in"),
        this.mappings.v2p,
      ),
    );
  }

  // ---- external addressing ----

  /**
   * Replaces the external IPs of the given families. Existing flows keep their addresses when
   * those are still assigned; flows on withdrawn addresses die (their SNAT ports released).
   */
  setExternalIps(ext: { v4?: ExternalIpConfig; v6?: ExternalIpConfig }): void {
    const next = {
      v4: ext.v4 && this.cfg.v4 ? orThrow(validateExternalIps(ext.v4, 4)) : undefined,
      v6: ext.v6 && this.cfg.v6 ? orThrow(validateExternalIps(ext.v6, 6)) : undefined,
    };
    this.port.assertMutable("rule change");
    if (next.v4) this.nat.setExternal(4, next.v4);
    if (next.v6) this.nat.setExternal(6, next.v6);
    this.#addressingChanged();
    const L = this.port.layer("nat");
    for (const p of L.lft[DIR_OUT].values()) {
      if (!(p.desc instanceof NatDesc)) continue;
      const ip = p.desc.binding.extIp;
      if (!stillAssigned(this.nat.external(ip.length === 4 ? 4 : 6), ip)) {
        this.port.flows.killPair(L, p);
      }
    }
  }

  /** Removes idle flows (call about once a second). */
  expire(now?: number): number {
    return this.port.expire(now);
  }

  /** A summary for dumps. */
  describe(): Record<string, unknown> {
    return {
      name: this.name,
      vni: this.vni,
      v4: this.cfg.v4 ? ipToString(this.cfg.v4.privateIp) : null,
      v6: this.cfg.v6 ? ipToString(this.cfg.v6.privateIp) : null,
      routes: this.routes.list(),
      subnets: this.subnets(),
      firewall: this.firewallRules().map(firewallRuleText),
      counters: { ...this.counters },
      engine: this.port.statsSnapshot(),
    };
  }
}

/** Creates and starts a VPC port (what the switch calls for instance and overlay ports). */
export function vpcPort(config: VpcPortConfig): VpcPort {
  return new VpcPort(config);
}
