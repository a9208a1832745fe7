// Finds the length-like fields of a valid frame: IP lengths, header-length nibbles, extension
// header lengths, UDP length, Geneve option lengths, DHCP/DHCPv6/NDP option lengths, DNS label
// lengths, and the same inside ICMP-quoted datagrams. The mutator bends exactly these bytes,
// because an off-by-one in a length is what walks a parser off the end of a buffer.

import { u16 } from "../../lib/packet/bytes.ts";
import { HeaderLevel, PacketMeta } from "../../lib/packet/meta.ts";
import { parseFrame, parseIpLevel } from "../../lib/packet/parse.ts";
import { EXT_AH, EXT_FRAGMENT, isIpv6Extension } from "../../lib/packet/ipv6.ts";
import { PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from "../../lib/packet/checksum.ts";
import { isIcmpv4Error } from "../../lib/packet/icmpv4.ts";
import { icmpv6HeaderLen, isIcmpv6Error, isNdp } from "../../lib/packet/icmpv6.ts";
import { DHCP_FIXED_LEN, OPT_DOMAIN_SEARCH, OPT_END, OPT_PAD } from "../../lib/packet/dhcp.ts";
import { ETHERTYPE_ARP } from "../../lib/packet/ethernet.ts";

/** One length field: the bits `mask` (shifted by `shift`) of the `width`-byte value at `off`. */
export interface Field {
  off: number;
  width: 1 | 2;
  mask: number;
  shift: number;
  what: string;
}

const MAX_DEPTH = 6;

/** Every length-like field of `frame`, outer level, Geneve, inner level and quoted datagrams. */
export function lengthFields(frame: Uint8Array): Field[] {
  const out: Field[] = [];
  const meta = new PacketMeta();
  // A seed may be deliberately broken further in: mine whatever the parser got to.
  if (parseFrame(frame, 0, frame.length, meta, true) !== null) {
    parseFrame(frame, 0, frame.length, meta, false);
  }
  level(frame, meta.outer, out, 0);
  if (meta.encap) {
    const g = meta.geneve;
    out.push({ off: g, width: 1, mask: 0x3f, shift: 0, what: "geneve.optlen" });
    const optEnd = g + 8 + meta.geneveOptLen;
    for (let at = g + 8; at + 4 <= optEnd; at += 4 + (frame[at + 3] & 0x1f) * 4) {
      out.push({ off: at + 3, width: 1, mask: 0x1f, shift: 0, what: "geneve.option.len" });
    }
    level(frame, meta.inner, out, 0);
  }
  return out;
}

function push(out: Field[], off: number, width: 1 | 2, what: string, mask = 0, shift = 0): void {
  out.push({ off, width, mask: mask || (width === 1 ? 0xff : 0xffff), shift, what });
}

function level(b: Uint8Array, l: HeaderLevel, out: Field[], depth: number): void {
  if (l.l3 < 0 || l.etherType === ETHERTYPE_ARP) return;
  const l3 = l.l3, end = l.ipEnd;
  if (l.ipVersion === 4) {
    push(out, l3, 1, "ipv4.ihl", 0x0f);
    push(out, l3 + 2, 2, "ipv4.total-length");
  } else if (l.ipVersion === 6) {
    push(out, l3 + 4, 2, "ipv6.payload-length");
    let nh = b[l3 + 6], at = l3 + 40;
    for (let n = 0; isIpv6Extension(nh) && at + 8 <= end && n < 16; n++) {
      if (nh !== EXT_FRAGMENT) push(out, at + 1, 1, "ipv6.ext.len");
      const len = nh === EXT_FRAGMENT
        ? 8
        : nh === EXT_AH
        ? (b[at + 1] + 2) * 4
        : (b[at + 1] + 1) * 8;
      nh = b[at];
      at += len;
    }
  }
  const l4 = l.l4;
  if (l4 < 0 || l4 >= end) return;
  if (l.proto === PROTO_TCP) push(out, l4 + 12, 1, "tcp.data-offset", 0xf0, 4);
  if (l.proto === PROTO_UDP && l4 + 8 <= end) {
    push(out, l4 + 4, 2, "udp.length");
    const sp = l.srcPort, dp = l.dstPort, p = l4 + 8, e = Math.min(l4 + u16(b, l4 + 4), end);
    if (sp === 67 || sp === 68 || dp === 67 || dp === 68) dhcp(b, p, e, out);
    if (sp === 546 || sp === 547 || dp === 546 || dp === 547) dhcpv6(b, p + 4, e, out, 0);
  }
  if (l.proto === PROTO_ICMPV6 && l.icmpType >= 0) {
    const t = l.icmpType;
    if (isNdp(t)) {
      for (let at = l4 + icmpv6HeaderLen(t); at + 2 <= end && b[at + 1] > 0; at += b[at + 1] * 8) {
        push(out, at + 1, 1, "ndp.option.len");
      }
    }
    if (isIcmpv6Error(t)) quoted(b, l4 + 8, end, out, depth);
  }
  if (l.proto === PROTO_ICMP && l.icmpType >= 0 && isIcmpv4Error(l.icmpType)) {
    quoted(b, l4 + 8, end, out, depth);
  }
}

function quoted(b: Uint8Array, off: number, end: number, out: Field[], depth: number): void {
  if (depth >= MAX_DEPTH || off >= end) return;
  const inner = new HeaderLevel();
  if (parseIpLevel(b, off, end, inner, true) === null) level(b, inner, out, depth + 1);
}

function dhcp(b: Uint8Array, p: number, end: number, out: Field[]): void {
  for (let i = p + DHCP_FIXED_LEN; i + 2 <= end && b[i] !== OPT_END;) {
    if (b[i] === OPT_PAD) {
      i++;
      continue;
    }
    push(out, i + 1, 1, `dhcp.option${b[i]}.len`);
    if (b[i] === OPT_DOMAIN_SEARCH) dnsLabels(b, i + 2, Math.min(i + 2 + b[i + 1], end), out);
    i += 2 + b[i + 1];
  }
}

function dhcpv6(b: Uint8Array, p: number, end: number, out: Field[], depth: number): void {
  for (let i = p; i + 4 <= end && depth < 4;) {
    const code = u16(b, i), len = u16(b, i + 2), e = Math.min(i + 4 + len, end);
    push(out, i + 2, 2, `dhcpv6.option${code}.len`);
    if (code === 3) dhcpv6(b, i + 16, e, out, depth + 1); // IA_NA: iaid, t1, t2
    if (code === 5) dhcpv6(b, i + 28, e, out, depth + 1); // IAADDR: addr, lifetimes
    if (code === 24) dnsLabels(b, i + 4, e, out);
    i += 4 + len;
  }
}

function dnsLabels(b: Uint8Array, p: number, end: number, out: Field[]): void {
  for (let i = p; i < end;) {
    const len = b[i];
    push(out, i, 1, "dns.label");
    if ((len & 0xc0) === 0xc0) {
      push(out, i + 1, 1, "dns.pointer");
      i += 2;
    } else i += 1 + len;
  }
}
