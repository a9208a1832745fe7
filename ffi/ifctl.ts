// Interface ioctls (SIOC*IF*) and TUN/TAP creation. The ioctl request is an unsigned long, so it
// is passed as a bigint (control path only).
import { C, IF, IFREQ } from "./layout.ts";
import { check, cstr, errno, libc, SysError } from "./libc.ts";
import { withNetns } from "./netns.ts";

/** A struct ifreq naming `name`, with a DataView for the union. */
export function ifreq(name: string): { b: Uint8Array; dv: DataView } {
  const b = new Uint8Array(IFREQ.size);
  const n = cstr(name);
  if (n.length > IF.IFNAMSIZ) throw new SysError("ifreq", 36, `name too long: ${name}`);
  b.set(n, IFREQ.name);
  return { b, dv: new DataView(b.buffer) };
}

/** An AF_INET datagram socket used only as an ioctl handle, created inside `netns`. */
export class IfCtl {
  readonly fd: number;
  private closed = false;

  constructor(readonly netns: string | null = null) {
    this.fd = withNetns(
      netns,
      () => check(libc.socket(C.AF_INET, C.SOCK_DGRAM | C.SOCK_CLOEXEC, 0), "socket", "AF_INET"),
    );
  }

  private ioctl(req: number, r: { b: Uint8Array }, what: string): void {
    check(libc.ioctl(this.fd, BigInt(req), r.b), "ioctl", what);
  }

  /** Interface flags (IFF_UP, IFF_RUNNING, …); -errno when the interface is gone. */
  flags(name: string): number {
    const r = ifreq(name);
    if (libc.ioctl(this.fd, BigInt(IF.SIOCGIFFLAGS), r.b) < 0) return -errno();
    return r.dv.getUint16(IFREQ.flags, true);
  }

  /** Sets or clears IFF_UP. */
  setUp(name: string, up: boolean): void {
    const f = this.flags(name);
    if (f < 0) throw new SysError("ioctl", -f, `SIOCGIFFLAGS ${name}`);
    const r = ifreq(name);
    r.dv.setUint16(IFREQ.flags, up ? f | IF.IFF_UP : f & ~IF.IFF_UP, true);
    this.ioctl(IF.SIOCSIFFLAGS, r, `SIOCSIFFLAGS ${name}`);
  }

  /** The interface MTU. */
  mtu(name: string): number {
    const r = ifreq(name);
    this.ioctl(IF.SIOCGIFMTU, r, `SIOCGIFMTU ${name}`);
    return r.dv.getInt32(IFREQ.mtu, true);
  }

  /** Sets the interface MTU. */
  setMtu(name: string, mtu: number): void {
    const r = ifreq(name);
    r.dv.setInt32(IFREQ.mtu, mtu, true);
    this.ioctl(IF.SIOCSIFMTU, r, `SIOCSIFMTU ${name}`);
  }

  /** The interface's Ethernet address. */
  mac(name: string): Uint8Array {
    const r = ifreq(name);
    this.ioctl(IF.SIOCGIFHWADDR, r, `SIOCGIFHWADDR ${name}`);
    return r.b.slice(IFREQ.hwaddr + 2, IFREQ.hwaddr + 8);
  }

  /** Sets the interface's Ethernet address. */
  setMac(name: string, mac: Uint8Array): void {
    const r = ifreq(name);
    r.dv.setUint16(IFREQ.hwaddr, IF.ARPHRD_ETHER, true);
    r.b.set(mac.subarray(0, 6), IFREQ.hwaddr + 2);
    this.ioctl(IF.SIOCSIFHWADDR, r, `SIOCSIFHWADDR ${name}`);
  }

  /** The interface index. */
  index(name: string): number {
    const r = ifreq(name);
    this.ioctl(IF.SIOCGIFINDEX, r, `SIOCGIFINDEX ${name}`);
    return r.dv.getInt32(IFREQ.ifindex, true);
  }

  /** Closes the handle. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    libc.close(this.fd);
  }
}

/** TAP creation options. */
export interface TapOpenOptions {
  /** Requested name ("" or a pattern like "xtap%d" lets the kernel choose). */
  name: string;
  multiQueue?: boolean;
  vnetHdr?: boolean;
}

/** Creates (or attaches to) a TAP device; returns a non-blocking fd and the kernel's name. */
export function openTap(o: TapOpenOptions): { fd: number; name: string } {
  const r = ifreq(o.name); // validates the name before there is an fd to leak
  const fd = check(
    libc.open(cstr("/dev/net/tun"), C.O_RDWR | C.O_NONBLOCK | C.O_CLOEXEC, 0),
    "open",
    "/dev/net/tun",
  );
  let flags = IF.IFF_TAP | IF.IFF_NO_PI;
  if (o.multiQueue) flags |= IF.IFF_MULTI_QUEUE;
  if (o.vnetHdr) flags |= IF.IFF_VNET_HDR;
  r.dv.setUint16(IFREQ.flags, flags, true);
  if (libc.ioctl(fd, BigInt(IF.TUNSETIFF), r.b) < 0) {
    const e = errno();
    libc.close(fd);
    throw new SysError("ioctl", e, `TUNSETIFF ${o.name}`);
  }
  const end = r.b.indexOf(0);
  return { fd, name: new TextDecoder().decode(r.b.subarray(0, end < 0 ? IF.IFNAMSIZ : end)) };
}
