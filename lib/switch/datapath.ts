// The per-frame decisions of the switch (DESIGN.md paths 1-3 and NDP): a frame from a port is
// answered (NDP), delivered to another local port, or passed through to an underlay next hop;
// a frame from an underlay link is answered (NDP), learned from (NA) or delivered to the port
// owning its destination. Everything else is dropped and counted by reason.

import { IPV6_DST, IPV6_HOP_LIMIT, IPV6_SRC } from "../packet/ipv6.ts";
import { ETH_SRC, EthernetView } from "../packet/ethernet.ts";
import type { FrameBatch } from "../link/link.ts";
import { HEADROOM, VNET_HDR_LEN } from "../link/link.ts";
import { resolveVnet, VirtioNetView, VnetVerdict } from "../packet/virtio_net.ts";
import { GeneveIn } from "./uso_in.ts";
import { Ndp, unspecified } from "./ndp.ts";
import { FlowId } from "../packet/flow.ts";
import type { PacketMeta } from "../packet/meta.ts";
import { parseFrame } from "../packet/parse.ts";
import { Packet } from "../engine/packet.ts";
import { DROP, EV, SwitchCounters } from "./counters.ts";
import {
  type FrameAddrs,
  frameAddrs,
  icmpv6EchoReplyLen,
  newFrameAddrs,
  writeIcmpv6EchoReply,
  writeIcmpv6Error,
} from "../packet/icmp_reply.ts";
import {
  ICMPV6_ECHO_REQUEST,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_TIME_EXCEEDED,
  isIcmpv6Error,
  isNdp,
} from "../packet/icmpv6.ts";
import { ETHERTYPE_IPV6 } from "../packet/ethernet.ts";
import { PROTO_ICMPV6 } from "../packet/checksum.ts";
import { bytesEqual, copyBytes } from "../packet/bytes.ts";
import { KeyTable } from "./keytable.ts";
import { ENCAP_OVERHEAD, OverlayPath } from "./overlay.ts";
import { Segmenter } from "./segment.ts";
import { isGso, queueMerged } from "./gro.ts";
import { OutTrain } from "./gro_out.ts";
import { Multicast } from "./multicast.ts";
import type { SwitchPort } from "./port.ts";
import { ecmpHash, inPrefix, RouteTable, type UnderlayLink } from "./routes.ts";
import type { TxQueue } from "./txq.ts";

/** One reused view of the frame's Ethernet header (the datapath is single-threaded). */
const ETH = new EthernetView(new Uint8Array(0), 0);

/** What the datapath asks of the switch that drives it. */
export interface DatapathHooks {
  /** The smallest underlay MTU (what an encapsulated packet must fit). */
  minUnderlayMtu(): number;
  /** A next hop or link changed liveness: refresh the routes' live next hops. */
  livenessChanged(): void;
}

/** One reused view of the frame's virtio-net header (the datapath is single-threaded). */
const VH = new VirtioNetView(new Uint8Array(0), 0);

/** State and per-frame logic of the switch; `Switch` holds one and adds control and the loop. */
export class Datapath {
  readonly counters = new SwitchCounters();
  /** Ports by underlay address. */
  readonly byAddr = new KeyTable<SwitchPort>(16);
  /** Ports by (VNI, MAC). */
  readonly byMac = new KeyTable<SwitchPort>(6);
  readonly routes = new RouteTable();
  /** The one packet object of this datapath: every frame is parsed into its meta. */
  readonly pkt = new Packet();
  protected readonly meta: PacketMeta = this.pkt.meta;
  protected readonly flow = new FlowId();
  // Scratch for generated frames: the ingress frame's buffer may be swapped away meanwhile.
  private readonly sB = new Uint8Array(16);
  private readonly answerTo: FrameAddrs = newFrameAddrs();
  private readonly sMac2 = new Uint8Array(6);
  /** Monotonic ms of the current pass. */
  now = 0;
  /** Paths 4 and 5: the ports' VPC pipelines and Geneve. */
  readonly ov: OverlayPath;
  /** Overlay multicast (M2P). */
  readonly mc: Multicast;
  /** NDP on ports and underlay links. */
  readonly ndp: Ndp;
  /** Splits TSO super-frames bound for a pipeline (set by `Switch` when frames carry headers). */
  seg: Segmenter | null = null;
  /** In-order TCP segments from a port merged before its pipeline (`gro_out.ts`). */
  readonly train: OutTrain;
  /** Geneve for this sled, UDP_L4 frames cut into their packets (`uso_in.ts`). */
  private readonly geneveIn: GeneveIn;

  constructor(
    readonly gatewayMac: Uint8Array,
    readonly gatewayLinkLocal: Uint8Array,
    readonly underlayPrefix: Uint8Array,
    readonly underlayPrefixLen: number,
    /** Source of ICMPv6 errors we originate (the sled's underlay address). */
    readonly icmpSource: Uint8Array,
    readonly raLifetime: number,
    private readonly hooks: DatapathHooks,
  ) {
    this.ov = new OverlayPath(
      this.pkt,
      this.counters,
      this.byMac,
      this.routes,
      this.flow,
      icmpSource,
      gatewayMac,
      gatewayLinkLocal,
      () => hooks.minUnderlayMtu(),
    );
    this.geneveIn = new GeneveIn(this.ov, this.counters);
    this.train = new OutTrain(this.ov, this.meta, this.counters, () => hooks.minUnderlayMtu());
    this.mc = new Multicast(this.counters, this.routes, this.flow, icmpSource, gatewayMac);
    this.ndp = new Ndp(
      this.meta,
      this.counters,
      this.byAddr,
      gatewayMac,
      gatewayLinkLocal,
      raLifetime,
      icmpSource,
      this,
      () => hooks.livenessChanged(),
    );
  }

  /**
   * Makes frame `i` a plain frame for paths that rewrite or answer it (pipelines, NDP,
   * multicast): a partial checksum is completed and the header cleared; a GSO super-frame
   * cannot be encapsulated here and is dropped (false).
   */
  protected flatten(rx: FrameBatch, i: number): boolean {
    const v = rx.vnet;
    if (v === null) return true;
    const o = i * VNET_HDR_LEN, vh = VH.reset(v, o);
    if (vh.isPlain) return true;
    if (resolveVnet(v, o, rx.bufs[i], rx.offs[i], rx.lens[i]) === VnetVerdict.Drop) {
      this.counters.drops[DROP.gso]++;
      return false;
    }
    vh.clear();
    return true;
  }

  /** Handles frame `i` of `rx`, received from `port`. */
  fromPort(port: SwitchPort, rx: FrameBatch, i: number): void {
    const b = rx.bufs[i], off = rx.offs[i], len = rx.lens[i];
    const c = this.counters.drops;
    if (this.train.slot >= 0 && this.train.offer(port, rx, i)) return;
    // A client's UDP to port 6081 is its own traffic, never a tunnel for the switch to open.
    if (parseFrame(b, off, len, this.meta, false) !== null) return void c[DROP.parse]++;
    const lv = this.meta.outer;
    const eth = ETH.reset(b, off), mcast = eth.dstIsGroup;
    if (!mcast && !eth.dstEquals(this.gatewayMac)) return void c[DROP["l2-dst"]]++;
    if (lv.etherType !== ETHERTYPE_IPV6 || port.kind === "instance") {
      if (isGso(rx, i)) return this.segmentOut(port, rx, i);
      if (!this.flatten(rx, i) || this.train.hold(port, rx, i)) return;
      return this.overlay(port, rx, i);
    }
    const l3 = lv.l3;
    if (lv.proto === PROTO_ICMPV6 && isNdp(lv.icmpType)) {
      return this.flatten(rx, i) ? this.ndp.fromPort(port, b) : undefined;
    }
    if (mcast) {
      if (!this.flatten(rx, i)) return;
      if (!this.mc.out(port, rx, i, this.meta)) c[DROP.multicast]++;
      return;
    }
    const srcOwned = port.owns(b, l3 + IPV6_SRC);
    if (!srcOwned || !inPrefix(b, l3 + IPV6_DST, this.underlayPrefix, this.underlayPrefixLen)) {
      if (b[l3 + IPV6_DST] === 0xfe && (b[l3 + IPV6_DST + 1] & 0xc0) === 0x80) {
        if (
          lv.icmpType === ICMPV6_ECHO_REQUEST && lv.proto === PROTO_ICMPV6 &&
          this.isGateway(b, l3 + IPV6_DST)
        ) {
          if (!this.flatten(rx, i)) return;
          return this.echoReply(port, b, l3, lv.l4, lv.ipEnd);
        }
        return void c[DROP["link-local-dst"]]++;
      }
      if (port.pipeline !== null && isGso(rx, i)) return this.segmentOut(port, rx, i);
      if (port.pipeline !== null) return this.flatten(rx, i) ? this.ov.out(port, rx, i) : undefined;
      return void c[srcOwned ? DROP["no-overlay"] : DROP["spoofed-source"]]++;
    }
    if (b[l3 + IPV6_HOP_LIMIT] <= 1) {
      this.icmpError(
        port.tx,
        port.mac,
        this.gatewayMac,
        ICMPV6_TIME_EXCEEDED,
        0,
        0,
        b,
        l3,
        lv.ipEnd,
      );
      return void c[DROP["hop-limit"]]++;
    }
    const dst = this.byAddr.get(b, l3 + IPV6_DST, 0);
    if (dst !== undefined) {
      if (dst === port) return void c[DROP["port-loop"]]++;
      if (this.deliver(dst, rx, i, port.tx, port.mac, this.gatewayMac)) {
        this.counters.events[EV["delivered-local"]]++;
      }
      return;
    }
    this.toUnderlay(port, rx, i);
  }

  /** True when 16 bytes at `b[off]` are the gateway's link-local address. */
  private isGateway(b: Uint8Array, off: number): boolean {
    return bytesEqual(b, off, this.gatewayLinkLocal, 0, 16);
  }

  /** A zone pinging its router (the gateway link-local) gets its answer. */
  private echoReply(port: SwitchPort, b: Uint8Array, l3: number, l4: number, end: number): void {
    const out = port.tx.reserve();
    if (HEADROOM + icmpv6EchoReplyLen(l4, end) > out.length) {
      return void this.counters.drops[DROP["too-big"]]++;
    }
    port.tx.commit(writeIcmpv6EchoReply(out, HEADROOM, port.mac, this.gatewayMac, b, l3, l4, end));
    this.counters.events[EV["echo-reply-sent"]]++;
  }

  /**
   * A TSO super-frame bound for `port`'s pipeline: cut into large segments (whole MSS units
   * that fit the underlay after encapsulation), each through the pipeline and Geneve on its
   * own, as if the port had sent it; the overlay path cuts further where the peer needs it.
   */
  private segmentOut(port: SwitchPort, rx: FrameBatch, i: number): void {
    const c = this.counters.drops;
    if (this.seg === null || port.pipeline === null) return void c[DROP.gso]++;
    const lv = this.meta.outer, h = rx.vnet!, ho = i * VNET_HDR_LEN;
    const room = this.hooks.minUnderlayMtu() - ENCAP_OVERHEAD - (lv.payload - lv.l3);
    // Checksums partial: the far end (or the device, or `finishPartial`) completes them.
    const n = this.seg.split(h, ho, rx.bufs[i], rx.offs[i], lv, room, -1, true);
    if (n < 0) return void c[DROP.gso]++;
    this.counters.events[EV["gso-segmented"]]++;
    const sb = this.seg.batch;
    this.ov.gsoMss = VH.reset(h, ho).gsoSize;
    try {
      for (let j = 0; j < n; j++) {
        if (parseFrame(sb.bufs[j], sb.offs[j], sb.lens[j], this.meta, false) !== null) {
          c[DROP.parse]++;
          continue;
        }
        this.ov.out(port, sb, j);
      }
    } finally {
      this.ov.gsoMss = 0;
    }
  }

  /** Non-pass-through traffic: the port's VPC pipeline, or a counted drop. */
  private overlay(port: SwitchPort, rx: FrameBatch, i: number): void {
    if ((rx.bufs[i][rx.offs[i]] & 1) !== 0 && this.mc.out(port, rx, i, this.meta)) return;
    if (port.pipeline !== null) return this.ov.out(port, rx, i);
    this.counters.drops[this.meta.outer.ipVersion === 0 ? DROP["non-ip"] : DROP["no-overlay"]]++;
  }

  /** Pass-through out an underlay link chosen by flow hash among the live next hops (ECMP). */
  private toUnderlay(port: SwitchPort, rx: FrameBatch, i: number): void {
    const b = rx.bufs[i], off = rx.offs[i], lv = this.meta.outer, l3 = lv.l3;
    const c = this.counters.drops;
    const route = this.routes.lookup(b, l3 + IPV6_DST);
    if (route === null) return void c[DROP["no-route"]]++;
    this.flow.setV6(lv.proto & 0xff, b, l3 + IPV6_SRC, l3 + IPV6_DST, lv.srcPort, lv.dstPort);
    const hop = route.pick(ecmpHash(this.flow.w));
    if (hop === null) return void c[DROP["no-next-hop"]]++;
    const link = hop.ul.link;
    if (lv.ipEnd - l3 > link.mtu && !isGso(rx, i)) {
      this.tooBig(port.tx, port.mac, this.gatewayMac, link.mtu, b, l3, lv.ipEnd);
      return void c[DROP["too-big"]]++;
    }
    copyBytes(hop.neighbor.mac, 0, b, off, 6);
    copyBytes(link.mac, 0, b, off + ETH_SRC, 6);
    b[l3 + IPV6_HOP_LIMIT]--;
    this.counters.events[EV["forwarded-underlay"]]++;
    queueMerged(hop.ul.tx, rx, i, this.counters.events);
  }

  /**
   * Rewrites frame `i` for `dst` (gateway MAC → port MAC, hop limit - 1) and queues it. Errors
   * go back through `replyTx` to `replyMac` from `fromMac`; `fromWire`: from an underlay link
   * (gro.ts merges only checked segments from there). False when dropped.
   */
  protected deliver(
    dst: SwitchPort,
    rx: FrameBatch,
    i: number,
    replyTx: TxQueue,
    replyMac: Uint8Array,
    fromMac: Uint8Array,
    fromWire = false,
  ): boolean {
    const b = rx.bufs[i], off = rx.offs[i], lv = this.meta.outer, l3 = lv.l3;
    if (!dst.link.isUp() || dst.paused) {
      this.counters.drops[DROP["port-down"]]++;
      return false;
    }
    if (lv.ipEnd - l3 > dst.mtu && !isGso(rx, i)) {
      this.tooBig(replyTx, replyMac, fromMac, dst.mtu, b, l3, lv.ipEnd);
      this.counters.drops[DROP["too-big"]]++;
      return false;
    }
    copyBytes(dst.mac, 0, b, off, 6);
    copyBytes(this.gatewayMac, 0, b, off + ETH_SRC, 6);
    b[l3 + IPV6_HOP_LIMIT]--;
    queueMerged(dst.tx, rx, i, this.counters.events, fromWire);
    return true;
  }

  /** Handles frame `i` of `rx`, received on underlay link `ul`. */
  fromUnderlay(ul: UnderlayLink, rx: FrameBatch, i: number): void {
    const b = rx.bufs[i], off = rx.offs[i], len = rx.lens[i];
    const c = this.counters.drops;
    if (parseFrame(b, off, len, this.meta) !== null) return void c[DROP.parse]++;
    const lv = this.meta.outer;
    const eth = ETH.reset(b, off), mcast = eth.dstIsGroup;
    if (!mcast && !eth.dstEquals(ul.link.mac)) return void c[DROP["l2-dst"]]++;
    if (lv.etherType !== ETHERTYPE_IPV6) return void c[DROP["non-ip"]]++;
    const l3 = lv.l3;
    if (lv.proto === PROTO_ICMPV6 && isNdp(lv.icmpType)) {
      return this.flatten(rx, i) ? this.ndp.fromUnderlay(ul, b, off) : undefined;
    }
    if (b[l3 + IPV6_DST] === 0xff) {
      if (!this.flatten(rx, i)) return;
      if (!this.mc.inbound(rx, i, this.meta)) c[DROP.multicast]++;
      return;
    }
    if (mcast) return void c[DROP.multicast]++;
    if (this.ov.isOurGeneve(b, l3, lv.proto, lv.dstPort)) return this.geneveIn.frame(rx, i);
    const dst = this.byAddr.get(b, l3 + IPV6_DST, 0);
    if (dst === undefined) return void c[DROP["no-local-port"]]++;
    copyBytes(b, off + ETH_SRC, this.sMac2, 0, 6);
    if (b[l3 + IPV6_HOP_LIMIT] <= 1) {
      this.icmpError(ul.tx, this.sMac2, ul.link.mac, ICMPV6_TIME_EXCEEDED, 0, 0, b, l3, lv.ipEnd);
      return void c[DROP["hop-limit"]]++;
    }
    if (this.deliver(dst, rx, i, ul.tx, this.sMac2, ul.link.mac, true)) {
      this.counters.events[EV["delivered-from-underlay"]]++;
    }
  }

  /** Sends an ICMPv6 packet-too-big for the packet at `l3` back through `tx`. */
  private tooBig(
    tx: TxQueue,
    dstMac: Uint8Array,
    srcMac: Uint8Array,
    mtu: number,
    b: Uint8Array,
    l3: number,
    ipEnd: number,
  ): void {
    if (this.icmpError(tx, dstMac, srcMac, ICMPV6_PACKET_TOO_BIG, 0, mtu, b, l3, ipEnd)) {
      this.counters.events[EV["ptb-sent"]]++;
    }
  }

  /**
   * Sends an ICMPv6 error about the packet at `l3` to its source, unless that packet is itself
   * an ICMPv6 error or came from an address that must not get one. True when sent.
   */
  private icmpError(
    tx: TxQueue,
    dstMac: Uint8Array,
    srcMac: Uint8Array,
    type: number,
    code: number,
    param: number,
    b: Uint8Array,
    l3: number,
    ipEnd: number,
  ): boolean {
    const lv = this.meta.outer;
    if (lv.proto === PROTO_ICMPV6 && lv.icmpType >= 0 && isIcmpv6Error(lv.icmpType)) return false;
    if (b[l3 + IPV6_SRC] === 0xff || unspecified(b, l3 + IPV6_SRC)) return false;
    copyBytes(b, l3 + IPV6_SRC, this.sB, 0, 16);
    const out = tx.reserve();
    tx.commit(writeIcmpv6Error(
      out,
      HEADROOM,
      frameAddrs(this.answerTo, dstMac, srcMac, this.icmpSource, this.sB),
      type,
      code,
      param,
      b,
      l3,
      ipEnd - l3,
    ));
    if (type === ICMPV6_TIME_EXCEEDED) this.counters.events[EV["time-exceeded-sent"]]++;
    return true;
  }
}
