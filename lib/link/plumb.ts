// Interface plumbing by rtnetlink (the Linux counterpart of xde's DLPI plumbing): addresses,
// routes, link state and namespace moves, with everything this Plumber added undone by close().
import { parseAddrPrefix } from "../packet/addr.ts";
import { openNetns, withNetns } from "../../ffi/netns.ts";
import { libc, SysError } from "../../ffi/libc.ts";
import { type RouteSpec, Rtnl } from "../../ffi/netlink.ts";
import { readSysctl, writeSysctl } from "../../ffi/sysctl.ts";

/** An interface address or route destination: the address as given and its prefix length. */
export interface AddrPrefix {
  addr: Uint8Array;
  prefixLen: number;
}

/** Parses `fd00:1::1/64` or `10.0.0.1/24` (a bare address is a host prefix); throws when malformed. */
export function parseAddrPrefixText(s: string): AddrPrefix {
  const p = parseAddrPrefix(s.trim());
  if (p === null) {
    throw new Error(`"${s}" is not an address prefix (expected e.g. fd00:1::1/64 or 10.0.0.1/24)`);
  }
  return { addr: p.addr, prefixLen: p.cidr.len };
}

/** A route by names: destination prefix, device, optional gateway and metric. */
export interface RouteText {
  dst: string;
  dev: string;
  via?: string;
  metric?: number;
}

type Undo = () => void;

// Errors meaning "already gone" while undoing: ENOENT, ESRCH, ENODEV, EADDRNOTAVAIL.
const GONE = new Set([2, 3, 19, 99]);

/** Plumbs links of one namespace and remembers how to undo each change. */
export class Plumber {
  private sock: Rtnl | null;
  private readonly undo: Undo[] = [];

  constructor(readonly netns: string | null = null) {
    this.sock = new Rtnl(netns);
  }

  // Reopened on demand after park(): undoing happens long after the setup.
  private get rt(): Rtnl {
    return this.sock ??= new Rtnl(this.netns);
  }

  /** The rtnetlink socket (for queries such as `links()`/`addresses()`). */
  get rtnl(): Rtnl {
    return this.rt;
  }

  /**
   * Closes the socket until the next change or close(): a socket opened in a zone's namespace
   * keeps that namespace alive, so a zone deleted by its owner would live on.
   */
  park(): void {
    this.sock?.close();
    this.sock = null;
  }

  /** Index of a link in this namespace. */
  index(dev: string): number {
    return this.rt.indexOf(dev);
  }

  /** Sets a link up or down (not undone: the link's owner decides its final state). */
  setUp(dev: string, up: boolean): void {
    this.rt.setUp(this.index(dev), up);
  }

  /** Sets MTU and/or MAC. */
  setAttrs(dev: string, opts: { mtu?: number; mac?: Uint8Array }): void {
    this.rt.setAttrs(this.index(dev), opts);
  }

  /** Adds an address (IPv6 without DAD: the switch owns the segment); removed on close. */
  addAddress(dev: string, cidr: string): void {
    const { addr, prefixLen } = parseAddrPrefixText(cidr);
    const idx = this.index(dev);
    this.rt.addAddress(idx, addr, prefixLen);
    this.undo.push(() => this.rt.deleteAddress(this.index(dev), addr, prefixLen));
  }

  /** Removes an address now. */
  deleteAddress(dev: string, cidr: string): void {
    const { addr, prefixLen } = parseAddrPrefixText(cidr);
    this.rt.deleteAddress(this.index(dev), addr, prefixLen);
  }

  /** Adds (or replaces) a route; removed on close. */
  addRoute(r: RouteText): void {
    const spec = this.spec(r);
    this.rt.addRoute(spec);
    this.undo.push(() => this.rt.deleteRoute({ ...spec, oif: this.index(r.dev) }));
  }

  /** Removes a route now. */
  deleteRoute(r: RouteText): void {
    this.rt.deleteRoute(this.spec(r));
  }

  private spec(r: RouteText): RouteSpec {
    const { addr, prefixLen } = parseAddrPrefixText(r.dst);
    const gateway = r.via ? parseAddrPrefixText(r.via).addr : undefined;
    if (gateway && gateway.length !== addr.length) {
      throw new Error(`route ${r.dst} via ${r.via}: address families differ`);
    }
    return { dst: addr, prefixLen, oif: this.index(r.dev), gateway, metric: r.metric };
  }

  /** Moves a link of this namespace into namespace `netns` (by name). */
  moveLink(dev: string, netns: string): void {
    const fd = openNetns(netns);
    try {
      this.rt.moveToNetns(this.index(dev), fd);
    } finally {
      libc.close(fd);
    }
  }

  /**
   * Sets a sysctl of this namespace (`net.ipv6.conf.xde0.disable_ipv6` → "1"); the old value
   * is restored on close. /proc/sys/net shows the namespace of the thread that opens the file,
   * and FFI calls run on the JS thread, inside withNetns.
   */
  sysctl(key: string, value: string): void {
    const old = withNetns(this.netns, () => {
      const prev = readSysctl(key);
      writeSysctl(key, value);
      return prev;
    });
    // ENOENT while undoing (the interface is gone) is ignored by close().
    this.undo.push(() => withNetns(this.netns, () => writeSysctl(key, old)));
  }

  /** Undoes every address and route added here (newest first), then closes the socket. */
  close(): void {
    const errors: unknown[] = [];
    while (this.undo.length) {
      try {
        this.undo.pop()!();
      } catch (e) {
        if (!(e instanceof SysError && GONE.has(e.code))) errors.push(e);
      }
    }
    this.park();
    if (errors.length) throw new AggregateError(errors, "plumbing cleanup failed");
  }
}
