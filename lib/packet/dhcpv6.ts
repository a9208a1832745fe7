// DHCPv6 (RFC 8415) client/server messages: a view over the 4-byte header and the option
// framing, a Repr of the options the gateway hairpin and the decoder need, and emit.
// Relay messages (12, 13) have another header and are reported as unsupported.

import { BoundedView } from "./view.ts";
import { concatBytes, setU16, setU32, u16, u32 } from "./bytes.ts";
import { isParseError, type ParseError, parseError } from "./error.ts";
import { decodeDnsNames, encodeDnsNames } from "./dns_names.ts";

export const DHCPV6_CLIENT_PORT = 546;
export const DHCPV6_SERVER_PORT = 547;
/** Message type plus 24-bit transaction id. */
export const DHCPV6_HEADER_LEN = 4;

/** RFC 8415 message types. */
export const Dhcpv6MessageType = {
  SOLICIT: 1,
  ADVERTISE: 2,
  REQUEST: 3,
  CONFIRM: 4,
  RENEW: 5,
  REBIND: 6,
  REPLY: 7,
  RELEASE: 8,
  DECLINE: 9,
  RECONFIGURE: 10,
  INFORMATION_REQUEST: 11,
  RELAY_FORW: 12,
  RELAY_REPL: 13,
} as const;

export const OPT6_CLIENTID = 1;
export const OPT6_SERVERID = 2;
export const OPT6_IA_NA = 3;
export const OPT6_IAADDR = 5;
export const OPT6_ORO = 6;
export const OPT6_PREFERENCE = 7;
export const OPT6_ELAPSED_TIME = 8;
export const OPT6_STATUS_CODE = 13;
export const OPT6_RAPID_COMMIT = 14;
export const OPT6_DNS_SERVERS = 23;
export const OPT6_DOMAIN_LIST = 24;

/** A read/write view of a DHCPv6 message at `off`; validated by `parseDhcpv6`. */
export class Dhcpv6View extends BoundedView {
  get msgType(): number {
    return this.buf[this.off];
  }
  set msgType(v: number) {
    this.buf[this.off] = v;
  }
  get transactionId(): number {
    return (this.buf[this.off + 1] << 16) | u16(this.buf, this.off + 2);
  }
  set transactionId(v: number) {
    this.buf[this.off + 1] = v >>> 16;
    setU16(this.buf, this.off + 2, v);
  }
  /** Offset of the first top-level option. */
  get optionsOff(): number {
    return this.off + DHCPV6_HEADER_LEN;
  }
  /** Offset of the data of the first top-level option `code`, or -1; its length is u16 at at-2. */
  findOption(code: number): number {
    const b = this.buf;
    for (let i = this.off + DHCPV6_HEADER_LEN; i + 4 <= this.end; i += 4 + u16(b, i + 2)) {
      if (u16(b, i) === code) return i + 4;
    }
    return -1;
  }
}

/** Checks option framing within [from, end): offset of the first overrunning option, or -1. */
function framed(b: Uint8Array, from: number, end: number): number {
  let i = from;
  while (i < end) {
    if (i + 4 > end || i + 4 + u16(b, i + 2) > end) return i;
    i += 4 + u16(b, i + 2);
  }
  return -1;
}

/** Checks the header and top-level option framing once, allocating nothing. Never throws. */
export function checkDhcpv6(buf: Uint8Array, off: number, end: number): ParseError | null {
  if (end > buf.length || end - off < DHCPV6_HEADER_LEN) {
    return parseError("truncated", "dhcpv6", off);
  }
  const t = buf[off];
  if (t === 0) return parseError("malformed", "dhcpv6", off);
  if (t === Dhcpv6MessageType.RELAY_FORW || t === Dhcpv6MessageType.RELAY_REPL || t > 13) {
    return parseError("unsupported", "dhcpv6", off);
  }
  const bad = framed(buf, off + DHCPV6_HEADER_LEN, end);
  if (bad >= 0) return parseError("truncated", "dhcpv6.options", bad);
  return null;
}

/** Validates once (see checkDhcpv6) and returns a fresh view. */
export function parseDhcpv6(buf: Uint8Array, off: number, end: number): Dhcpv6View | ParseError {
  return checkDhcpv6(buf, off, end) ?? new Dhcpv6View(buf, off, end);
}

/** A status code option (13). */
export interface Dhcpv6Status {
  code: number;
  message: string;
}

/** An IA Address option (5) inside an IA_NA. */
export interface Dhcpv6IaAddr {
  addr: Uint8Array;
  preferredLifetime: number;
  validLifetime: number;
  status?: Dhcpv6Status;
}

/** An IA_NA option (3) with its nested addresses. */
export interface Dhcpv6IaNa {
  iaid: number;
  t1: number;
  t2: number;
  addresses: Dhcpv6IaAddr[];
  status?: Dhcpv6Status;
}

/** A DHCPv6 message as plain values; absent options are undefined. */
export interface Dhcpv6Repr {
  msgType: number;
  transactionId: number;
  /** DUIDs are kept as bytes; see `duidLl` / `duidMac`. */
  clientId?: Uint8Array;
  serverId?: Uint8Array;
  iaNa?: Dhcpv6IaNa[];
  oro?: number[];
  preference?: number;
  /** Hundredths of a second. */
  elapsedTime?: number;
  status?: Dhcpv6Status;
  rapidCommit?: boolean;
  dnsServers?: Uint8Array[];
  domainList?: string[];
  /** Options not named above, in order of appearance. */
  other?: { code: number; data: Uint8Array }[];
}

const utf8 = new TextDecoder();
const utf8enc = new TextEncoder();

function parseStatus(d: Uint8Array): Dhcpv6Status | null {
  if (d.length < 2) return null;
  return { code: u16(d, 0), message: utf8.decode(d.subarray(2)) };
}

/** Walks the options in d[from, d.length), calling `each` with (code, body, offset); stops on error. */
function walk(
  d: Uint8Array,
  from: number,
  at: number,
  each: (code: number, body: Uint8Array, at: number) => ParseError | null,
): ParseError | null {
  const bad = framed(d, from, d.length);
  if (bad >= 0) return parseError("truncated", "dhcpv6.options", at + bad);
  for (let i = from; i < d.length; i += 4 + u16(d, i + 2)) {
    const err = each(u16(d, i), d.subarray(i + 4, i + 4 + u16(d, i + 2)), at + i);
    if (err) return err;
  }
  return null;
}

function parseIaAddr(d: Uint8Array, at: number): Dhcpv6IaAddr | ParseError {
  if (d.length < 24) return parseError("malformed", "dhcpv6.iaaddr", at);
  const a: Dhcpv6IaAddr = {
    addr: d.slice(0, 16),
    preferredLifetime: u32(d, 16),
    validLifetime: u32(d, 20),
  };
  const err = walk(d, 24, at, (code, body, o) => {
    if (code !== OPT6_STATUS_CODE) return null;
    const s = parseStatus(body);
    if (!s) return parseError("malformed", "dhcpv6.status", o);
    a.status = s;
    return null;
  });
  return err ?? a;
}

function parseIaNa(d: Uint8Array, at: number): Dhcpv6IaNa | ParseError {
  if (d.length < 12) return parseError("malformed", "dhcpv6.ia_na", at);
  const ia: Dhcpv6IaNa = { iaid: u32(d, 0), t1: u32(d, 4), t2: u32(d, 8), addresses: [] };
  const err = walk(d, 12, at, (code, body, o) => {
    if (code === OPT6_IAADDR) {
      const a = parseIaAddr(body, o + 4);
      if (isParseError(a)) return a;
      ia.addresses.push(a);
    } else if (code === OPT6_STATUS_CODE) {
      const s = parseStatus(body);
      if (!s) return parseError("malformed", "dhcpv6.status", o);
      ia.status = s;
    }
    return null;
  });
  return err ?? ia;
}

/** Decodes every option of a validated message; a bad option body is a ParseError. */
export function dhcpv6ReprParse(v: Dhcpv6View): Dhcpv6Repr | ParseError {
  const r: Dhcpv6Repr = { msgType: v.msgType, transactionId: v.transactionId };
  const d = v.buf.subarray(v.off, v.end);
  const err = walk(d, DHCPV6_HEADER_LEN, v.off, (code, body, at) => {
    const bad = () => parseError("malformed", `dhcpv6.option${code}`, at);
    switch (code) {
      case OPT6_CLIENTID:
      case OPT6_SERVERID:
        if (body.length < 2) return bad();
        if (code === OPT6_CLIENTID) r.clientId = body.slice();
        else r.serverId = body.slice();
        return null;
      case OPT6_IA_NA: {
        const ia = parseIaNa(body, at + 4);
        if (isParseError(ia)) return ia;
        (r.iaNa ??= []).push(ia);
        return null;
      }
      case OPT6_ORO:
        if (body.length % 2 !== 0) return bad();
        r.oro = [];
        for (let k = 0; k < body.length; k += 2) r.oro.push(u16(body, k));
        return null;
      case OPT6_PREFERENCE:
        if (body.length !== 1) return bad();
        r.preference = body[0];
        return null;
      case OPT6_ELAPSED_TIME:
        if (body.length !== 2) return bad();
        r.elapsedTime = u16(body, 0);
        return null;
      case OPT6_STATUS_CODE: {
        const s = parseStatus(body);
        if (!s) return bad();
        r.status = s;
        return null;
      }
      case OPT6_RAPID_COMMIT:
        if (body.length !== 0) return bad();
        r.rapidCommit = true;
        return null;
      case OPT6_DNS_SERVERS:
        if (body.length % 16 !== 0) return bad();
        r.dnsServers = [];
        for (let k = 0; k < body.length; k += 16) r.dnsServers.push(body.slice(k, k + 16));
        return null;
      case OPT6_DOMAIN_LIST: {
        // RFC 8415 §10: names in this option are never compressed.
        const names = decodeDnsNames(body, false);
        if (!Array.isArray(names)) return parseError(names.kind, "dhcpv6.option24", at);
        r.domainList = names;
        return null;
      }
      default:
        (r.other ??= []).push({ code, data: body.slice() });
        return null;
    }
  });
  return err ?? r;
}

/** DUID-LL (type 3) for an Ethernet MAC: stable, which is what a switch-side server wants. */
export function duidLl(mac: Uint8Array): Uint8Array {
  const d = new Uint8Array(4 + mac.length);
  setU16(d, 0, 3);
  setU16(d, 2, 1);
  d.set(mac, 4);
  return d;
}

/** The Ethernet MAC inside a DUID-LL or DUID-LLT, or null for any other DUID. */
export function duidMac(duid: Uint8Array): Uint8Array | null {
  if (duid.length < 4 || u16(duid, 2) !== 1) return null;
  const type = u16(duid, 0);
  if (type === 3 && duid.length === 10) return duid.slice(4);
  if (type === 1 && duid.length === 14) return duid.slice(8);
  return null;
}

type Opt = [number, Uint8Array];

function opt(code: number, body: Uint8Array): Uint8Array {
  if (body.length > 0xffff) throw new RangeError(`DHCPv6 option ${code} is too long`);
  const o = new Uint8Array(4 + body.length);
  setU16(o, 0, code);
  setU16(o, 2, body.length);
  o.set(body, 4);
  return o;
}

function statusBody(s: Dhcpv6Status): Uint8Array {
  const m = utf8enc.encode(s.message);
  const b = new Uint8Array(2 + m.length);
  setU16(b, 0, s.code);
  b.set(m, 2);
  return b;
}

function iaNaBody(ia: Dhcpv6IaNa): Uint8Array {
  const head = new Uint8Array(12);
  setU32(head, 0, ia.iaid);
  setU32(head, 4, ia.t1);
  setU32(head, 8, ia.t2);
  const parts: Uint8Array[] = [head];
  for (const a of ia.addresses) {
    const h = new Uint8Array(24);
    h.set(a.addr, 0);
    setU32(h, 16, a.preferredLifetime);
    setU32(h, 20, a.validLifetime);
    const inner = a.status ? [h, opt(OPT6_STATUS_CODE, statusBody(a.status))] : [h];
    parts.push(opt(OPT6_IAADDR, concatBytes(inner)));
  }
  if (ia.status) parts.push(opt(OPT6_STATUS_CODE, statusBody(ia.status)));
  return concatBytes(parts);
}

function optionList(r: Dhcpv6Repr): Opt[] {
  const o: Opt[] = [];
  if (r.clientId) o.push([OPT6_CLIENTID, r.clientId]);
  if (r.serverId) o.push([OPT6_SERVERID, r.serverId]);
  for (const ia of r.iaNa ?? []) o.push([OPT6_IA_NA, iaNaBody(ia)]);
  if (r.status) o.push([OPT6_STATUS_CODE, statusBody(r.status)]);
  if (r.preference !== undefined) o.push([OPT6_PREFERENCE, Uint8Array.of(r.preference)]);
  if (r.rapidCommit) o.push([OPT6_RAPID_COMMIT, new Uint8Array(0)]);
  if (r.elapsedTime !== undefined) {
    o.push([OPT6_ELAPSED_TIME, Uint8Array.of(r.elapsedTime >> 8, r.elapsedTime & 0xff)]);
  }
  if (r.oro) {
    const b = new Uint8Array(2 * r.oro.length);
    r.oro.forEach((c, k) => setU16(b, 2 * k, c));
    o.push([OPT6_ORO, b]);
  }
  if (r.dnsServers) o.push([OPT6_DNS_SERVERS, concatBytes(r.dnsServers)]);
  if (r.domainList) o.push([OPT6_DOMAIN_LIST, encodeDnsNames(r.domainList)]);
  for (const x of r.other ?? []) o.push([x.code, x.data]);
  return o;
}

/** Emits `r` as a fresh UDP payload. Throws RangeError on an invalid Repr. */
export function emitDhcpv6(r: Dhcpv6Repr): Uint8Array {
  const head = new Uint8Array(DHCPV6_HEADER_LEN);
  head[0] = r.msgType;
  head[1] = r.transactionId >>> 16;
  setU16(head, 2, r.transactionId);
  return concatBytes([head, ...optionList(r).map(([c, b]) => opt(c, b))]);
}

/** Length of `emitDhcpv6(r)`. */
export function dhcpv6BufferLen(r: Dhcpv6Repr): number {
  return optionList(r).reduce((n, [, b]) => n + 4 + b.length, DHCPV6_HEADER_LEN);
}

/** Writes `r` at `off` in `buf`; returns the length. */
export function emitDhcpv6Into(r: Dhcpv6Repr, buf: Uint8Array, off: number): number {
  const b = emitDhcpv6(r);
  buf.set(b, off);
  return b.length;
}
