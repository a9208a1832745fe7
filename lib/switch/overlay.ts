// DESIGN.md paths 4 and 5: frames a port's VPC pipeline encapsulates (Geneve) leave by the
// underlay next hop of the outer destination, or loop straight back into a local port's inbound
// pipeline when the outer destination is this sled; Geneve from the underlay to this sled is
// handed to the inbound pipeline of the port owning (VNI, inner destination MAC).

import { IPV6_DST, IPV6_SRC } from "../packet/ipv6.ts";
import { IPV4_DF, IPV4_DST, IPV4_FLAGS_FRAG, IPV4_SRC } from "../packet/ipv4.ts";
import { u16 } from "../packet/bytes.ts";
import { checkedForTrain, coalesce, queueGso } from "./coalesce.ts";
import { type FrameBatch, HEADROOM, takesGso, VNET_HDR_LEN } from "../link/link.ts";
import { OXIDE_OPT_MSS } from "../packet/meta.ts";
import { GsoHeader, type Segmenter } from "./segment.ts";
import {
  DIR_IN,
  DIR_OUT,
  type Direction,
  Packet,
  RES_HAIRPIN,
  RES_MODIFIED,
} from "../engine/packet.ts";
import type { ProcessResult } from "../engine/packet.ts";
import { type Reason, ReasonCounts } from "../engine/reason.ts";
import type { DryRun } from "../engine/port.ts";
import { parseFrame } from "../packet/parse.ts";
import type { FlowId } from "../packet/flow.ts";
import { DROP, EV, type SwitchCounters } from "./counters.ts";
import {
  type FrameAddrs,
  frameAddrs,
  newFrameAddrs,
  writeFragNeeded,
  writeIcmpv6Error,
} from "../packet/icmp_reply.ts";
import { ICMPV6_PACKET_TOO_BIG, isIcmpv6Error } from "../packet/icmpv6.ts";
import { GENEVE_PORT } from "../packet/geneve.ts";
import { PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from "../packet/checksum.ts";
import { finishPartial, isPartial, markPartial, setPseudoSum } from "./partial_csum.ts";
import { bytesEqual, copyBytes } from "../packet/bytes.ts";
import type { KeyTable } from "./keytable.ts";
import type { SwitchPort } from "./port.ts";
import type { TxQueue } from "./txq.ts";
import { ecmpHash, type NextHop, type RouteTable } from "./routes.ts";
import { mssOptionAt, usoJoin } from "./uso.ts";
import type { UftEntry } from "../engine/uft.ts";

/** The part of an engine Port the switch drives: a VPC port from lib/vpc. */
export interface Pipeline {
  process(dir: Direction, pkt: Packet): number;
  readonly result: ProcessResult;
  /** `process` without side effects, for traces (lib/vpc's VpcPort has it). */
  dryRun?(dir: Direction, pkt: Packet): DryRun;
  /** Removes idle flows; the switch calls it about once a second between batches. */
  expire?(): void;
  /** Drops every flow and releases what flows hold (SNAT ports); called on port removal. */
  clearFlows?(): void;
  /**
   * Multicast bypasses `process` (the switch replicates by M2P): null when the guest may send
   * (DIR_OUT) or receive (DIR_IN) the frame, else the drop reason (firewall, anti-spoof, TCP).
   */
  multicast?(dir: Direction, buf: Uint8Array, off: number, len: number): Reason | null;
  /** The engine port behind a wrapper (lib/vpc's VpcPort), used when `clearFlows` is absent. */
  readonly port?: { reset(): void };
}

/** Releases a removed port's flows and the resources they hold (a paused port too). */
export function releasePipeline(p: Pipeline): void {
  if (p.clearFlows) p.clearFlows();
  else p.port?.reset();
}

/**
 * Bytes encapsulation adds around a guest IP packet: inner Ethernet, outer IPv6, UDP, Geneve
 * and up to 8 bytes of Oxide options.
 */
export const ENCAP_OVERHEAD = 14 + 40 + 8 + 8 + 8;

/**
 * Sets the value of the Oxide MSS option in the Geneve header at `b[g]`; false when the header
 * carries none (the encapsulation is not towards an xdeno/OPTE peer that would honour it).
 */
export function setMssOption(b: Uint8Array, g: number, mss: number): boolean {
  const at = mssOptionAt(b, g);
  if (at < 0) return false;
  b[at + 4] = 0;
  b[at + 5] = 0;
  b[at + 6] = mss >>> 8;
  b[at + 7] = mss & 0xff;
  return true;
}

/** Overlay forwarding state shared by every port of one switch. */
export class OverlayPath {
  private readonly scratch = new Uint8Array(16);
  private readonly scratchHi = this.scratch.subarray(4, 8);
  private readonly answerTo: FrameAddrs = newFrameAddrs();
  /** Pipeline drops and errors by "layer: reason" (reads like a Map of name → count). */
  readonly reasons = new ReasonCounts();
  /**
   * Cuts large segments into MSS segments where the far end cannot take them whole (a peer
   * without the MSS option, a port without offload); set by `Switch`. Its buffers have the
   * switch's frame size, since they swap with transmit queues.
   */
  seg: Segmenter | null = null;
  /** gso_size of the large segment `out` is handling, 0 for an ordinary frame. */
  gsoMss = 0;
  private readonly gsoHdr = new GsoHeader();

  constructor(
    /** The datapath's packet; its meta already describes the frame being handled. */
    readonly pkt: Packet,
    private readonly counters: SwitchCounters,
    private readonly byMac: KeyTable<SwitchPort>,
    private readonly routes: RouteTable,
    private readonly flow: FlowId,
    /** This sled's underlay address: Geneve to it is ours. */
    readonly sledAddress: Uint8Array,
    private readonly gatewayMac: Uint8Array,
    private readonly gatewayLinkLocal: Uint8Array,
    /** The smallest MTU among the underlay links. */
    private readonly underlayMtu: () => number,
  ) {}

  private pipelineDrop(res: ProcessResult, error: boolean): void {
    this.counters.drops[error ? DROP["vpc-error"] : DROP.vpc]++;
    // The "layer: reason" reason is registered once per pair: a flood of drops builds no string.
    if (res.cause !== null) this.reasons.add(res.cause.in(res.layer));
  }

  /** True when the 16 bytes at `b[off]` are this sled's underlay address. */
  private isSled(b: Uint8Array, off: number): boolean {
    return bytesEqual(b, off, this.sledAddress, 0, 16);
  }

  /** Outbound through `port`'s pipeline, then out the underlay or looped back locally. */
  out(port: SwitchPort, rx: FrameBatch, i: number): void {
    const c = this.counters.drops;
    const pipe = port.pipeline;
    if (pipe === null) return void c[DROP["no-overlay"]]++;
    const pkt = this.pkt.set(rx.bufs[i], rx.offs[i], rx.lens[i]);
    // A segment cut here from a TSO frame: its TCP checksum is still partial.
    const partial = pkt.csumPartial = isPartial(rx.vnet, i);
    if (this.tooBigForUnderlay(port, pkt)) return;
    const code = pipe.process(DIR_OUT, pkt);
    if (code === RES_HAIRPIN) return this.hairpin(port, pipe.result);
    if (code !== RES_MODIFIED) return this.pipelineDrop(pipe.result, code !== 1);
    const m = pkt.meta, o = m.outer;
    if (!m.encap || o.ipVersion !== 6) return void c[DROP["vpc-not-encap"]]++;
    const f = m.inner, mss = this.gsoMss;
    // A large segment: whole to an xdeno peer (the MSS option tells it how to cut), cut here
    // when the encapsulation carries no MSS option (boundary services, other switches).
    const large = mss > 0 && f.ipEnd - f.payload > mss;
    const whole = large && setMssOption(pkt.buf, o.l4 + 8, mss);
    if (this.isSled(pkt.buf, o.l3 + IPV6_DST)) {
      if (large && !whole) return void c[DROP.gso]++;
      this.counters.events[EV["overlay-loopback"]]++;
      return this.inbound(rx, i, true);
    }
    const hop = this.nextHop(pipe.result.entry, pkt);
    if (hop === null) return;
    const link = hop.ul.link;
    if (o.ipEnd - o.l3 > link.mtu) return void c[DROP["too-big"]]++;
    copyBytes(hop.neighbor.mac, 0, pkt.buf, o.ether, 6);
    copyBytes(link.mac, 0, pkt.buf, o.ether + 6, 6);
    rx.bufs[i] = pkt.buf;
    if (large && !whole) return this.splitOut(hop.ul.tx, pkt.buf, pkt.off, mss);
    if (whole) this.counters.events[EV["large-segment-out"]]++;
    const tx = hop.ul.tx, ev = this.counters.events;
    // An xdeno peer (MSS option) over virtio-net headers: partial checksums and UDP_L4 frames.
    const toXdeno = link.vnet === true && tx.batch.vnet !== null &&
      mssOptionAt(pkt.buf, o.l4 + 8) >= 0;
    if (partial) {
      // An xdeno peer completes it (or hands it on partial); the kernel carries it there.
      if (toXdeno) {
        setPseudoSum(pkt.buf, f);
        markPartial(rx.vnet, i, f.l4 - pkt.off, f.payload - pkt.off);
        this.counters.events[EV["csum-partial-out"]]++;
      } else {
        finishPartial(pkt.buf, f);
        rx.vnet!.fill(0, i * VNET_HDR_LEN, (i + 1) * VNET_HDR_LEN);
      }
    }
    if (!toXdeno || !usoJoin(tx, rx, i, pkt.off, pkt.len, ev)) tx.push(rx, i, pkt.off, pkt.len);
    ev[EV["overlay-out"]]++;
  }

  /**
   * The underlay next hop of the encapsulated `pkt`: the one cached on its flow's UFT `entry`
   * while the route generation holds, else by route lookup and ECMP over the inner flow's hash
   * (then cached). null: dropped and counted.
   */
  private nextHop(entry: UftEntry | null, pkt: Packet): NextHop | null {
    const routes = this.routes;
    if (entry !== null && entry.nextHopGen === routes.gen) return entry.nextHop as NextHop;
    const o = pkt.meta.outer, f = pkt.meta.inner;
    const route = routes.lookup(pkt.buf, o.l3 + IPV6_DST);
    if (route === null) {
      this.counters.drops[DROP["no-route"]]++;
      return null;
    }
    // Hash the inner flow, as the outer UDP source port does: one flow stays on one link.
    if (f.ipVersion === 6) {
      this.flow.setV6(
        f.proto & 0xff,
        pkt.buf,
        f.l3 + IPV6_SRC,
        f.l3 + IPV6_DST,
        f.srcPort,
        f.dstPort,
      );
    } else {
      this.flow.setV4(
        f.proto & 0xff,
        pkt.buf,
        f.l3 + IPV4_SRC,
        f.l3 + IPV4_DST,
        f.srcPort,
        f.dstPort,
      );
    }
    const hop = route.pick(ecmpHash(this.flow.w));
    if (hop === null) {
      this.counters.drops[DROP["no-next-hop"]]++;
      return null;
    }
    // A last-resort hop (none live) depends on more than the generation: never cache it.
    if (entry !== null && route.live.length > 0) {
      entry.nextHop = hop;
      entry.nextHopGen = routes.gen;
    }
    return hop;
  }

  /** Sends the encapsulated large segment at `buf[off]` as encapsulated MSS segments. */
  private splitOut(tx: TxQueue, buf: Uint8Array, off: number, mss: number): void {
    const seg = this.seg, m = this.pkt.meta;
    const n = seg === null
      ? -1
      : seg.split(this.gsoHdr.tcp(m.inner.ipVersion, mss), 0, buf, off, m.inner, 0, m.outer.l3);
    if (n < 0) return void this.counters.drops[DROP.gso]++;
    this.counters.events[EV["tunnel-segmented"]]++;
    const sb = seg!.batch;
    for (let k = 0; k < n; k++) {
      tx.push(sb, k, sb.offs[k], sb.lens[k]);
      this.counters.events[EV["overlay-out"]]++;
    }
  }

  /**
   * Checks the guest packet against the smallest underlay MTU less the encapsulation; too big:
   * PTB (IPv6) or frag-needed (IPv4 with DF) back to the guest, quoting the packet as it sent
   * it (before NAT), and true.
   */
  private tooBigForUnderlay(port: SwitchPort, pkt: Packet): boolean {
    const lv = pkt.meta.outer, b = pkt.buf;
    const limit = this.underlayMtu() - ENCAP_OVERHEAD;
    if (lv.l3 < 0 || lv.ipEnd - lv.l3 <= limit) return false;
    this.counters.drops[DROP["too-big"]]++;
    const dfV4 = lv.ipVersion === 4 && (u16(b, lv.l3 + IPV4_FLAGS_FRAG) & IPV4_DF) !== 0;
    if (lv.ipVersion === 4 && !dfV4) return true;
    const out = port.tx.reserve();
    if (lv.ipVersion === 6) {
      if (lv.proto === PROTO_ICMPV6 && lv.icmpType >= 0 && isIcmpv6Error(lv.icmpType)) return true;
      copyBytes(b, lv.l3 + IPV6_SRC, this.scratch, 0, 16);
      port.tx.commit(writeIcmpv6Error(
        out,
        HEADROOM,
        frameAddrs(this.answerTo, port.mac, this.gatewayMac, this.gatewayLinkLocal, this.scratch),
        ICMPV6_PACKET_TOO_BIG,
        0,
        limit,
        b,
        lv.l3,
        lv.ipEnd - lv.l3,
      ));
      this.counters.events[EV["ptb-sent"]]++;
    } else {
      // The unreachable destination answers for itself, as a router on the path would.
      copyBytes(b, lv.l3 + IPV4_DST, this.scratch, 0, 4);
      copyBytes(b, lv.l3 + IPV4_SRC, this.scratch, 4, 4);
      port.tx.commit(writeFragNeeded(
        out,
        HEADROOM,
        frameAddrs(this.answerTo, port.mac, this.gatewayMac, this.scratch, this.scratchHi),
        limit,
        b,
        lv.l3,
        lv.ipEnd - lv.l3,
      ));
      this.counters.events[EV["frag-needed-sent"]]++;
    }
    return true;
  }

  /** True when the frame `meta` describes is UDP to Geneve at this sled's address. */
  isOurGeneve(b: Uint8Array, l3: number, proto: number, dstPort: number): boolean {
    return proto === PROTO_UDP && dstPort === GENEVE_PORT && this.isSled(b, l3 + IPV6_DST);
  }

  /**
   * Inbound: frame `i` of `rx` is Geneve for this sled, parsed into `this.pkt.meta` unless
   * `reparse` (a frame our own pipeline just encapsulated: the engine leaves the Geneve fields
   * of meta unfilled). Goes to the pipeline of the port owning (VNI, inner destination MAC).
   */
  inbound(rx: FrameBatch, i: number, reparse: boolean, partial = false): void {
    const c = this.counters.drops;
    const pkt = reparse ? this.pkt : this.pkt.set(rx.bufs[i], rx.offs[i], rx.lens[i]);
    if (!reparse) pkt.csumPartial = partial;
    // The header (if any) described the encapsulated frame: the inner one gets its own.
    if (pkt.csumPartial) rx.vnet?.fill(0, i * VNET_HDR_LEN, (i + 1) * VNET_HDR_LEN);
    const m = pkt.meta;
    if (reparse && parseFrame(pkt.buf, pkt.off, pkt.len, m) !== null) return void c[DROP.parse]++;
    if (!m.encap || m.inner.ether < 0) return void c[DROP.parse]++;
    const port = this.byMac.get(pkt.buf, m.inner.ether, m.vni);
    if (port === undefined || port.pipeline === null) return void c[DROP["no-overlay-port"]]++;
    // A paused or down port's pipeline does not run: nothing to deliver, no state to create.
    if (!port.link.isUp() || port.paused) return void c[DROP["port-down"]]++;
    // Decapsulation clears the Geneve fields of meta: keep the MSS a large segment came with.
    const optMss = (m.oxideOpts & OXIDE_OPT_MSS) !== 0 ? m.oxideMss : 0;
    const code = port.pipeline.process(DIR_IN, pkt);
    if (code !== RES_MODIFIED) return this.pipelineDrop(port.pipeline.result, code !== 1);
    const lv = pkt.meta.outer;
    if (lv.l3 >= 0 && lv.ipEnd - lv.l3 > port.mtu) {
      if (optMss === 0 || lv.proto !== 6 || lv.payload < 0) return void c[DROP["too-big"]]++;
      this.counters.events[EV["overlay-in"]]++;
      return this.largeIn(port, rx, i, optMss);
    }
    this.counters.events[EV["overlay-in"]]++;
    rx.bufs[i] = pkt.buf;
    // A port that takes GSO (offload or not) gets a train of TCP segments as one super-frame.
    const joins = pkt.csumPartial || checkedForTrain(port.tx, pkt.buf, pkt.off, pkt.len);
    if (joins && coalesce(port.tx, pkt.buf, pkt.off, pkt.len, 0, rx, i)) {
      return void this.counters.events[EV["gro-merged"]]++;
    }
    if (pkt.csumPartial) this.partialIn(port, rx, i);
    port.tx.push(rx, i, pkt.off, pkt.len);
    if (!joins) port.tx.seal();
  }

  /** A partial inner checksum stays partial for a port that takes it, else is completed here. */
  private partialIn(port: SwitchPort, rx: FrameBatch, i: number): void {
    const pkt = this.pkt, lv = pkt.meta.outer;
    if (lv.proto !== PROTO_TCP || lv.l4 < 0) return;
    if (takesGso(port.link) && rx.vnet !== null) {
      setPseudoSum(pkt.buf, lv);
      markPartial(rx.vnet, i, lv.l4 - pkt.off, lv.payload - pkt.off);
    } else {
      finishPartial(pkt.buf, lv);
      this.counters.events[EV["csum-completed"]]++;
    }
  }

  /**
   * A large TCP segment for `port` (bigger than its MTU, MSS option `optMss`): one GSO frame
   * for a port that takes GSO (offload or not), else MSS segments. The MSS never exceeds what the
   * port's MTU holds after this segment's own IP and TCP headers.
   */
  private largeIn(port: SwitchPort, rx: FrameBatch, i: number, optMss: number): void {
    const pkt = this.pkt, lv = pkt.meta.outer;
    const mss = Math.min(optMss, port.mtu - (lv.payload - lv.l3));
    if (mss <= 0) return void this.counters.drops[DROP["too-big"]]++;
    rx.bufs[i] = pkt.buf;
    const gso = takesGso(port.link);
    if (gso && queueGso(port.tx, rx, i, pkt.off, pkt.len, mss, pkt.csumPartial)) {
      return void this.counters.events[EV["gso-delivered"]]++;
    }
    const seg = this.seg, h = this.gsoHdr.tcp(lv.ipVersion, mss), check = !pkt.csumPartial;
    // A complete checksum is checked on the way (a partial one has nothing to check yet).
    const n = seg === null ? -1 : seg.split(h, 0, pkt.buf, pkt.off, lv, 0, -1, false, check);
    if (n < 0) return void this.counters.drops[n === -2 ? DROP["bad-checksum"] : DROP.gso]++;
    this.counters.events[EV["large-segment-split"]]++;
    const sb = seg!.batch;
    for (let k = 0; k < n; k++) port.tx.push(sb, k, sb.offs[k], sb.lens[k]);
  }

  /** Sends a pipeline's generated reply back to the port. */
  private hairpin(port: SwitchPort, res: ProcessResult): void {
    const h = res.hairpin;
    if (h === null) return void this.counters.drops[DROP["vpc-error"]]++;
    const out = port.tx.reserve();
    if (HEADROOM + h.length > out.length) return void this.counters.drops[DROP["too-big"]]++;
    out.set(h, HEADROOM);
    port.tx.commit(h.length);
    this.counters.events[EV["hairpin-sent"]]++;
  }
}
