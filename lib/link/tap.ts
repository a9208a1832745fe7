// TAP port: a /dev/net/tun device the switch owns by fd, optionally moved into a zone's network
// namespace so the zone sees an ordinary Ethernet interface. One readv/writev per frame through
// a pinned iovec (no pointer objects, no bigint per frame); batches end at EAGAIN or at the
// caller's `max` (`boundedRecv`). With
// `vnetHdr` every frame travels behind a virtio-net header (iovec 0). The two directions are
// separate: what the zone may hand over (partial checksums, TSO super-frames) is `offload`
// (TUNSETOFFLOAD); what may be written to it is any GSO frame with NEEDS_CSUM, offload or not
// (the zone's stack takes it like a GRO-merged skb), so a zone without offload still receives
// one frame per train or large segment.
import { C, IF, IOVEC } from "../../ffi/layout.ts";
import { addressOf, check, errno, libc, putAddress } from "../../ffi/libc.ts";
import { IfCtl, openTap } from "../../ffi/ifctl.ts";
import { openNetns } from "../../ffi/netns.ts";
import { Rtnl } from "../../ffi/netlink.ts";
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

/** How to create a TAP port. */
export interface TapLinkOptions {
  /** Interface name (at most 15 bytes). */
  name: string;
  /** MAC of the interface (the zone's MAC); kernel-chosen when absent. */
  mac?: Uint8Array;
  mtu?: number;
  /** Named network namespace (zone) to move the interface into; stays here when absent. */
  netns?: string;
  /** Bring the interface up (in its final namespace). Default true. */
  up?: boolean;
  multiQueue?: boolean;
  /** Exchange a virtio-net header with every frame (FrameBatch `vnet` carries it). */
  vnetHdr?: boolean;
  /**
   * TUN_F_* offloads the zone may hand over (CSUM, TSO4, TSO6); implies `vnetHdr`. 0: the zone
   * sends plain frames (header gso_type NONE) but still receives GSO frames.
   */
  offload?: number;
}

/** A TAP device as a Link. `mac` is the interface's own MAC (the client side of the port). */
export class TapLink implements Link {
  readonly kind = "tap";
  readonly stats: LinkStats = newLinkStats();
  readonly mac: Uint8Array;
  readonly mtu: number;
  /** True when frames carry a virtio-net header on the fd: writes may be GSO frames. */
  readonly vnet: boolean;
  /** TUN_F_* offloads the zone may hand over on reads (0: plain frames only). */
  readonly offload: number;
  /** Trains (`FrameBatch.joins`) are written with one writev: GSO frames need the header. */
  readonly gather: boolean;
  /** One readv per frame: a read asked for `max` frames stops there without an EAGAIN. */
  readonly boundedRecv = true;
  // iovec 0: virtio-net header (vnet only), iovec 1: the frame, then the slots continuing it
  private readonly iovMem = new Uint8Array((2 + MAX_JOINS) * IOVEC.size);
  private readonly iovWords = new Uint32Array(this.iovMem.buffer);
  private readonly iovAll: Deno.PointerValue = Deno.UnsafePointer.of(this.iovMem);
  private readonly iovFrame: Deno.PointerValue = Deno.UnsafePointer.of(
    this.iovMem.subarray(IOVEC.size),
  );
  private readonly hdr = new Uint8Array(VNET_HDR_LEN);
  private readonly hdrAddr = addressOf(this.hdr);
  private up = true;
  private closed = false;
  /** The device went away under us (deleted, or its namespace died): never read again. */
  private gone = false;

  private constructor(
    readonly name: string,
    readonly fd: number,
    readonly netns: string | null,
    ctl: IfCtl,
    vnet: boolean,
    offload: number,
  ) {
    this.vnet = vnet;
    this.offload = offload;
    this.gather = vnet;
    this.mac = ctl.mac(name);
    this.mtu = ctl.mtu(name);
  }

  /** Creates the TAP, sets MAC/MTU, places it in `netns`, brings it up. Cleans up on error. */
  static open(o: TapLinkOptions): TapLink {
    return TapLink.openQueues(o, 1)[0];
  }

  /**
   * Creates a multi-queue TAP with `queues` fds (one Link each, e.g. one per datapath Worker);
   * the kernel spreads the zone's transmit across them by flow hash. The device disappears when
   * the last of them is closed.
   */
  static openQueues(o: TapLinkOptions, queues: number): TapLink[] {
    const multiQueue = o.multiQueue || queues > 1;
    const vnetHdr = o.vnetHdr || o.offload !== undefined;
    const fds: number[] = [];
    const ctls: IfCtl[] = [];
    try {
      const first = openTap({ name: o.name, multiQueue, vnetHdr });
      fds.push(first.fd);
      const name = first.name;
      // further queues attach by name, so before the device leaves this namespace
      for (let i = 1; i < queues; i++) fds.push(openTap({ name, multiQueue, vnetHdr }).fd);
      if (o.offload !== undefined) {
        for (const fd of fds) {
          check(
            libc.ioctl_int(fd, BigInt(IF.TUNSETOFFLOAD), BigInt(o.offload)),
            "ioctl",
            "TUNSETOFFLOAD",
          );
        }
      }
      const here = new IfCtl();
      try {
        if (o.mac) here.setMac(name, o.mac);
        if (o.mtu) here.setMtu(name, o.mtu);
        if (o.netns) {
          dropStale(o.netns, name);
          const nsFd = openNetns(o.netns);
          const rt = new Rtnl();
          try {
            rt.moveToNetns(here.index(name), nsFd);
          } finally {
            rt.close();
            libc.close(nsFd);
          }
        }
      } finally {
        here.close();
      }
      // A socket opened in the zone pins its namespace: this one lives only for the setup.
      ctls.push(new IfCtl(o.netns ?? null));
      if (o.up !== false) ctls[0].setUp(name, true);
      const links = fds.map((fd) =>
        new TapLink(name, fd, o.netns ?? null, ctls[0], vnetHdr, o.offload ?? 0)
      );
      ctls[0].close();
      return links;
    } catch (e) {
      for (const c of ctls) c.close();
      for (const fd of fds) libc.close(fd); // a non-persistent TAP disappears with its last fd
      throw e;
    }
  }

  /**
   * Wraps queue `fd` of an existing multi-queue TAP `name` (in `netns`) that another owner
   * created with `openQueues`, e.g. a queue handed to a second datapath worker of this process;
   * `offload` as the device was opened with (undefined: no virtio-net headers).
   */
  static adopt(name: string, fd: number, netns: string | null, offload?: number): TapLink {
    const ctl = new IfCtl(netns);
    try {
      const link = new TapLink(name, fd, netns, ctl, offload !== undefined, offload ?? 0);
      link.refresh();
      return link;
    } finally {
      ctl.close();
    }
  }

  /**
   * The device is gone (EBADFD/ENODEV on read): marks the link down for good and swaps a quiet
   * socket in under the fd number, since the dead tun fd polls POLLERR forever and the
   * datapath's poll set still holds that number.
   */
  private lost(): void {
    this.gone = true;
    this.up = false;
    const quiet = libc.socket(C.AF_UNIX, C.SOCK_DGRAM | C.SOCK_CLOEXEC, 0);
    if (quiet < 0) return;
    libc.dup3(quiet, this.fd, C.O_CLOEXEC); // closes the dead tun fd atomically
    libc.close(quiet);
  }

  /** True once the device vanished from under the link (it stays down until re-created). */
  get lostDevice(): boolean {
    return this.gone;
  }

  // Points iovec `k` at `len` bytes from `addr` (a number address).
  private aim(k: number, addr: number, len: number): void {
    const w = (k * IOVEC.size) >> 2;
    putAddress(this.iovWords, w + (IOVEC.base >> 2), addr);
    this.iovWords[w + (IOVEC.len >> 2)] = len;
    this.iovWords[w + (IOVEC.len >> 2) + 1] = 0;
  }

  /** Reads frames until the device is empty, `max` frames were read or the batch is full. */
  recv(batch: FrameBatch, max = batch.capacity): number {
    if (this.closed || this.gone) return (batch.count = 0);
    const vh = batch.vnet;
    const want = Math.min(max, batch.capacity);
    let n = 0;
    while (n < want) {
      const buf = batch.bufs[n];
      const cap = buf.length - HEADROOM;
      this.aim(1, addressOf(buf) + HEADROOM, cap);
      let r: number;
      if (this.vnet) {
        this.aim(0, vh ? addressOf(vh) + n * VNET_HDR_LEN : this.hdrAddr, VNET_HDR_LEN);
        r = libc.readv(this.fd, this.iovAll, 2) - VNET_HDR_LEN;
      } else r = libc.readv(this.fd, this.iovFrame, 1);
      if (r < 0) {
        const e = errno();
        if (r !== -1 - VNET_HDR_LEN && r !== -1) this.stats.rxErrors++; // short read
        else if (e !== C.EAGAIN && e !== C.EINTR) {
          this.stats.rxErrors++;
          if (e === C.EBADFD || e === C.ENODEV) this.lost();
        }
        break;
      }
      if (r >= cap) {
        this.stats.rxErrors++; // tun truncates silently to the buffer: drop rather than pass
        continue;
      }
      if (this.vnet && !vh && resolveVnet(this.hdr, 0, buf, HEADROOM, r) === VnetVerdict.Drop) {
        this.stats.rxErrors++; // a GSO super-frame the consumer cannot carry
        continue;
      }
      batch.offs[n] = HEADROOM;
      batch.lens[n] = r;
      this.stats.rxFrames++;
      this.stats.rxBytes += r;
      n++;
    }
    batch.count = n;
    return n;
  }

  /**
   * Writes frames [0, count), each with its virtio-net header when the batch has them; a train
   * (frame and the slots continuing it) goes out as one frame. Returns the slots written.
   */
  send(batch: FrameBatch, count: number): number {
    let ok = 0;
    const vh = this.vnet ? batch.vnet : null, joins = this.gather ? batch.joins : null;
    for (let i = 0; i < count; i++) {
      if (vh) this.aim(0, addressOf(vh) + i * VNET_HDR_LEN, VNET_HDR_LEN);
      const j = joins === null ? 0 : joins[i];
      if (j === 0) {
        if (this.write(batch.bufs[i], batch.offs[i], batch.lens[i], vh !== null)) ok++;
        continue;
      }
      let len = 0;
      for (let s = 0; s <= j; s++) {
        const b = batch.bufs[i + s], l = batch.lens[i + s];
        this.aim(1 + s, addressOf(b) + batch.offs[i + s], l);
        len += l;
      }
      if (this.writeIov(1 + j, len, vh !== null)) ok += 1 + j;
      i += j;
    }
    return ok;
  }

  /** Writes one frame to the zone (a plain frame: zero virtio-net header). */
  sendFrame(buf: Uint8Array, off: number, len: number): boolean {
    return this.write(buf, off, len, false);
  }

  private write(buf: Uint8Array, off: number, len: number, haveHdr: boolean): boolean {
    this.aim(1, addressOf(buf) + off, len);
    return this.writeIov(1, len, haveHdr);
  }

  // Writes the `parts` iovecs from 1 on (`len` bytes in all) as one frame.
  private writeIov(parts: number, len: number, haveHdr: boolean): boolean {
    if (this.closed || this.gone) {
      this.stats.txDropped++;
      return false;
    }
    let r: number;
    if (this.vnet) {
      if (!haveHdr) {
        this.hdr.fill(0);
        this.aim(0, this.hdrAddr, VNET_HDR_LEN);
      }
      r = libc.writev(this.fd, this.iovAll, 1 + parts);
    } else r = libc.writev(this.fd, this.iovFrame, parts);
    if (r < 0) {
      const e = errno();
      if (e === C.EAGAIN || e === C.EIO || e === C.ENOBUFS) this.stats.txDropped++;
      else this.stats.txErrors++;
      return false;
    }
    this.stats.txFrames++;
    this.stats.txBytes += len;
    return true;
  }

  /** Re-reads IFF_UP|IFF_RUNNING of the interface in its namespace. */
  refresh(): boolean {
    if (this.gone) return false;
    // a short-lived socket: a kept one would pin the zone's namespace
    const ctl = new IfCtl(this.netns);
    try {
      const f = ctl.flags(this.name);
      this.up = f > 0 && (f & 0x41) === 0x41;
    } finally {
      ctl.close();
    }
    return this.up;
  }

  /** Operational state as of the last `refresh` (or link-monitor event). */
  isUp(): boolean {
    return this.up && !this.closed && !this.gone;
  }

  /** Records a state change seen by a link monitor. */
  setUp(up: boolean): void {
    this.up = up && !this.gone;
  }

  /** Closes the fd; the kernel removes the (non-persistent) device, wherever it lives. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    libc.close(this.fd);
  }
}

/**
 * Deletes a device named `name` left in namespace `netns` (a persistent TAP of a crashed run):
 * it would make the move fail with EEXIST, and the name is the port's by configuration.
 */
function dropStale(netns: string, name: string): void {
  const rt = new Rtnl(netns);
  try {
    const l = rt.link(name);
    if (l) rt.deleteLink(l.index);
  } finally {
    rt.close();
  }
}
