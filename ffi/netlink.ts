// rtnetlink over an AF_NETLINK socket: links, addresses, routes and link-state notifications,
// without shelling out to `ip`. Control path only: allocation is fine here.
import { C, IF, IFADDRMSG, IFINFOMSG, NL, NLMSGHDR, RTATTR, RTMSG, SOCKADDR_NL } from "./layout.ts";
import { check, errno, libc, SysError } from "./libc.ts";
import { withNetns } from "./netns.ts";

const BUF = 1 << 16;

/** One parsed netlink message: header fields plus its payload bytes. */
export interface NlMsg {
  type: number;
  flags: number;
  seq: number;
  body: Uint8Array;
}

/** A link as rtnetlink reports it. */
export interface LinkInfo {
  index: number;
  name: string;
  flags: number;
  mtu: number;
  mac: Uint8Array;
  operstate: number;
}

/** An address as rtnetlink reports it. */
export interface AddrInfo {
  index: number;
  family: number;
  prefixLen: number;
  scope: number;
  address: Uint8Array;
}

/** Builds one request: header, fixed family struct, then attributes (4-byte aligned). */
export class NlBuilder {
  readonly buf = new Uint8Array(4096);
  readonly dv = new DataView(this.buf.buffer);
  len = NLMSGHDR.size;

  constructor(type: number, flags: number, fixedLen: number) {
    this.dv.setUint16(NLMSGHDR.type, type, true);
    this.dv.setUint16(NLMSGHDR.flags, flags, true);
    this.len += fixedLen;
  }

  /** Offset of the fixed struct after the header. */
  get fixed(): number {
    return NLMSGHDR.size;
  }

  /** Appends an attribute with raw bytes. */
  attr(type: number, data: Uint8Array): this {
    const alen = RTATTR.size + data.length;
    this.dv.setUint16(this.len + RTATTR.len, alen, true);
    this.dv.setUint16(this.len + RTATTR.type, type, true);
    this.buf.set(data, this.len + RTATTR.size);
    this.len += (alen + 3) & ~3;
    return this;
  }

  /** Appends a u32 attribute (host order). */
  u32(type: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    return this.attr(type, b);
  }

  /** Finishes the header and returns the message bytes. */
  finish(seq: number): Uint8Array {
    this.dv.setUint32(NLMSGHDR.len, this.len, true);
    this.dv.setUint32(NLMSGHDR.seq, seq, true);
    return this.buf.subarray(0, this.len);
  }
}

/** Splits a receive buffer into netlink messages. */
export function parseMessages(buf: Uint8Array, n: number): NlMsg[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, n);
  const out: NlMsg[] = [];
  let off = 0;
  while (off + NLMSGHDR.size <= n) {
    const len = dv.getUint32(off + NLMSGHDR.len, true);
    if (len < NLMSGHDR.size || off + len > n) break;
    out.push({
      type: dv.getUint16(off + NLMSGHDR.type, true),
      flags: dv.getUint16(off + NLMSGHDR.flags, true),
      seq: dv.getUint32(off + NLMSGHDR.seq, true),
      body: buf.slice(off + NLMSGHDR.size, off + len),
    });
    off += (len + 3) & ~3;
  }
  return out;
}

/** Attributes after a fixed struct of `fixedLen` bytes: type → data. */
export function parseAttrs(body: Uint8Array, fixedLen: number): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>();
  const dv = new DataView(body.buffer, body.byteOffset, body.length);
  let off = (fixedLen + 3) & ~3;
  while (off + RTATTR.size <= body.length) {
    const len = dv.getUint16(off + RTATTR.len, true);
    if (len < RTATTR.size || off + len > body.length) break;
    m.set(
      dv.getUint16(off + RTATTR.type, true) & 0x3fff,
      body.subarray(off + RTATTR.size, off + len),
    );
    off += (len + 3) & ~3;
  }
  return m;
}

function readU32(b: Uint8Array | undefined): number {
  return b && b.length >= 4 ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) : 0;
}

/** An rtnetlink socket, optionally created inside a named network namespace. */
export class Rtnl {
  readonly fd: number;
  private seq = 1;
  private readonly rx = new Uint8Array(BUF);
  private closed = false;

  /** Opens a socket in `netns` (null: ours); `groups` subscribes to multicast (RTMGRP_*). */
  constructor(readonly netns: string | null = null, groups = 0) {
    const nonblock = groups ? C.SOCK_NONBLOCK : 0;
    this.fd = withNetns(netns, () =>
      check(
        libc.socket(C.AF_NETLINK, C.SOCK_RAW | C.SOCK_CLOEXEC | nonblock, NL.NETLINK_ROUTE),
        "socket",
        "AF_NETLINK",
      ));
    const sa = new Uint8Array(SOCKADDR_NL.size);
    const dv = new DataView(sa.buffer);
    dv.setUint16(SOCKADDR_NL.family, C.AF_NETLINK, true);
    dv.setUint32(SOCKADDR_NL.groups, groups, true);
    if (libc.bind(this.fd, sa, sa.length) < 0) {
      const e = errno();
      libc.close(this.fd);
      throw new SysError("bind", e, "AF_NETLINK");
    }
  }

  private sendMsg(b: NlBuilder): number {
    const seq = this.seq++;
    const msg = b.finish(seq);
    check(libc.send(this.fd, msg, BigInt(msg.length), 0), "send", "netlink");
    return seq;
  }

  /** Receives one datagram of messages (blocking for request sockets). */
  recvSome(): NlMsg[] {
    const n = libc.recv(this.fd, this.rx, BigInt(BUF), 0);
    if (n < 0) {
      const e = errno();
      if (e === C.EAGAIN || e === C.EINTR) return [];
      throw new SysError("recv", e, "netlink");
    }
    return parseMessages(this.rx, n);
  }

  /** Sends a request with NLM_F_ACK and waits for the kernel's answer; throws on error. */
  request(b: NlBuilder, what: string): void {
    b.dv.setUint16(NLMSGHDR.flags, b.dv.getUint16(NLMSGHDR.flags, true) | NL.NLM_F_ACK, true);
    const seq = this.sendMsg(b);
    for (;;) {
      for (const m of this.recvSome()) {
        if (m.seq !== seq || m.type !== NL.NLMSG_ERROR) continue;
        const code = new DataView(m.body.buffer, m.body.byteOffset).getInt32(0, true);
        if (code < 0) throw new SysError("rtnetlink", -code, what);
        return;
      }
    }
  }

  /** Sends a dump request and collects every reply message of the given type. */
  dump(b: NlBuilder, replyType: number): NlMsg[] {
    const seq = this.sendMsg(b);
    const out: NlMsg[] = [];
    for (;;) {
      for (const m of this.recvSome()) {
        if (m.seq !== seq) continue;
        if (m.type === NL.NLMSG_DONE) return out;
        if (m.type === NL.NLMSG_ERROR) {
          const code = new DataView(m.body.buffer, m.body.byteOffset).getInt32(0, true);
          if (code < 0) throw new SysError("rtnetlink dump", -code);
          return out;
        }
        if (m.type === replyType) out.push(m);
      }
    }
  }

  /** Every link of the namespace. */
  links(): LinkInfo[] {
    const b = new NlBuilder(NL.RTM_GETLINK, NL.NLM_F_REQUEST | NL.NLM_F_DUMP, IFINFOMSG.size);
    return this.dump(b, NL.RTM_NEWLINK).map((m) => parseLink(m.body));
  }

  /** The link named `name`, or null. */
  link(name: string): LinkInfo | null {
    return this.links().find((l) => l.name === name) ?? null;
  }

  /** The index of `name`; throws when there is no such link. */
  indexOf(name: string): number {
    const l = this.link(name);
    if (!l) throw new SysError("rtnetlink", C.ENODEV, `no link ${name}`);
    return l.index;
  }

  /** Sets a link administratively up or down. */
  setUp(index: number, up: boolean): void {
    const b = linkMsg(NL.RTM_NEWLINK, index);
    b.dv.setUint32(b.fixed + IFINFOMSG.flags, up ? IF.IFF_UP : 0, true);
    b.dv.setUint32(b.fixed + IFINFOMSG.change, IF.IFF_UP, true);
    this.request(b, `link ${index} ${up ? "up" : "down"}`);
  }

  /** Sets a link's MTU and/or MAC address. */
  setAttrs(index: number, opts: { mtu?: number; mac?: Uint8Array }): void {
    const b = linkMsg(NL.RTM_NEWLINK, index);
    if (opts.mtu !== undefined) b.u32(NL.IFLA_MTU, opts.mtu);
    if (opts.mac) b.attr(NL.IFLA_ADDRESS, opts.mac);
    this.request(b, `link ${index} attributes`);
  }

  /** Moves a link into the namespace whose fd is `nsFd`. */
  moveToNetns(index: number, nsFd: number): void {
    this.request(linkMsg(NL.RTM_NEWLINK, index).u32(NL.IFLA_NET_NS_FD, nsFd), `move ${index}`);
  }

  /** Deletes a link (veth, or a persistent device). */
  deleteLink(index: number): void {
    this.request(linkMsg(NL.RTM_DELLINK, index), `delete link ${index}`);
  }

  /** Adds (or replaces) an address; `nodad` skips IPv6 duplicate address detection. */
  addAddress(index: number, addr: Uint8Array, prefixLen: number, nodad = true): void {
    this.request(
      addrMsg(NL.RTM_NEWADDR, NL.NLM_F_CREATE | NL.NLM_F_REPLACE, index, addr, prefixLen, nodad),
      "add address",
    );
  }

  /** Removes an address. */
  deleteAddress(index: number, addr: Uint8Array, prefixLen: number): void {
    this.request(addrMsg(NL.RTM_DELADDR, 0, index, addr, prefixLen, false), "delete address");
  }

  /** Addresses of the namespace (optionally one link). */
  addresses(index = 0): AddrInfo[] {
    const b = new NlBuilder(NL.RTM_GETADDR, NL.NLM_F_REQUEST | NL.NLM_F_DUMP, IFADDRMSG.size);
    return this.dump(b, NL.RTM_NEWADDR).map((m) => {
      const a = parseAttrs(m.body, IFADDRMSG.size);
      const dv = new DataView(m.body.buffer, m.body.byteOffset);
      return {
        family: m.body[IFADDRMSG.family],
        prefixLen: m.body[IFADDRMSG.prefixlen],
        scope: m.body[IFADDRMSG.scope],
        index: dv.getUint32(IFADDRMSG.index, true),
        address: (a.get(NL.IFA_LOCAL) ?? a.get(NL.IFA_ADDRESS) ?? new Uint8Array()).slice(),
      };
    }).filter((x) => index === 0 || x.index === index);
  }

  /** Adds (or replaces) a route to dst/prefixLen out of `oif`, optionally via `gateway`. */
  addRoute(r: RouteSpec): void {
    this.request(routeMsg(NL.RTM_NEWROUTE, NL.NLM_F_CREATE | NL.NLM_F_REPLACE, r), "add route");
  }

  /** Removes a route added with the same spec. */
  deleteRoute(r: RouteSpec): void {
    this.request(routeMsg(NL.RTM_DELROUTE, 0, r), "delete route");
  }

  /** Closes the socket. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    libc.close(this.fd);
  }
}

/** A route: destination prefix (4 or 16 bytes), output link, optional gateway and metric. */
export interface RouteSpec {
  dst: Uint8Array;
  prefixLen: number;
  oif: number;
  gateway?: Uint8Array;
  metric?: number;
}

function linkMsg(type: number, index: number): NlBuilder {
  const b = new NlBuilder(type, NL.NLM_F_REQUEST, IFINFOMSG.size);
  b.dv.setInt32(b.fixed + IFINFOMSG.index, index, true);
  return b;
}

function addrMsg(
  type: number,
  flags: number,
  index: number,
  addr: Uint8Array,
  prefixLen: number,
  nodad: boolean,
): NlBuilder {
  const b = new NlBuilder(type, NL.NLM_F_REQUEST | flags, IFADDRMSG.size);
  b.buf[b.fixed + IFADDRMSG.family] = addr.length === 4 ? C.AF_INET : C.AF_INET6;
  b.buf[b.fixed + IFADDRMSG.prefixlen] = prefixLen;
  b.buf[b.fixed + IFADDRMSG.scope] =
    addr.length === 16 && addr[0] === 0xfe && (addr[1] & 0xc0) === 0x80
      ? NL.RT_SCOPE_LINK
      : NL.RT_SCOPE_UNIVERSE;
  b.dv.setUint32(b.fixed + IFADDRMSG.index, index, true);
  b.attr(NL.IFA_LOCAL, addr).attr(NL.IFA_ADDRESS, addr);
  if (nodad) b.u32(NL.IFA_FLAGS, NL.IFA_F_NODAD);
  return b;
}

function routeMsg(type: number, flags: number, r: RouteSpec): NlBuilder {
  const b = new NlBuilder(type, NL.NLM_F_REQUEST | flags, RTMSG.size);
  const f = b.fixed;
  b.buf[f + RTMSG.family] = r.dst.length === 4 ? C.AF_INET : C.AF_INET6;
  b.buf[f + RTMSG.dstLen] = r.prefixLen;
  b.buf[f + RTMSG.table] = NL.RT_TABLE_MAIN;
  b.buf[f + RTMSG.protocol] = NL.RTPROT_STATIC;
  b.buf[f + RTMSG.scope] = r.gateway ? NL.RT_SCOPE_UNIVERSE : NL.RT_SCOPE_LINK;
  b.buf[f + RTMSG.type] = NL.RTN_UNICAST;
  if (r.prefixLen > 0) b.attr(NL.RTA_DST, r.dst);
  b.u32(NL.RTA_OIF, r.oif);
  if (r.gateway) b.attr(NL.RTA_GATEWAY, r.gateway);
  if (r.metric !== undefined) b.u32(NL.RTA_PRIORITY, r.metric);
  return b;
}

/** Decodes an RTM_NEWLINK body (dump reply or notification). */
export function parseLink(body: Uint8Array): LinkInfo {
  const dv = new DataView(body.buffer, body.byteOffset, body.length);
  const a = parseAttrs(body, IFINFOMSG.size);
  const name = a.get(NL.IFLA_IFNAME);
  return {
    index: dv.getInt32(IFINFOMSG.index, true),
    flags: dv.getUint32(IFINFOMSG.flags, true),
    name: name
      ? new TextDecoder().decode(
        name.subarray(0, name.indexOf(0) >= 0 ? name.indexOf(0) : name.length),
      )
      : "",
    mtu: readU32(a.get(NL.IFLA_MTU)),
    mac: (a.get(NL.IFLA_ADDRESS) ?? new Uint8Array(6)).slice(),
    operstate: a.get(NL.IFLA_OPERSTATE)?.[0] ?? 0,
  };
}
