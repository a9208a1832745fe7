// The overlay layer: Geneve encapsulation outbound, decapsulation inbound. VPC-internal
// destinations resolve through V2P (inner MAC, peer sled); internet-gateway traffic goes to
// boundary services through V2B (endpoint chosen by flow hash, inner dst MAC
// A8:40:25:77:77:77). Each encap transform remembers the mapping it used and the generation it
// saw, so a mapping change invalidates exactly the flows that depended on it.

import { PROTO_TCP } from "../packet/checksum.ts";
import { OXIDE_OPT_EXTERNAL } from "../packet/meta.ts";
import type { ActionCtx, Deny, RuleSpec } from "../engine/rule.ts";
import type { HeaderTransform } from "../engine/transform.ts";
import { Layer } from "../engine/layer.ts";
import { geneveFlowLabel, geneveSrcPort } from "./geneve_outer.ts";
import { GeneveOuterCache } from "./outer_cache.ts";
import type { Mappings } from "./mappings.ts";
import { META_ROUTE } from "./route_layer.ts";
import type { RouteEntry } from "./router.ts";
import { META_VNI, vniText } from "./gateway.ts";
import { META_EXTERNAL } from "./nat.ts";
import { reason } from "../engine/reason.ts";

/** The inner destination MAC of frames to boundary services. */
export const BOUNDARY_MAC = Uint8Array.of(0xa8, 0x40, 0x25, 0x77, 0x77, 0x77);
const TO_BOUNDARY = { dst: BOUNDARY_MAC };

/** Drop reasons of this layer. */
export const DROP_NO_V2P = reason("no v2p mapping");
export const DROP_NO_V2B = reason("no v2b mapping");
export const DROP_NO_TARGET = reason("no router target");
export const DROP_NOT_ENCAP = reason("not encapsulated");
/** A VPC target (ip, vpc-subnet) refuses traffic whose source is an external address. */
export const DROP_EXTERNAL_TO_VPC = reason("external source to vpc target");

/** An encap transform plus what it was derived from, for mapping-change invalidation. */
export interface EncapTransform extends HeaderTransform {
  readonly via: "v2p" | "v2b";
  readonly vni: number;
  readonly af: number;
  /** The looked-up address (IPv4 in word 0). */
  readonly words: Uint32Array;
  /** The table generation when the transform was built. */
  readonly gen: number;
}

/** True when `x` is an encap transform whose mapping changed since it was built. */
export function encapStale(x: HeaderTransform, m: Mappings): boolean {
  const e = x as Partial<EncapTransform>;
  if (e.via === "v2p") return !m.v2p.unchangedSince(e.gen!, e.vni!, e.af!, e.words!, 0);
  if (e.via === "v2b") return !m.v2b.unchangedSince(e.gen!, e.af!, e.words!, 0);
  return false;
}

const DECAP: HeaderTransform = { name: "decap", outer: { op: "pop" } };

/** What the overlay needs from the port. */
export interface OverlayConfig {
  readonly vni: number;
  readonly underlay: Uint8Array;
  readonly mtu: number;
  readonly mappings: Mappings;
}

function encap(ctx: ActionCtx, o: OverlayConfig, cache: GeneveOuterCache): EncapTransform | Deny {
  const route = ctx.meta.value<RouteEntry>(META_ROUTE);
  if (route === undefined) return { deny: DROP_NO_TARGET };
  const t = route.target;
  // Upstream's rule: a VPC target refuses a source the nat layer tagged external (an external
  // attached subnet), so an external block cannot reach VPC-private addresses. (The other half,
  // "boundary services need an external source", holds by construction: nat translates or
  // tags every internet-gateway flow, or drops it.)
  const external = ctx.meta.has(META_EXTERNAL);
  const f = ctx.flow, af = f.af, hash = f.hash();
  const words = KEY;
  if (t.kind === "ip") {
    // Typed from the router: the next hop (e.g. an appliance port) is the V2P key.
    if (route.nextHop === null || route.nextHop.af !== af) return { deny: DROP_NO_TARGET };
    words.set(route.nextHop.words);
  } else {
    for (let i = 0; i < 4; i++) words[i] = f.w[5 + i];
  }
  // The flow's entropy over the destination's shared outer header (RFC 8926 §3.3).
  const srcPort = geneveSrcPort(hash), flowLabel = geneveFlowLabel(hash);
  if (t.kind === "internet-gateway") {
    const v2b = o.mappings.v2b, gen = v2b.generation;
    const h = v2b.lookup(af, words);
    if (h < 0) return { deny: DROP_NO_V2B };
    const ep = v2b.choose(h, hash);
    return {
      name: "encap-boundary",
      outer: { op: "push", bytes: cache.boundary(ep), srcPort, flowLabel },
      innerEther: TO_BOUNDARY,
      via: "v2b",
      vni: ep.vni,
      af,
      words: words.slice(),
      gen,
    };
  }
  if (t.kind === "drop") return { deny: DROP_NO_TARGET };
  if (external) return { deny: DROP_EXTERNAL_TO_VPC };
  const v2p = o.mappings.v2p;
  const e = v2p.lookup(o.vni, af, words);
  if (e < 0) return { deny: DROP_NO_V2P };
  const d = cache.vpc(v2p, e, words);
  // VPC-internal TCP carries the Oxide MSS option: the MSS the guest's MTU allows.
  const mss = ctx.pkt.meta.flow.proto === PROTO_TCP ? o.mtu - (af === 4 ? 40 : 60) : -1;
  return {
    name: "encap-vpc",
    outer: { op: "push", bytes: cache.vpcBytes(v2p, e, d, mss), srcPort, flowLabel },
    innerEther: d.innerEther,
    via: "v2p",
    vni: o.vni,
    af,
    words: d.words,
    gen: d.gen,
  };
}

// The lookup key, filled per new flow (a transform keeps its own copy).
const KEY = new Uint32Array(4);

function decap(ctx: ActionCtx): HeaderTransform | Deny {
  const m = ctx.pkt.meta;
  if (!m.encap) return { deny: DROP_NOT_ENCAP };
  // VPC-originated traffic carries its VNI for firewall `hosts=vni=` filters; traffic the
  // switch tagged external (from boundary services) does not.
  if ((m.oxideOpts & OXIDE_OPT_EXTERNAL) === 0) ctx.meta.set(META_VNI, vniText(m.vni));
  return DECAP;
}

/** The overlay layer's rules. */
export function overlayRules(o: OverlayConfig): { out: RuleSpec[]; in: RuleSpec[] } {
  const cache = new GeneveOuterCache(o.underlay, o.vni);
  return {
    out: [{
      priority: 10,
      name: "encap",
      action: { kind: "static", name: "encap", gen: (c) => encap(c, o, cache) },
    }],
    in: [{ priority: 10, name: "decap", action: { kind: "static", name: "decap", gen: decap } }],
  };
}

/** The overlay layer. */
export function overlayLayer(o: OverlayConfig): Layer {
  return new Layer({
    name: "overlay",
    defaults: { in: "deny", out: "deny" },
    rules: overlayRules(o),
  });
}
