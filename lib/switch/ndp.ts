// The switch's side of NDP (RFC 4861): on ports it is every zone's router (RA for RS, NA for
// its gateway link-local and, by proxy, for the other local underlay addresses); on underlay
// links it answers for the link's link-local and every local underlay address, and keeps each
// link's neighbour cache of next hops current from the NAs it receives.

import { HEADROOM } from "../link/link.ts";
import { verifyL4Checksum } from "../packet/checksum.ts";
import type { PacketMeta } from "../packet/meta.ts";
import { ipv6MulticastMacInto, solicitedNodeInto } from "../packet/addr.ts";
import { DROP, EV, type SwitchCounters } from "./counters.ts";
import { bytesEqual, copyBytes } from "../packet/bytes.ts";
import {
  findNdpOption,
  NDP_NA_FLAGS,
  NDP_NA_OVERRIDE,
  NDP_NA_SOLICITED,
  NDP_OPT_SOURCE_LL,
  NDP_OPT_TARGET_LL,
  NDP_TARGET,
} from "../packet/ndp.ts";
import {
  ICMPV6_NEIGHBOR_ADVERT,
  ICMPV6_NEIGHBOR_SOLICIT,
  ICMPV6_ROUTER_SOLICIT,
  icmpv6HeaderLen,
} from "../packet/icmpv6.ts";
import { IPV6_HOP_LIMIT, IPV6_SRC } from "../packet/ipv6.ts";
import { ETH_SRC } from "../packet/ethernet.ts";
import {
  type FrameAddrs,
  frameAddrs,
  NDP_HOP_LIMIT,
  newFrameAddrs,
  type RouterAdvertParams,
  writeNeighborAdvert,
  writeNeighborSolicit,
  writeRouterAdvert,
} from "../packet/icmp_reply.ts";
import type { KeyTable } from "./keytable.ts";
import type { Neighbor } from "./neighbor.ts";
import type { SwitchPort } from "./port.ts";
import type { UnderlayLink } from "./routes.ts";
import type { TxQueue } from "./txq.ts";

const ALL_NODES = Uint8Array.of(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);

/** True when 16 bytes at `b[off]` equal `a`. */
function addrIs(b: Uint8Array, off: number, a: Uint8Array): boolean {
  return bytesEqual(b, off, a, 0, 16);
}

/** True when 16 bytes at `b[off]` are all zero (the unspecified address). */
export function unspecified(b: Uint8Array, off: number): boolean {
  for (let i = 0; i < 16; i++) if (b[off + i] !== 0) return false;
  return true;
}

/** NDP handling of one switch; `meta` describes the frame being handled. */
export class Ndp {
  // Scratch for generated frames: the ingress frame's buffer may be swapped away meanwhile.
  private readonly sA = new Uint8Array(16);
  private readonly sB = new Uint8Array(16);
  private readonly sMac = new Uint8Array(6);
  private readonly to: FrameAddrs = newFrameAddrs();
  private readonly sMac2 = new Uint8Array(6);
  /** The RA the zone's router sends (hop limit 64 for the zone's own packets). */
  private readonly ra: RouterAdvertParams = {
    lifetime: 0,
    mtu: 0,
    curHopLimit: 64,
    managed: false,
  };

  constructor(
    private readonly meta: PacketMeta,
    private readonly counters: SwitchCounters,
    private readonly byAddr: KeyTable<SwitchPort>,
    private readonly gatewayMac: Uint8Array,
    private readonly gatewayLinkLocal: Uint8Array,
    private readonly raLifetime: number,
    /** The sled's underlay address (the Geneve endpoint), ours even without a host port. */
    private readonly sledAddress: Uint8Array,
    /** The datapath's current time (`now`, monotonic ms). */
    private readonly clock: { readonly now: number },
    /** Called when an NA changed a next hop's liveness. */
    private readonly onLiveness: () => void,
  ) {}

  /** Offset of the MAC in the first link-layer address option of `type`, or -1. */
  private linkAddrOpt(b: Uint8Array, type: number): number {
    const lv = this.meta.outer;
    // parseFrame checked the option list of every NDP message (checkNdpOptions).
    const at = findNdpOption(b, lv.l4 + icmpv6HeaderLen(lv.icmpType), lv.ipEnd, type);
    return at < 0 ? -1 : at + 2;
  }

  /** RFC 4861 validity checks shared by every NDP message; returns the message length or -1. */
  private ndpValid(b: Uint8Array): number {
    const lv = this.meta.outer, l3 = lv.l3;
    const mlen = lv.ipEnd - lv.l4;
    if (b[l3 + IPV6_HOP_LIMIT] !== NDP_HOP_LIMIT || lv.icmpCode !== 0) return -1;
    if (!verifyL4Checksum(b, lv)) return -1;
    return mlen < icmpv6HeaderLen(lv.icmpType) ? -1 : mlen;
  }

  /** The switch as the zone's router: RA for RS, NA for its gateway and local addresses. */
  fromPort(port: SwitchPort, b: Uint8Array): void {
    const lv = this.meta.outer, l3 = lv.l3, l4 = lv.l4, c = this.counters;
    if (this.ndpValid(b) < 0) return void c.drops[DROP["ndp-invalid"]]++;
    const srcUnspec = unspecified(b, l3 + IPV6_SRC);
    if (lv.icmpType === ICMPV6_ROUTER_SOLICIT) {
      copyBytes(srcUnspec ? ALL_NODES : b, srcUnspec ? 0 : l3 + IPV6_SRC, this.sA, 0, 16);
      const out = port.tx.reserve();
      this.ra.lifetime = this.raLifetime;
      this.ra.mtu = port.mtu;
      port.tx.commit(writeRouterAdvert(
        out,
        HEADROOM,
        frameAddrs(this.to, port.mac, this.gatewayMac, this.gatewayLinkLocal, this.sA),
        this.ra,
      ));
      return void c.events[EV["ra-sent"]]++;
    }
    if (lv.icmpType !== ICMPV6_NEIGHBOR_SOLICIT) return void c.drops[DROP["ndp-ignored"]]++;
    const t = l4 + NDP_TARGET;
    if (b[t] === 0xff) return void c.drops[DROP["ndp-invalid"]]++;
    const other = this.byAddr.get(b, t, 0);
    // A port never gets an answer for its own address: that would fail its DAD.
    const mine = addrIs(b, t, this.gatewayLinkLocal) || (other !== undefined && other !== port);
    if (!mine) return void c.drops[DROP["ndp-ignored"]]++;
    this.answerNs(port.tx, port.mac, this.gatewayMac, b, l3, t, srcUnspec);
  }

  /** Writes an NA for the target at `b[t]` back to the soliciting node. */
  private answerNs(
    tx: TxQueue,
    dstMac: Uint8Array,
    ourMac: Uint8Array,
    b: Uint8Array,
    l3: number,
    t: number,
    srcUnspec: boolean,
  ): void {
    copyBytes(b, t, this.sA, 0, 16);
    copyBytes(srcUnspec ? ALL_NODES : b, srcUnspec ? 0 : l3 + IPV6_SRC, this.sB, 0, 16);
    if (srcUnspec) ipv6MulticastMacInto(ALL_NODES, this.sMac);
    else copyBytes(dstMac, 0, this.sMac, 0, 6);
    const out = tx.reserve();
    tx.commit(
      writeNeighborAdvert(
        out,
        HEADROOM,
        frameAddrs(this.to, this.sMac, ourMac, this.sA, this.sB),
        this.sA,
        !srcUnspec,
        ourMac,
      ),
    );
    this.counters.events[EV["na-sent"]]++;
  }

  /** NDP on an underlay link: answer for our addresses, learn next hops from NAs. */
  fromUnderlay(ul: UnderlayLink, b: Uint8Array, off: number): void {
    const lv = this.meta.outer, l3 = lv.l3, l4 = lv.l4, c = this.counters;
    if (this.ndpValid(b) < 0) return void c.drops[DROP["ndp-invalid"]]++;
    const t = l4 + NDP_TARGET;
    if (lv.icmpType === ICMPV6_NEIGHBOR_SOLICIT) {
      const slla = this.linkAddrOpt(b, NDP_OPT_SOURCE_LL);
      if (b[t] === 0xff) return void c.drops[DROP["ndp-invalid"]]++;
      const ours = addrIs(b, t, ul.linkLocal) || addrIs(b, t, this.sledAddress) ||
        this.byAddr.get(b, t, 0) !== undefined;
      if (!ours) {
        return void c.drops[DROP["ndp-ignored"]]++;
      }
      const srcUnspec = unspecified(b, l3 + IPV6_SRC);
      copyBytes(b, slla >= 0 ? slla : off + ETH_SRC, this.sMac2, 0, 6);
      return this.answerNs(ul.tx, this.sMac2, ul.link.mac, b, l3, t, srcUnspec);
    }
    if (lv.icmpType === ICMPV6_NEIGHBOR_ADVERT) {
      const tlla = this.linkAddrOpt(b, NDP_OPT_TARGET_LL);
      if (b[t] === 0xff) return void c.drops[DROP["ndp-invalid"]]++;
      const flags = b[l4 + NDP_NA_FLAGS];
      const wasKnown = ul.neighbors.get(b, t) !== undefined;
      if (!wasKnown) return void c.drops[DROP["ndp-ignored"]]++;
      c.events[EV["na-learned"]]++;
      const changed = ul.neighbors.advert(
        b,
        t,
        tlla >= 0 ? tlla : off + ETH_SRC,
        (flags & NDP_NA_SOLICITED) !== 0,
        (flags & NDP_NA_OVERRIDE) !== 0,
        this.clock.now,
      );
      if (changed) this.onLiveness();
      return;
    }
    c.drops[DROP["ndp-ignored"]]++;
  }

  /** Writes an NS for next hop `n` on `ul` (unicast probe, or multicast solicitation). */
  solicit(ul: UnderlayLink, n: Neighbor, unicast: boolean): void {
    if (unicast) {
      copyBytes(n.mac, 0, this.sMac, 0, 6);
      copyBytes(n.addr, 0, this.sB, 0, 16);
    } else {
      solicitedNodeInto(n.addr, 0, this.sB);
      ipv6MulticastMacInto(this.sB, this.sMac);
    }
    const out = ul.tx.reserve();
    ul.tx.commit(
      writeNeighborSolicit(
        out,
        HEADROOM,
        frameAddrs(this.to, this.sMac, ul.link.mac, ul.linkLocal, this.sB),
        n.addr,
        ul.link.mac,
      ),
    );
    this.counters.events[EV["ns-sent"]]++;
  }
}
