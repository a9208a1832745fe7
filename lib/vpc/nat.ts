// The nat layer: only internet-gateway traffic is translated. Outbound: a floating IP (by flow
// hash), else the ephemeral IP (1:1), else SNAT (IP + port from a per-protocol pool, released
// when the flow's pair dies), else deny. Inbound: new flows to a floating or ephemeral IP are
// translated 1:1 to the guest. Attached external subnets are tagged, not translated.

import { ipToString, u16 } from "../packet/bytes.ts";
import { FlowId } from "../packet/flow.ts";
import type { HeaderLevel } from "../packet/meta.ts";
import { rewriteIpAddr } from "../packet/checksum.ts";
import { A, type ActionCtx, type ActionDesc, type Deny, type RuleSpec } from "../engine/rule.ts";
import { DIR_IN, DIR_OUT, type Direction } from "../engine/packet.ts";
import type { HeaderTransform } from "../engine/transform.ts";
import { Layer } from "../engine/layer.ts";
import {
  chooseExternal,
  EXT_NONE,
  EXT_SNAT,
  type ExternalIps,
  isOneToOne,
  type PortPool,
  SnatPools,
} from "./external.ts";
import {
  findQuoted,
  isIcmpError,
  Quoted,
  quotedFlow,
  restoreQuoted,
  rewriteQuoted,
} from "./icmp_error.ts";
import { type Cidr, cidrToString, wordsToBytes } from "../packet/addr.ts";
import { META_ROUTE, META_TARGET, TARGET_IG } from "./route_layer.ts";
import type { RouteEntry } from "./router.ts";
import { reason } from "../engine/reason.ts";

/** Drop reasons of this layer. */
export const DROP_NO_EXTERNAL = reason("no external ip");
export const DROP_SNAT_EXHAUSTED = reason("snat exhausted");
export const DROP_SNAT_PROTO = reason("snat: protocol has no ports");
export const DROP_ERROR_UNBOUND = reason("icmp error for no nat flow");

/** Action-metadata key set for traffic from an attached external subnet. */
export const META_EXTERNAL = "external";

/** One translated flow, remembered for ICMP errors that quote it. */
export interface NatBinding {
  readonly guestIp: Uint8Array;
  readonly guestPort: number;
  readonly extIp: Uint8Array;
  readonly extPort: number;
}

/** A NAT flow pair's state: the transforms both ways and what it holds. */
export class NatDesc implements ActionDesc {
  readonly #out: HeaderTransform;
  readonly #in: HeaderTransform;
  constructor(
    readonly binding: NatBinding,
    /** The SNAT pool `binding.extPort` came from; null for 1:1 NAT (nothing to give back). */
    private readonly pool: PortPool | null,
  ) {
    const b = binding;
    this.#out = pool !== null
      ? { name: "snat-out", innerIp: { src: b.extIp }, innerUlp: { srcPort: b.extPort } }
      : { name: "nat-out", innerIp: { src: b.extIp } };
    this.#in = pool !== null
      ? { name: "snat-in", innerIp: { dst: b.guestIp }, innerUlp: { dstPort: b.guestPort } }
      : { name: "nat-in", innerIp: { dst: b.guestIp } };
  }
  /** Shown in dumps and traces; formatted on read, not per new flow. */
  get name(): string {
    const b = this.binding;
    return `${this.pool !== null ? "snat" : "nat 1:1"} ${ipToString(b.extIp)}:${b.extPort}`;
  }
  /** The transform for `dir`. */
  transform(dir: Direction): HeaderTransform {
    return dir === DIR_OUT ? this.#out : this.#in;
  }
  /** Gives back the SNAT port (if any). */
  release(): void {
    this.pool?.release(this.binding.extPort);
  }
}

/** A family's external addressing and its SNAT pools. */
interface Family {
  ext: ExternalIps;
  snat: SnatPools | null;
}

/** NAT state of one port: external config per family and live bindings. */
export class NatState {
  #fam: (Family | null)[] = [null, null];
  /** External attached subnets per family (v4, v6): sources that skip NAT, tagged external. */
  attachedExternal: [Cidr[], Cidr[]] = [[], []];
  /** The nat layer, whose LFT pairs hold the bindings ICMP errors are matched against. */
  layer: Layer | null = null;
  readonly #q = new Quoted();
  readonly #f = new FlowId();
  readonly #g = new FlowId();
  readonly #lastGuest: ({ w: Uint32Array; bytes: Uint8Array } | null)[] = [null, null];

  /** The external addressing of a family (4 or 6), or null. */
  external(af: number): ExternalIps | null {
    return this.#fam[af === 4 ? 0 : 1]?.ext ?? null;
  }

  /** The SNAT pools of a family, or null. */
  snat(af: number): SnatPools | null {
    return this.#fam[af === 4 ? 0 : 1]?.snat ?? null;
  }

  /** Installs a family's external addressing; an unchanged SNAT (ip + range) keeps its pools. */
  setExternal(af: 4 | 6, ext: ExternalIps | null): void {
    const i = af === 4 ? 0 : 1;
    if (!ext) {
      this.#fam[i] = null;
      return;
    }
    const old = this.#fam[i]?.snat ?? null;
    let snat: SnatPools | null = null;
    if (ext.snat) {
      const s = ext.snat;
      const same = old && old.tcp.lo === s.lo && old.tcp.hi === s.hi &&
        ipToString(old.ip) === ipToString(s.ip);
      snat = same ? old : new SnatPools(ipToString(s.ip), s.lo, s.hi);
    }
    this.#fam[i] = { ext, snat };
  }

  /** The stateful action of outbound internet-gateway flows. */
  outbound(ctx: ActionCtx): ActionDesc | Deny {
    const f = ctx.flow, af = f.af, fam = this.#fam[af === 4 ? 0 : 1];
    const t = ctx.meta.value<RouteEntry>(META_ROUTE)?.target;
    const igw = t?.kind === "internet-gateway" ? t.id ?? null : null;
    const choice = chooseExternal(fam?.ext ?? null, f.hash(), igw);
    if (choice.kind === EXT_NONE || !fam) return { deny: DROP_NO_EXTERNAL };
    const guestIp = this.#guestBytes(af, f.w);
    const guestPort = f.srcPort;
    let extPort = guestPort;
    let pool: PortPool | null = null;
    if (choice.kind === EXT_SNAT) {
      pool = fam.snat!.pool(f.proto);
      if (!pool) return { deny: DROP_SNAT_PROTO };
      const lv = ctx.pkt.meta.flow;
      const icmp = f.proto === 1 || f.proto === 58;
      if (icmp && lv.icmpType !== 8 && lv.icmpType !== 128) return { deny: DROP_SNAT_PROTO };
      extPort = pool.allocate();
      if (extPort < 0) return { deny: DROP_SNAT_EXHAUSTED };
    }
    const binding = { guestIp, guestPort, extIp: choice.ip!, extPort };
    return new NatDesc(binding, pool);
  }

  /**
   * The source address (words 1..4 of a flow key) as bytes, shared with the previous flow from
   * the same address: a port's flows nearly all leave from its own address, and bindings never
   * write the bytes.
   */
  #guestBytes(af: number, w: Uint32Array): Uint8Array {
    const i = af === 4 ? 0 : 1, last = this.#lastGuest[i];
    if (last !== null) {
      let same = true;
      for (let k = 0; k < (af === 4 ? 1 : 4) && same; k++) same = last.w[k] === w[1 + k];
      if (same) return last.bytes;
    }
    const bytes = wordsToBytes(af, w, 1);
    this.#lastGuest[i] = { w: w.slice(1, 5), bytes };
    return bytes;
  }

  /** The stateful action of new inbound flows to a floating or ephemeral IP. */
  inbound(ctx: ActionCtx, guestIp: Uint8Array): ActionDesc {
    const f = ctx.flow;
    const binding = {
      guestIp,
      guestPort: f.dstPort,
      extIp: wordsToBytes(f.af, f.w, 5),
      extPort: f.dstPort,
    };
    return new NatDesc(binding, null);
  }

  /** The binding of the pair whose `dir` LFT entry is the mirror of `f`, or null. */
  #pairOf(dir: Direction, f: FlowId): NatBinding | null {
    const p = this.layer?.lft[dir].get(f.mirrorInto(this.#g)) ?? null;
    return p !== null && p.desc instanceof NatDesc ? p.desc.binding : null;
  }

  /**
   * The static action for ICMP errors the guest sends about a NATed flow: the quoted packet
   * (remote → guest) is rewritten to what the remote sent (remote → external address and
   * port) and the error leaves from the external address.
   */
  outboundError(ctx: ActionCtx): HeaderTransform | Deny {
    const buf = ctx.pkt.buf, lv = ctx.pkt.meta.flow, q = this.#q;
    if (!findQuoted(buf, lv, q)) return { deny: DROP_ERROR_UNBOUND };
    // The quote is remote → guest as received; its mirror keys the pair's outbound entry.
    quotedFlow(buf, q, this.#f);
    const b = this.#pairOf(DIR_OUT, this.#f);
    if (!b) return this.#outboundError1to1(buf, lv, q);
    rewriteQuoted(buf, lv, q, true, b.extIp, b.extPort);
    return { name: "nat-error-out", innerIp: { src: b.extIp } };
  }

  /**
   * An error about a flow with no NAT state: when the port's outbound flows to that peer would
   * be 1:1 NATed (a floating or the ephemeral IP), the quoted guest address is the external one,
   * as upstream's 1:1 transform rewrites it (icmp_inner_has_nat_applied). SNAT needs a binding.
   */
  #outboundError1to1(buf: Uint8Array, lv: HeaderLevel, q: Quoted): HeaderTransform | Deny {
    const fam = this.#fam[q.af === 4 ? 0 : 1];
    // The flow the error is about, as the guest would send it: the mirror of the quote.
    const choice = chooseExternal(fam?.ext ?? null, this.#f.mirrorInto(this.#g).hash());
    if (choice.kind === EXT_NONE || choice.kind === EXT_SNAT) return { deny: DROP_ERROR_UNBOUND };
    const port = q.dstPortAt >= 0 ? u16(buf, q.dstPortAt) : 0;
    rewriteQuoted(buf, lv, q, true, choice.ip!, port);
    return { name: "nat-error-out", innerIp: { src: choice.ip! } };
  }

  /**
   * Translates an inbound ICMP error quoting a NATed flow: the outer destination becomes the
   * guest, the quoted source its address and port, all checksums fixed. False when unrelated.
   */
  translateError(buf: Uint8Array, lv: HeaderLevel): boolean {
    if (!isIcmpError(lv) || !findQuoted(buf, lv, this.#q)) return false;
    // The quote is external → remote as sent; its mirror keys the pair's inbound entry.
    quotedFlow(buf, this.#q, this.#f);
    const b = this.#pairOf(DIR_IN, this.#f);
    if (!b || b.guestIp.length !== (lv.ipVersion === 4 ? 4 : 16)) return false;
    rewriteIpAddr(buf, lv, true, b.guestIp, 0);
    restoreQuoted(buf, lv, this.#q, b.guestIp, b.guestPort);
    return true;
  }

  /**
   * Translates an inbound ICMP error to a floating or ephemeral IP that quotes a packet sent
   * from that address, when no NAT flow matched (`translateError` first): 1:1 NAT maps the
   * address alone, so the outer destination and the quoted source become `guestIp`, ports kept,
   * as upstream's inbound 1:1 rule does (icmpv6_inner_has_nat_applied). False when unrelated.
   */
  translateError1to1(buf: Uint8Array, lv: HeaderLevel, guestIp: Uint8Array | null): boolean {
    const q = this.#q;
    if (!guestIp || !isIcmpError(lv) || !findQuoted(buf, lv, q)) return false;
    const af = lv.ipVersion === 4 ? 4 : 6, n = af === 4 ? 4 : 16;
    if (q.af !== af || guestIp.length !== n) return false;
    const dstAt = lv.l3 + (af === 4 ? 16 : 24), quotedSrc = q.l3 + (af === 4 ? 12 : 8);
    const dst = buf.subarray(dstAt, dstAt + n);
    if (!isOneToOne(this.external(af), dst)) return false;
    for (let i = 0; i < n; i++) if (buf[quotedSrc + i] !== buf[dstAt + i]) return false;
    const port = q.srcPortAt >= 0 ? u16(buf, q.srcPortAt) : 0;
    rewriteIpAddr(buf, lv, true, guestIp, 0);
    restoreQuoted(buf, lv, q, guestIp, port);
    return true;
  }
}

/** The nat layer's rules for the current external config. */
export function natRules(
  state: NatState,
  privateIps: { v4: Uint8Array | null; v6: Uint8Array | null },
): { out: RuleSpec[]; in: RuleSpec[] } {
  const out: RuleSpec[] = [], inbound: RuleSpec[] = [];
  for (const af of [4, 6] as const) {
    const ext = state.external(af);
    const guest = af === 4 ? privateIps.v4 : privateIps.v6;
    if (!guest) continue;
    const ig = { kind: "meta" as const, key: META_TARGET, value: TARGET_IG };
    const ver = { kind: "ipVersion" as const, version: af };
    const attached = [...(ext?.attached ?? []), ...state.attachedExternal[af === 4 ? 0 : 1]];
    if (attached.length > 0) {
      // Upstream's order: before any translation and whatever the target, so the overlay can
      // refuse VPC targets for these sources.
      out.push({
        priority: 4,
        name: `attached-v${af}`,
        predicates: [{ kind: "ipSrc", cidrs: attached.map(cidrToString) }],
        action: A.meta({ [META_EXTERNAL]: "1" }),
      });
    }
    out.push({
      priority: 5,
      name: `icmp-error-v${af}`,
      predicates: [ig, ver, {
        kind: "icmpType",
        values: af === 4 ? [3, 11, 12] : [1, 2, 3, 4],
        v6: af === 6,
      }],
      action: { kind: "static", name: "nat-error-out", gen: (ctx) => state.outboundError(ctx) },
    });
    out.push({
      priority: 20,
      name: `nat-v${af}`,
      predicates: [ig, ver],
      action: A.stateful(`nat-v${af}`, (ctx) => state.outbound(ctx)),
    });
    const oneToOne = ext ? [...ext.floating, ...(ext.ephemeral ? [ext.ephemeral] : [])] : [];
    if (oneToOne.length > 0) {
      inbound.push({
        priority: 10,
        name: `inbound-1to1-v${af}`,
        predicates: [{ kind: "ipDst", cidrs: oneToOne.map(ipToString) }],
        action: A.stateful(`inbound-1to1-v${af}`, (ctx) => state.inbound(ctx, guest)),
      });
    }
  }
  return { out, in: inbound };
}

/** The nat layer. */
export function natLayer(
  state: NatState,
  privateIps: { v4: Uint8Array | null; v6: Uint8Array | null },
  lftLimit?: number,
): Layer {
  const layer = new Layer({
    name: "nat",
    defaults: { in: "allow", out: "allow" },
    lftLimit,
    rules: natRules(state, privateIps),
  });
  state.layer = layer;
  return layer;
}
