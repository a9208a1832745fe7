// The switch's side of NDP (RFC 4861): on ports it is every zone's router (RA for RS, NA for
// its gateway link-local and, by proxy, for the other local underlay addresses); on underlay
// links it answers for the link's link-local and every local underlay address, and keeps each
// link's neighbour cache of next hops current from the NAs it receives.

import { HEADROOM } from "../link/link.ts";
import { verifyL4Checksum } from "../packet/checksum.ts";
import type { PacketMeta } from "../packet/meta.ts";
import { ipv6MulticastMacInto, solicitedNodeInto } from "../packet/addr.ts";
import { DROP, EV, type SwitchCounters } from "./counters.ts";
import {
  copyBytes,
  NA_OVERRIDE,
  NA_ROUTER,
  NA_SOLICITED,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
  ND_ROUTER_SOLICIT,
  OPT_SLLA,
  OPT_TLLA,
  writeNeighborAdvert,
  writeNeighborSolicit,
  writeRouterAdvert,
} from "./icmp6.ts";
import type { KeyTable } from "./keytable.ts";
import type { Neighbor } from "./neighbor.ts";
import type { SwitchPort } from "./port.ts";
import type { UnderlayLink } from "./routes.ts";
import type { TxQueue } from "./txq.ts";

const ALL_NODES = Uint8Array.of(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);

/** True when 16 bytes at `b[off]` equal `a`. */
function addrIs(b: Uint8Array, off: number, a: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (b[off + i] !== a[i]) return false;
  return true;
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
  private readonly sMac2 = new Uint8Array(6);

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

  /** Offset of the value of the first NDP option of `type` in [at, end), or -1. */
  private ndpOption(b: Uint8Array, at: number, end: number, type: number): number {
    while (at + 8 <= end) {
      const olen = b[at + 1] * 8;
      if (olen === 0 || at + olen > end) return -2;
      if (b[at] === type) return at + 2;
      at += olen;
    }
    return at === end ? -1 : -2;
  }

  /** RFC 4861 validity checks shared by every NDP message; returns the message length or -1. */
  private ndpValid(b: Uint8Array): number {
    const lv = this.meta.outer, l3 = lv.l3;
    const mlen = lv.ipEnd - lv.l4;
    if (b[l3 + 7] !== 255 || lv.icmpCode !== 0 || !verifyL4Checksum(b, lv)) return -1;
    const min = lv.icmpType === ND_ROUTER_SOLICIT ? 8 : 24;
    return mlen < min ? -1 : mlen;
  }

  /** The switch as the zone's router: RA for RS, NA for its gateway and local addresses. */
  fromPort(port: SwitchPort, b: Uint8Array): void {
    const lv = this.meta.outer, l3 = lv.l3, l4 = lv.l4, c = this.counters;
    if (this.ndpValid(b) < 0) return void c.drops[DROP["ndp-invalid"]]++;
    const srcUnspec = unspecified(b, l3 + 8);
    if (lv.icmpType === ND_ROUTER_SOLICIT) {
      if (this.ndpOption(b, l4 + 8, lv.ipEnd, OPT_SLLA) === -2) {
        return void c.drops[DROP["ndp-invalid"]]++;
      }
      copyBytes(this.sA, 0, srcUnspec ? ALL_NODES : b, srcUnspec ? 0 : l3 + 8, 16);
      const out = port.tx.reserve();
      port.tx.commit(writeRouterAdvert(
        out,
        HEADROOM,
        port.mac,
        this.gatewayMac,
        this.gatewayLinkLocal,
        this.sA,
        this.raLifetime,
        port.mtu,
      ));
      return void c.events[EV["ra-sent"]]++;
    }
    if (lv.icmpType !== ND_NEIGHBOR_SOLICIT) return void c.drops[DROP["ndp-ignored"]]++;
    const t = l4 + 8;
    if (this.ndpOption(b, l4 + 24, lv.ipEnd, OPT_SLLA) === -2 || b[t] === 0xff) {
      return void c.drops[DROP["ndp-invalid"]]++;
    }
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
    copyBytes(this.sA, 0, b, t, 16);
    copyBytes(this.sB, 0, srcUnspec ? ALL_NODES : b, srcUnspec ? 0 : l3 + 8, 16);
    if (srcUnspec) ipv6MulticastMacInto(ALL_NODES, this.sMac);
    else copyBytes(this.sMac, 0, dstMac, 0, 6);
    const flags = NA_ROUTER | NA_OVERRIDE | (srcUnspec ? 0 : NA_SOLICITED);
    const out = tx.reserve();
    tx.commit(
      writeNeighborAdvert(
        out,
        HEADROOM,
        this.sMac,
        ourMac,
        this.sA,
        this.sB,
        this.sA,
        flags,
        ourMac,
      ),
    );
    this.counters.events[EV["na-sent"]]++;
  }

  /** NDP on an underlay link: answer for our addresses, learn next hops from NAs. */
  fromUnderlay(ul: UnderlayLink, b: Uint8Array, off: number): void {
    const lv = this.meta.outer, l3 = lv.l3, l4 = lv.l4, c = this.counters;
    if (this.ndpValid(b) < 0) return void c.drops[DROP["ndp-invalid"]]++;
    const t = l4 + 8;
    if (lv.icmpType === ND_NEIGHBOR_SOLICIT) {
      const slla = this.ndpOption(b, l4 + 24, lv.ipEnd, OPT_SLLA);
      if (slla === -2 || b[t] === 0xff) return void c.drops[DROP["ndp-invalid"]]++;
      const ours = addrIs(b, t, ul.linkLocal) || addrIs(b, t, this.sledAddress) ||
        this.byAddr.get(b, t, 0) !== undefined;
      if (!ours) {
        return void c.drops[DROP["ndp-ignored"]]++;
      }
      const srcUnspec = unspecified(b, l3 + 8);
      copyBytes(this.sMac2, 0, b, slla >= 0 ? slla : off + 6, 6);
      return this.answerNs(ul.tx, this.sMac2, ul.link.mac, b, l3, t, srcUnspec);
    }
    if (lv.icmpType === ND_NEIGHBOR_ADVERT) {
      const tlla = this.ndpOption(b, l4 + 24, lv.ipEnd, OPT_TLLA);
      if (tlla === -2 || b[t] === 0xff) return void c.drops[DROP["ndp-invalid"]]++;
      const flags = b[l4 + 4];
      const wasKnown = ul.neighbors.get(b, t) !== undefined;
      if (!wasKnown) return void c.drops[DROP["ndp-ignored"]]++;
      c.events[EV["na-learned"]]++;
      const changed = ul.neighbors.advert(
        b,
        t,
        tlla >= 0 ? tlla : off + 6,
        (flags & NA_SOLICITED) !== 0,
        (flags & NA_OVERRIDE) !== 0,
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
      copyBytes(this.sMac, 0, n.mac, 0, 6);
      copyBytes(this.sB, 0, n.addr, 0, 16);
    } else {
      solicitedNodeInto(n.addr, 0, this.sB);
      ipv6MulticastMacInto(this.sB, this.sMac);
    }
    const out = ul.tx.reserve();
    ul.tx.commit(
      writeNeighborSolicit(
        out,
        HEADROOM,
        this.sMac,
        ul.link.mac,
        ul.linkLocal,
        this.sB,
        n.addr,
        ul.link.mac,
      ),
    );
    this.counters.events[EV["ns-sent"]]++;
  }
}
