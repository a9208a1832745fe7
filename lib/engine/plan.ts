// Compiling a UFT entry's list of header transformations into one plan: final field values plus
// checksum deltas precomputed from the flow key (RFC 1624: HC' = ~(~HC + Σ(~m + m'))), so the
// fast path writes bytes and adds one number per checksum. Lists the plan cannot express exactly
// (double encap, push then pop, inner rewrites after a push whose UDP checksum is live, body
// transforms) return null and the UFT entry replays the list instead.

import type { FlowId } from "../packet/flow.ts";
import { FRAG_LATER } from "../packet/meta.ts";
import { PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from "../packet/checksum.ts";
import type { Packet } from "./packet.ts";
import type { Reason } from "./reason.ts";
import { setU16, u16 } from "../packet/bytes.ts";
import { ETH_DST, ETH_SRC } from "../packet/ethernet.ts";
import { IPV4_CHECKSUM, IPV4_DST, IPV4_SRC } from "../packet/ipv4.ts";
import { IPV6_DST, IPV6_SRC } from "../packet/ipv6.ts";
import { TCP_CHECKSUM } from "../packet/tcp.ts";
import { UDP_CHECKSUM } from "../packet/udp.ts";
import { ICMP_CHECKSUM, ICMP_IDENT } from "../packet/icmp_header.ts";
import { L4_DST_PORT, L4_SRC_PORT } from "../packet/view.ts";
import {
  applyTransform,
  type HeaderTransform,
  type OuterTemplate,
  outerTemplate,
  popOuter,
  pushOuter,
} from "./transform.ts";

/** A combined transformation ready for the fast path. */
export class CompiledPlan {
  etherSrc: Uint8Array | null = null;
  etherDst: Uint8Array | null = null;
  ipSrc: Uint8Array | null = null;
  ipDst: Uint8Array | null = null;
  /** IPv4 header checksum delta (0 when no address changes). */
  ipDelta = 0;
  /** L4 checksum delta; `l4Csum` is the field offset within the L4 header, -1 for none. */
  l4Delta = 0;
  l4Csum = -1;
  l4Udp = false;
  /** New port values (-1 = unchanged) at `srcPortAt`/`dstPortAt` within the L4 header. */
  srcPort = -1;
  dstPort = -1;
  srcPortAt = L4_SRC_PORT;
  dstPortAt = L4_DST_PORT;
  /** True when ports/echo id are rewritten. */
  ports = false;
  /** For CHECKSUM_PARTIAL packets: the address part of the delta, added uncomplemented. */
  pseudoDelta = 0;
  pop = false;
  /** Pushed headers; a flow's entropy for them is its UFT entry's (`pushSrcPort`, …). */
  push: OuterTemplate | null = null;

  /** Back to the initial values (a scratch plan is compiled into again). */
  reset(): this {
    this.etherSrc = null;
    this.etherDst = null;
    this.ipSrc = null;
    this.ipDst = null;
    this.ipDelta = this.l4Delta = this.pseudoDelta = 0;
    this.l4Csum = this.srcPort = this.dstPort = -1;
    this.srcPortAt = L4_SRC_PORT;
    this.dstPortAt = L4_DST_PORT;
    this.l4Udp = this.ports = this.pop = false;
    this.push = null;
    return this;
  }
}

function addrWords(w: Uint32Array, at: number, v4: boolean, a: Uint8Array): number {
  // Σ(~old + new) over the 16-bit words of one address.
  let s = 0;
  const n = v4 ? 1 : 4;
  for (let i = 0; i < n; i++) {
    const o = w[at + i];
    const b = 4 * i;
    s += (~(o >>> 16) & 0xffff) + ((a[b] << 8) | a[b + 1]);
    s += (~o & 0xffff) + ((a[b + 2] << 8) | a[b + 3]);
  }
  return s;
}

/**
 * Compiles `list` for packets of `flow` entering with `portsOk` (hasPorts of the flow level) and
 * encap state `encap` (into `into`, cleared first, when given); null when only replaying the list
 * is exact. A push's per-flow entropy is not part of the plan (the UFT entry carries it), so flows
 * to one destination compile to equal plans.
 */
export function compilePlan(
  list: readonly HeaderTransform[],
  flow: FlowId,
  portsOk: boolean,
  encap: boolean,
  into?: CompiledPlan,
): CompiledPlan | null {
  const p = into === undefined ? new CompiledPlan() : into.reset();
  const v4 = flow.af === 4;
  const alen = v4 ? 4 : 16;
  const proto = flow.proto;
  const icmp = proto === PROTO_ICMP || proto === PROTO_ICMPV6;
  let id = -1, pushed = false, livePush = false;
  for (const t of list) {
    if (t.body) return null;
    if (t.innerEther || t.innerIp || (t.innerUlp && portsOk)) {
      if (livePush) return null;
    }
    if (t.innerEther) {
      if (t.innerEther.src) p.etherSrc = t.innerEther.src;
      if (t.innerEther.dst) p.etherDst = t.innerEther.dst;
    }
    if (t.innerIp) {
      const { src, dst } = t.innerIp;
      if ((src && src.length !== alen) || (dst && dst.length !== alen)) return null;
      if (src) p.ipSrc = src;
      if (dst) p.ipDst = dst;
    }
    if (t.innerUlp && portsOk) {
      const { srcPort, dstPort } = t.innerUlp;
      if (icmp) {
        if (srcPort !== undefined) id = srcPort;
        if (dstPort !== undefined) id = dstPort;
      } else {
        if (srcPort !== undefined) p.srcPort = srcPort;
        if (dstPort !== undefined) p.dstPort = dstPort;
      }
    }
    if (t.outer) {
      if (t.outer.op === "pop") {
        if (!encap || pushed) return null;
        encap = false;
        p.pop = true;
      } else {
        if (encap || pushed) return null;
        const tpl = outerTemplate(t.outer.bytes);
        if (!tpl) return null;
        p.push = tpl;
        pushed = true;
        encap = true;
        livePush = tpl.udpAt >= 0 && !tpl.udpZero;
      }
    }
  }
  const w = flow.w;
  let ipSum = 0;
  if (p.ipSrc) ipSum += addrWords(w, 1, v4, p.ipSrc);
  if (p.ipDst) ipSum += addrWords(w, 5, v4, p.ipDst);
  if (v4) p.ipDelta = ipSum;
  const pseudo = proto === PROTO_TCP || proto === PROTO_UDP || proto === PROTO_ICMPV6;
  let l4 = pseudo ? ipSum : 0;
  if (icmp) {
    if (id >= 0) {
      l4 += (~flow.srcPort & 0xffff) + id;
      p.srcPort = id;
      p.dstPort = id;
      p.srcPortAt = ICMP_IDENT;
      p.dstPortAt = ICMP_IDENT;
      p.ports = true;
    }
  } else {
    if (p.srcPort >= 0) l4 += (~flow.srcPort & 0xffff) + p.srcPort;
    if (p.dstPort >= 0) l4 += (~flow.dstPort & 0xffff) + p.dstPort;
    p.ports = p.srcPort >= 0 || p.dstPort >= 0;
  }
  p.l4Delta = l4;
  p.pseudoDelta = proto === PROTO_TCP || proto === PROTO_UDP ? ipSum : 0;
  p.l4Csum = proto === PROTO_TCP
    ? TCP_CHECKSUM
    : proto === PROTO_UDP
    ? UDP_CHECKSUM
    : icmp
    ? ICMP_CHECKSUM
    : -1;
  p.l4Udp = proto === PROTO_UDP;
  return p;
}

function patch(buf: Uint8Array, at: number, delta: number, udp: boolean): void {
  const hc = u16(buf, at);
  if (udp && hc === 0) return;
  let s = (~hc & 0xffff) + delta;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  let c = ~s & 0xffff;
  if (udp && c === 0) c = 0xffff;
  setU16(buf, at, c);
}

function addPartial(buf: Uint8Array, at: number, delta: number): void {
  let s = u16(buf, at) + delta;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  setU16(buf, at, s);
}

/**
 * Applies a compiled plan in place (a push with the flow's entropy, each -1 for the template's
 * own); an error string or null. Allocates nothing.
 */
export function applyPlan(
  pkt: Packet,
  p: CompiledPlan,
  srcPort = -1,
  flowLabel = -1,
): Reason | null {
  const buf = pkt.buf, lv = pkt.meta.flow;
  if (lv.ether >= 0) {
    if (p.etherSrc !== null) buf.set(p.etherSrc, lv.ether + ETH_SRC);
    if (p.etherDst !== null) buf.set(p.etherDst, lv.ether + ETH_DST);
  }
  const l3 = lv.l3;
  if (l3 >= 0 && (p.ipSrc !== null || p.ipDst !== null)) {
    if (lv.ipVersion === 4) {
      if (p.ipSrc !== null) buf.set(p.ipSrc, l3 + IPV4_SRC);
      if (p.ipDst !== null) buf.set(p.ipDst, l3 + IPV4_DST);
      patch(buf, l3 + IPV4_CHECKSUM, p.ipDelta, false);
    } else {
      if (p.ipSrc !== null) buf.set(p.ipSrc, l3 + IPV6_SRC);
      if (p.ipDst !== null) buf.set(p.ipDst, l3 + IPV6_DST);
    }
  }
  const l4 = lv.l4;
  if (l4 >= 0 && lv.fragment !== FRAG_LATER && p.l4Csum >= 0 && (p.l4Delta !== 0 || p.ports)) {
    if (pkt.csumPartial && p.l4Csum !== ICMP_CHECKSUM) {
      if (p.pseudoDelta !== 0) addPartial(buf, l4 + p.l4Csum, p.pseudoDelta);
    } else if (p.l4Delta !== 0) patch(buf, l4 + p.l4Csum, p.l4Delta, p.l4Udp);
    if (p.srcPort >= 0) {
      setU16(buf, l4 + p.srcPortAt, p.srcPort);
      lv.srcPort = p.srcPort;
    }
    if (p.dstPort >= 0) {
      setU16(buf, l4 + p.dstPortAt, p.dstPort);
      lv.dstPort = p.dstPort;
    }
  }
  if (p.pop) {
    const err = popOuter(pkt);
    if (err !== null) return err;
  }
  if (p.push !== null) return pushOuter(pkt, p.push, srcPort, flowLabel);
  return null;
}

/** Replays a transform list (the fallback when a list does not compile). */
export function replayList(pkt: Packet, list: readonly HeaderTransform[]): Reason | null {
  for (let i = 0; i < list.length; i++) {
    const err = applyTransform(pkt, list[i]);
    if (err !== null) return err;
  }
  return null;
}

/**
 * True when two plans do the same thing to every packet, so one object can serve both UFT
 * entries (flows through the same rules without address or port rewrites compile to equal plans;
 * sharing them saves ~160 bytes per flow at a million flows).
 */
export function samePlan(a: CompiledPlan, b: CompiledPlan): boolean {
  return a.etherSrc === b.etherSrc && a.etherDst === b.etherDst && a.ipSrc === b.ipSrc &&
    a.ipDst === b.ipDst && a.ipDelta === b.ipDelta && a.l4Delta === b.l4Delta &&
    a.l4Csum === b.l4Csum && a.l4Udp === b.l4Udp && a.srcPort === b.srcPort &&
    a.dstPort === b.dstPort && a.srcPortAt === b.srcPortAt && a.dstPortAt === b.dstPortAt &&
    a.ports === b.ports && a.pseudoDelta === b.pseudoDelta && a.pop === b.pop &&
    a.push === b.push;
}
