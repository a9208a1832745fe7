// Underlay link: an AF_PACKET socket bound to an existing interface. Receive reads a
// PACKET_MMAP ring in place (no syscall per frame): TPACKET_V2 by default, whose poll wakes per
// frame; TPACKET_V3 (poll wakes per retired block, ≥ 1 ms) or recvmmsg on request. Transmit is
// batched through sendmmsg.
import { C, IF, PACKET_MREQ, SOCKADDR_LL } from "../../ffi/layout.ts";
import { check, errno, libc, SysError } from "../../ffi/libc.ts";
import { attachFilter } from "./share_filter.ts";
import { IfCtl } from "../../ffi/ifctl.ts";
import { withNetns } from "../../ffi/netns.ts";
import {
  FrameBatch,
  HEADROOM,
  type Link,
  type LinkStats,
  MAX_JOINS,
  newLinkStats,
  VNET_HDR_LEN,
} from "./link.ts";
import { resolveVnet, VnetVerdict } from "../packet/virtio_net.ts";
import { MmsgVec } from "./mmsg.ts";
import { setPeek, tuningEnv } from "./poll.ts";
import { TpacketRing } from "./tpacket.ts";
import { FrameRing, frameRingGeometry } from "./tpacket2.ts";

type RxMode = "ring" | "ring3" | "mmsg";
const RX_MODES: readonly string[] = ["ring", "ring3", "mmsg"];
const envRx = tuningEnv("XDENO_PACKET_RX");
/** The receive mode when `rx` is not given: "ring", unless $XDENO_PACKET_RX names another. */
export const DEFAULT_RX: RxMode = envRx && RX_MODES.includes(envRx) ? envRx as RxMode : "ring";

/** How to open an underlay link. */
export interface PacketLinkOptions {
  /** Existing interface to bind to. */
  ifname: string;
  /** Named namespace the interface lives in (the socket is created there). */
  netns?: string;
  /** Receive every frame, not only those for our MAC (the switch answers for many addresses). */
  promisc?: boolean;
  /** Receive all multicast (NDP solicited-node groups of every local address). */
  allmulti?: boolean;
  /**
   * "ring" (default): TPACKET_V2, per-frame slots, poll wakes per frame. "ring3": TPACKET_V3
   * blocks, poll wakes when a block retires (up to 1 ms late: for bulk capture, not a switch).
   * "mmsg": recvmmsg into the batch.
   */
  rx?: RxMode;
  /**
   * Ring geometry. "ring3": block size (bytes, power of two ≥ 64 KiB) and block count.
   * "ring": `blockSize` overrides the block (a page multiple), `ringFrames` is the slot count.
   */
  blockSize?: number;
  blockCount?: number;
  /**
   * Slots of the "ring" receive ring (default 8192: ~13 MiB at MTU 1500). Each frame takes a
   * slot however small, so this is the burst (in frames) the link absorbs while its reader is
   * descheduled: a few ms at 1 M frames/s.
   */
  ringFrames?: number;
  /** Most frames per sendmmsg call. */
  txBatch?: number;
  /** Socket receive buffer for rx "mmsg" (bytes; default 4 MiB). */
  rcvbuf?: number;
  /**
   * PACKET_VNET_HDR: frames come with their checksum/GSO state (FrameBatch `vnet`), and sends
   * may carry TSO super-frames that the kernel segments.
   */
  vnetHdr?: boolean;
  /** Bypass the qdisc layer on transmit (faster; no tc shaping). */
  qdiscBypass?: boolean;
  /**
   * Classic BPF socket filter (struct sock_filter[] bytes), attached before bind: e.g. one
   * worker's share of the link's frames (l../link/share_filter.ts).
   */
  filter?: Uint8Array;
}

/** An AF_PACKET socket as a Link. */
export class PacketLink implements Link {
  readonly kind = "packet";
  readonly stats: LinkStats = newLinkStats();
  readonly mac: Uint8Array;
  readonly mtu: number;
  /** The device bound now; changes when a device with the link's name is re-created. */
  ifindex: number;
  /** Times the socket was re-bound to a re-created device. */
  rebinds = 0;
  private readonly opts: PacketLinkOptions;
  /** True when frames carry a virtio-net header on the socket. */
  readonly vnet: boolean;
  /**
   * Trains (`FrameBatch.joins`) leave as one message from several buffers: with virtio-net
   * headers, so the frame can be a GSO frame (a UDP_L4 train of Geneve packets, a TCP train).
   */
  readonly gather: boolean;
  // zero headers for plain sends, and landing space for received headers nobody keeps
  private readonly hdrs = new Uint8Array(256 * VNET_HDR_LEN);
  private readonly zero = new Uint8Array(VNET_HDR_LEN);
  private readonly ring: TpacketRing | FrameRing | null;
  private readonly tx: MmsgVec;
  private readonly rxv: MmsgVec | null;
  private readonly ctl: IfCtl;
  private up = true;
  private closed = false;

  private constructor(
    readonly name: string,
    readonly fd: number,
    o: PacketLinkOptions,
    ctl: IfCtl,
  ) {
    this.ctl = ctl;
    this.opts = o;
    this.ifindex = ctl.index(name);
    this.mac = ctl.mac(name);
    this.mtu = ctl.mtu(name);
    this.vnet = o.vnetHdr === true;
    this.gather = this.vnet;
    this.tx = new MmsgVec(o.txBatch ?? 64, this.vnet ? 2 : 1, this.gather ? MAX_JOINS : 0);
    setInt(fd, C.SOL_PACKET, C.PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING");
    if (o.filter) attachFilter(fd, o.filter);
    if (this.vnet) setInt(fd, C.SOL_PACKET, C.PACKET_VNET_HDR, 1, "PACKET_VNET_HDR");
    if (o.qdiscBypass) setInt(fd, C.SOL_PACKET, C.PACKET_QDISC_BYPASS, 1, "PACKET_QDISC_BYPASS");
    const rx = o.rx ?? DEFAULT_RX;
    this.rxv = null;
    if (rx === "ring3") {
      setInt(fd, C.SOL_PACKET, C.PACKET_VERSION, C.TPACKET_V3, "PACKET_VERSION");
      this.ring = new TpacketRing(fd, o.blockSize ?? 1 << 18, o.blockCount ?? 16, this.vnet);
    } else if (rx === "ring") {
      setInt(fd, C.SOL_PACKET, C.PACKET_VERSION, C.TPACKET_V2, "PACKET_VERSION");
      // slots for MTU frames (VLAN tag included); super-frames take the socket-queue path
      const g = frameRingGeometry(this.mtu + 18, o.ringFrames ?? 8192, this.vnet, o.blockSize);
      this.ring = new FrameRing(fd, g, this.vnet);
      if (this.vnet) setRcvbuf(fd, o.rcvbuf ?? 4 << 20);
    } else {
      this.ring = null;
      this.rxv = new MmsgVec(256, this.vnet ? 2 : 1);
      // the default 208 KiB queue holds ~100 frames: too few for a burst between two polls
      setRcvbuf(fd, o.rcvbuf ?? 4 << 20);
    }
    try {
      this.bindAndJoin(o);
    } catch (e) {
      this.ring?.close();
      throw e;
    }
    const ring = this.ring;
    if (ring) setPeek(fd, () => ring.pending());
  }

  private bindAndJoin(o: PacketLinkOptions): void {
    const sll = new Uint8Array(SOCKADDR_LL.size);
    const dv = new DataView(sll.buffer);
    dv.setUint16(SOCKADDR_LL.family, C.AF_PACKET, true);
    dv.setUint16(SOCKADDR_LL.protocol, C.ETH_P_ALL, false); // network order
    dv.setInt32(SOCKADDR_LL.ifindex, this.ifindex, true);
    check(libc.bind(this.fd, sll, sll.length), "bind", `AF_PACKET ${this.name}`);
    if (o.promisc) this.membership(C.PACKET_MR_PROMISC);
    if (o.allmulti) this.membership(C.PACKET_MR_ALLMULTI);
    this.refresh();
  }

  /** Opens the socket inside the link's namespace; closes everything again on error. */
  static open(o: PacketLinkOptions): PacketLink {
    // protocol 0 until bind, so no frame of another interface is queued meanwhile
    const fd = withNetns(o.netns, () =>
      check(
        libc.socket(C.AF_PACKET, C.SOCK_RAW | C.SOCK_NONBLOCK | C.SOCK_CLOEXEC, 0),
        "socket",
        "AF_PACKET",
      ));
    let ctl: IfCtl | null = null;
    try {
      ctl = new IfCtl(o.netns ?? null);
      return new PacketLink(o.ifname, fd, o, ctl);
    } catch (e) {
      ctl?.close();
      libc.close(fd);
      throw e;
    }
  }

  /** Joins a multicast MAC group (e.g. an NDP solicited-node group 33:33:ff:xx:xx:xx). */
  joinMulticast(mac: Uint8Array): void {
    this.membership(C.PACKET_MR_MULTICAST, mac);
  }

  /** Leaves a multicast MAC group joined with `joinMulticast`. */
  leaveMulticast(mac: Uint8Array): void {
    this.membership(C.PACKET_MR_MULTICAST, mac, C.PACKET_DROP_MEMBERSHIP);
  }

  /** Adds (or drops) a packet_mreq membership: promiscuous, all-multicast, or one group. */
  membership(type: number, mac?: Uint8Array, op: number = C.PACKET_ADD_MEMBERSHIP): void {
    const m = new Uint8Array(PACKET_MREQ.size);
    const dv = new DataView(m.buffer);
    dv.setInt32(PACKET_MREQ.ifindex, this.ifindex, true);
    dv.setUint16(PACKET_MREQ.type, type, true);
    if (mac) {
      dv.setUint16(PACKET_MREQ.alen, 6, true);
      m.set(mac, PACKET_MREQ.address);
    }
    check(libc.setsockopt(this.fd, C.SOL_PACKET, op, m, m.length), "setsockopt", "packet_mreq");
  }

  /** Receives up to `batch.capacity` frames. */
  recv(batch: FrameBatch): number {
    if (this.closed) return (batch.count = 0);
    const n = this.ring ? this.ring.recv(batch, this.stats) : this.recvMmsg(batch);
    batch.count = n;
    return n;
  }

  private recvMmsg(batch: FrameBatch): number {
    const v = this.rxv!;
    const k = Math.min(batch.capacity, v.n);
    const vh = batch.vnet ?? this.hdrs;
    for (let i = 0; i < k; i++) {
      const b = batch.bufs[i];
      v.set(i, b, HEADROOM, b.length - HEADROOM);
      if (this.vnet) v.setHeader(i, vh, i * VNET_HDR_LEN, VNET_HDR_LEN);
    }
    const r = libc.recvmmsg(this.fd, v.ptr, k, C.MSG_DONTWAIT, null);
    if (r < 0) {
      const e = errno();
      if (e !== C.EAGAIN && e !== C.EINTR) this.stats.rxErrors++;
      return 0;
    }
    const skip = this.vnet ? VNET_HDR_LEN : 0;
    let n = 0;
    for (let i = 0; i < r; i++) {
      const len = v.len(i) - skip;
      if (v.flags(i) & C.MSG_TRUNC || len < 0) {
        this.stats.rxErrors++;
        continue;
      }
      const buf = batch.bufs[i];
      if (this.vnet && !batch.vnet) {
        if (resolveVnet(vh, i * VNET_HDR_LEN, buf, HEADROOM, len) === VnetVerdict.Drop) {
          this.stats.rxErrors++; // a GSO super-frame the consumer cannot carry
          continue;
        }
      }
      if (n !== i) {
        // keep frames dense: swap buffers (and headers) instead of copying bytes
        batch.bufs[i] = batch.bufs[n];
        batch.bufs[n] = buf;
        if (batch.vnet) vh.copyWithin(n * VNET_HDR_LEN, i * VNET_HDR_LEN, (i + 1) * VNET_HDR_LEN);
      }
      batch.offs[n] = HEADROOM;
      batch.lens[n] = len;
      this.stats.rxBytes += len;
      n++;
    }
    this.stats.rxFrames += n;
    return n;
  }

  /**
   * Sends frames [0, count) in sendmmsg batches, a train as one message; frames the kernel
   * refuses are dropped. Returns the slots accepted.
   */
  send(batch: FrameBatch, count: number): number {
    if (this.closed) return 0;
    const t = this.tx, joins = this.gather ? batch.joins : null;
    const hdrs = this.vnet ? batch.vnet ?? this.zero : null;
    const hdrLen = batch.vnet !== null ? VNET_HDR_LEN : 0;
    let sent = 0;
    for (let i = 0; i < count;) {
      const k = t.load(batch, i, count, joins, hdrs, hdrLen, VNET_HDR_LEN);
      const r = this.flush(k);
      for (let j = 0; j < r; j++) {
        this.stats.txBytes += t.bytes[j];
        sent += t.slots[j];
      }
      for (let j = 0; j < k; j++) i += t.slots[j];
      if (r < k) {
        this.stats.txDropped += count - sent;
        break; // the queue is full: the rest would fail too
      }
    }
    return sent;
  }

  private flush(k: number): number {
    const r = libc.sendmmsg(this.fd, this.tx.ptr, k, 0);
    if (r < 0) {
      const e = errno();
      if (e !== C.EAGAIN && e !== C.ENOBUFS && e !== C.ENETDOWN && e !== C.ENXIO) {
        this.stats.txErrors++;
      }
      return 0;
    }
    this.stats.txFrames += r;
    return r;
  }

  /** Sends one frame. */
  sendFrame(buf: Uint8Array, off: number, len: number): boolean {
    if (this.closed) return false;
    this.tx.set(0, buf, off, len);
    if (this.vnet) this.tx.setHeader(0, this.zero, 0, VNET_HDR_LEN);
    if (this.flush(1) === 1) {
      this.stats.txBytes += len;
      return true;
    }
    this.stats.txDropped++;
    return false;
  }

  /** Frames the kernel dropped for this socket since the last call (ring or queue full). */
  kernelDrops(): number {
    const st = new Uint8Array(12), len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, 12, true);
    if (libc.getsockopt(this.fd, C.SOL_PACKET, C.PACKET_STATISTICS, st, len) < 0) return -errno();
    return new DataView(st.buffer).getUint32(4, true);
  }

  /** Re-reads the interface's IFF_UP|IFF_RUNNING. */
  refresh(): boolean {
    const f = this.ctl.flags(this.name);
    this.up = f > 0 && (f & (IF.IFF_UP | IF.IFF_RUNNING)) === (IF.IFF_UP | IF.IFF_RUNNING);
    return this.up;
  }

  /** Operational state as of the last refresh or monitor event. */
  isUp(): boolean {
    return this.up && !this.closed;
  }

  /**
   * Records a state change seen by a link monitor; a new `index` for our name means the device
   * was deleted and re-created, so the socket follows it.
   */
  setUp(up: boolean, index?: number): void {
    if (index !== undefined && index > 0 && index !== this.ifindex && !this.rebind(index)) return;
    this.up = up;
  }

  /**
   * Binds the socket to the device now carrying the link's name (default: looked up). The
   * kernel unbinds a packet socket from a deleted device and drops its memberships, and a new
   * device gets a new ifindex, so without this the link stays deaf and mute. False on failure
   * (the link stays down).
   */
  rebind(index?: number): boolean {
    if (this.closed) return false;
    try {
      this.ifindex = index ?? this.ctl.index(this.name);
      this.mac.set(this.ctl.mac(this.name)); // in place: holders of `mac` see the new one
      // the unbind left ENETDOWN pending (POLLERR until read)
      const v = new Uint8Array(4), len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, 4, true);
      libc.getsockopt(this.fd, C.SOL_SOCKET, C.SO_ERROR, v, len);
      this.bindAndJoin(this.opts);
      this.rebinds++;
      return true;
    } catch {
      this.up = false;
      return false;
    }
  }

  /** Unmaps the ring and closes the socket. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.ring) setPeek(this.fd, null);
    this.ring?.close();
    libc.close(this.fd);
    this.ctl.close();
  }
}

/** Sets the socket receive buffer, past rmem_max when privileged. */
function setRcvbuf(fd: number, size: number): void {
  try {
    setInt(fd, C.SOL_SOCKET, C.SO_RCVBUFFORCE, size, "SO_RCVBUFFORCE");
  } catch {
    setInt(fd, C.SOL_SOCKET, C.SO_RCVBUF, size, "SO_RCVBUF");
  }
}

/** setsockopt with an int value (control path). */
export function setInt(fd: number, level: number, opt: number, v: number, what: string): void {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, true);
  if (libc.setsockopt(fd, level, opt, b, 4) < 0) throw new SysError("setsockopt", errno(), what);
}
