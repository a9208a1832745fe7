// DHCPv4 (RFC 2131/2132): a view over the fixed BOOTP header, a Repr of the options the
// gateway hairpin and the decoder need, and emit. Options in sname/file (overload, 52) are not
// read: xdeno's server never sets it and its clients do not need it.

import { BoundedView } from "./view.ts";
import { concatBytes, setU16, setU32, u16, u32 } from "./bytes.ts";
import { type ParseError, parseError } from "./error.ts";
import { encodeDnsNames } from "./dns_names.ts";

const OP = 0, HTYPE = 1, HLEN = 2, HOPS = 3, XID = 4, SECS = 8, FLAGS = 10;
const CIADDR = 12, YIADDR = 16, SIADDR = 20, GIADDR = 24, CHADDR = 28, COOKIE = 236;
/** Fixed header plus magic cookie: where the options start. */
export const DHCP_FIXED_LEN = 240;
/** RFC 1542's minimum BOOTP message size; emit pads up to it for old clients. */
export const DHCP_MIN_LEN = 300;
/** The magic cookie 99.130.83.99. */
export const DHCP_MAGIC = 0x63825363;
export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
/** The broadcast bit of the flags field. */
export const DHCP_FLAG_BROADCAST = 0x8000;

/** DHCP message types (option 53). */
export const DhcpMessageType = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;

export const OPT_PAD = 0;
export const OPT_SUBNET_MASK = 1;
export const OPT_ROUTER = 3;
export const OPT_DNS = 6;
export const OPT_HOSTNAME = 12;
export const OPT_DOMAIN_NAME = 15;
export const OPT_MTU = 26;
export const OPT_REQUESTED_IP = 50;
export const OPT_LEASE_TIME = 51;
export const OPT_MESSAGE_TYPE = 53;
export const OPT_SERVER_ID = 54;
export const OPT_PARAM_REQUEST = 55;
export const OPT_T1 = 58;
export const OPT_T2 = 59;
export const OPT_CLIENT_ID = 61;
export const OPT_DOMAIN_SEARCH = 119;
export const OPT_CLASSLESS_ROUTES = 121;
export const OPT_END = 255;

/** A read/write view of a DHCPv4 message at `off`; validated by `parseDhcp`. */
export class DhcpView extends BoundedView {
  get op(): number {
    return this.buf[this.off + OP];
  }
  set op(v: number) {
    this.buf[this.off + OP] = v;
  }
  get htype(): number {
    return this.buf[this.off + HTYPE];
  }
  get hlen(): number {
    return this.buf[this.off + HLEN];
  }
  get hops(): number {
    return this.buf[this.off + HOPS];
  }
  get xid(): number {
    return u32(this.buf, this.off + XID);
  }
  set xid(v: number) {
    setU32(this.buf, this.off + XID, v);
  }
  get secs(): number {
    return u16(this.buf, this.off + SECS);
  }
  get flags(): number {
    return u16(this.buf, this.off + FLAGS);
  }
  /** Offsets of the four address fields and chaddr, for zero-copy reads. */
  get ciaddrOff(): number {
    return this.off + CIADDR;
  }
  get yiaddrOff(): number {
    return this.off + YIADDR;
  }
  get siaddrOff(): number {
    return this.off + SIADDR;
  }
  get giaddrOff(): number {
    return this.off + GIADDR;
  }
  get chaddrOff(): number {
    return this.off + CHADDR;
  }
  /** Offset of the first option. */
  get optionsOff(): number {
    return this.off + DHCP_FIXED_LEN;
  }

  /** Offset of the data of the first instance of option `code`, or -1; its length is buf[at-1]. */
  findOption(code: number): number {
    const b = this.buf;
    let i = this.off + DHCP_FIXED_LEN;
    while (i < this.end) {
      const c = b[i];
      if (c === OPT_PAD) {
        i++;
        continue;
      }
      if (c === OPT_END) return -1;
      if (c === code) return i + 2;
      i += 2 + b[i + 1];
    }
    return -1;
  }

  /** The message type (option 53), or -1 when absent or of the wrong length. */
  get messageType(): number {
    const at = this.findOption(OPT_MESSAGE_TYPE);
    return at < 0 || this.buf[at - 1] !== 1 ? -1 : this.buf[at];
  }
}

/**
 * Checks header, cookie and option framing of [off, end) once, allocating nothing; afterwards a
 * DhcpView re-pointed there stays in bounds. Never throws.
 */
export function checkDhcp(buf: Uint8Array, off: number, end: number): ParseError | null {
  if (end > buf.length || end - off < DHCP_FIXED_LEN) return parseError("truncated", "dhcp", off);
  if (u32(buf, off + COOKIE) !== DHCP_MAGIC) return parseError("malformed", "dhcp", off + COOKIE);
  if (buf[off + HLEN] > 16) return parseError("malformed", "dhcp", off + HLEN);
  let i = off + DHCP_FIXED_LEN;
  for (;;) {
    if (i >= end) return parseError("malformed", "dhcp.options", i); // no END option
    const c = buf[i];
    if (c === OPT_END) break;
    if (c === OPT_PAD) {
      i++;
      continue;
    }
    if (i + 2 > end || i + 2 + buf[i + 1] > end) return parseError("truncated", "dhcp.options", i);
    i += 2 + buf[i + 1];
  }
  return null;
}

/** Validates once (see checkDhcp) and returns a fresh view. */
export function parseDhcp(buf: Uint8Array, off: number, end: number): DhcpView | ParseError {
  return checkDhcp(buf, off, end) ?? new DhcpView(buf, off, end);
}

/** One RFC 3442 classless static route. */
export interface ClasslessRoute {
  /** Destination network (4 bytes, host bits zero). */
  dest: Uint8Array;
  prefixLen: number;
  router: Uint8Array;
}

/** A DHCPv4 message as plain values. Addresses are 4-byte arrays; absent options are undefined. */
export interface DhcpRepr {
  op: number;
  htype?: number;
  hops?: number;
  xid: number;
  secs?: number;
  flags?: number;
  ciaddr?: Uint8Array;
  yiaddr?: Uint8Array;
  siaddr?: Uint8Array;
  giaddr?: Uint8Array;
  /** Client hardware address, `hlen` bytes (a MAC for Ethernet). */
  chaddr: Uint8Array;
  messageType?: number;
  subnetMask?: Uint8Array;
  routers?: Uint8Array[];
  dnsServers?: Uint8Array[];
  hostname?: string;
  domainName?: string;
  domainSearch?: string[];
  classlessRoutes?: ClasslessRoute[];
  leaseTime?: number;
  serverId?: Uint8Array;
  requestedIp?: Uint8Array;
  parameterRequestList?: number[];
  clientId?: Uint8Array;
  renewalTime?: number;
  rebindingTime?: number;
  mtu?: number;
  /** Options not named above, in order of appearance. */
  other?: { code: number; data: Uint8Array }[];
}

const ZERO4 = new Uint8Array(4);

function encodeClasslessRoutes(routes: ClasslessRoute[]): Uint8Array {
  const parts: number[] = [];
  for (const r of routes) {
    if (r.prefixLen < 0 || r.prefixLen > 32) throw new RangeError("prefix length must be 0..32");
    parts.push(r.prefixLen, ...r.dest.subarray(0, (r.prefixLen + 7) >> 3), ...r.router);
  }
  return Uint8Array.from(parts);
}

function u32Bytes(v: number): Uint8Array {
  const d = new Uint8Array(4);
  setU32(d, 0, v);
  return d;
}

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/** The options of `r` as (code, body) pairs in emit order: message type and server id first. */
function optionList(r: DhcpRepr): [number, Uint8Array][] {
  const o: [number, Uint8Array][] = [];
  if (r.messageType !== undefined) o.push([OPT_MESSAGE_TYPE, Uint8Array.of(r.messageType)]);
  if (r.serverId) o.push([OPT_SERVER_ID, r.serverId]);
  if (r.requestedIp) o.push([OPT_REQUESTED_IP, r.requestedIp]);
  if (r.leaseTime !== undefined) o.push([OPT_LEASE_TIME, u32Bytes(r.leaseTime)]);
  if (r.renewalTime !== undefined) o.push([OPT_T1, u32Bytes(r.renewalTime)]);
  if (r.rebindingTime !== undefined) o.push([OPT_T2, u32Bytes(r.rebindingTime)]);
  if (r.subnetMask) o.push([OPT_SUBNET_MASK, r.subnetMask]);
  if (r.routers) o.push([OPT_ROUTER, concatBytes(r.routers)]);
  if (r.dnsServers) o.push([OPT_DNS, concatBytes(r.dnsServers)]);
  if (r.hostname !== undefined) o.push([OPT_HOSTNAME, ascii(r.hostname)]);
  if (r.domainName !== undefined) o.push([OPT_DOMAIN_NAME, ascii(r.domainName)]);
  if (r.mtu !== undefined) o.push([OPT_MTU, Uint8Array.of(r.mtu >> 8, r.mtu & 0xff)]);
  if (r.domainSearch) o.push([OPT_DOMAIN_SEARCH, encodeDnsNames(r.domainSearch)]);
  if (r.classlessRoutes) {
    o.push([OPT_CLASSLESS_ROUTES, encodeClasslessRoutes(r.classlessRoutes)]);
  }
  if (r.parameterRequestList) o.push([OPT_PARAM_REQUEST, Uint8Array.from(r.parameterRequestList)]);
  if (r.clientId) o.push([OPT_CLIENT_ID, r.clientId]);
  for (const x of r.other ?? []) o.push([x.code, x.data]);
  return o;
}

/** Bytes one option takes, split into 255-byte pieces per RFC 3396. */
function optionLen(body: Uint8Array): number {
  return body.length + 2 * Math.max(1, Math.ceil(body.length / 255));
}

/** Length of the message `emitDhcpInto` writes for `r` (padded to DHCP_MIN_LEN). */
export function dhcpBufferLen(r: DhcpRepr): number {
  let n = DHCP_FIXED_LEN + 1;
  for (const [, body] of optionList(r)) n += optionLen(body);
  return Math.max(n, DHCP_MIN_LEN);
}

/** Writes `r` at `off` (sname/file zeroed); returns the length. Throws RangeError on an invalid Repr. */
export function emitDhcpInto(r: DhcpRepr, buf: Uint8Array, off: number): number {
  if (r.chaddr.length > 16) throw new RangeError("chaddr is longer than 16 bytes");
  const opts = optionList(r);
  let len = DHCP_FIXED_LEN + 1;
  for (const [, body] of opts) len += optionLen(body);
  len = Math.max(len, DHCP_MIN_LEN);
  buf.fill(0, off, off + len);
  buf[off + OP] = r.op;
  buf[off + HTYPE] = r.htype ?? 1;
  buf[off + HLEN] = r.chaddr.length;
  buf[off + HOPS] = r.hops ?? 0;
  setU32(buf, off + XID, r.xid);
  setU16(buf, off + SECS, r.secs ?? 0);
  setU16(buf, off + FLAGS, r.flags ?? 0);
  buf.set(r.ciaddr ?? ZERO4, off + CIADDR);
  buf.set(r.yiaddr ?? ZERO4, off + YIADDR);
  buf.set(r.siaddr ?? ZERO4, off + SIADDR);
  buf.set(r.giaddr ?? ZERO4, off + GIADDR);
  buf.set(r.chaddr, off + CHADDR);
  setU32(buf, off + COOKIE, DHCP_MAGIC);
  let i = off + DHCP_FIXED_LEN;
  for (const [code, body] of opts) {
    let k = 0;
    do {
      const n = Math.min(255, body.length - k);
      buf[i] = code;
      buf[i + 1] = n;
      buf.set(body.subarray(k, k + n), i + 2);
      i += 2 + n;
      k += n;
    } while (k < body.length);
  }
  buf[i] = OPT_END;
  return len;
}

/** Emits `r` as a fresh UDP payload. */
export function emitDhcp(r: DhcpRepr): Uint8Array {
  const out = new Uint8Array(dhcpBufferLen(r));
  emitDhcpInto(r, out, 0);
  return out;
}
