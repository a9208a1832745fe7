// The frame builder for tests and hairpin replies: a list of tagged layer specs, addresses as
// text, everything derivable (EtherTypes, protocol numbers, lengths, checksums) filled in
// unless a spec overrides it, so deliberately broken frames are as easy as good ones.
// Not for the fast path: it allocates. A bad spec (unparsable address) throws.

import { setU16 } from "./bytes.ts";
import {
  ip4,
  ip6,
  type Ipv6ExtSpec,
  type LayerSpec,
  mac,
  type NdpSpec,
  type PayloadSpec,
} from "./build_spec.ts";
import {
  fillIpv4HeaderChecksum,
  internetChecksum,
  PROTO_ICMP,
  PROTO_ICMPV6,
  PROTO_TCP,
  PROTO_UDP,
  pseudoSumV4,
  pseudoSumV6,
} from "./checksum.ts";
import {
  emitEthernet,
  ethernetBufferLen,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
} from "./ethernet.ts";
import { ARP_LEN, ARP_REPLY, ARP_REQUEST, emitArp } from "./arp.ts";
import { emitIpv4, ipv4BufferLen } from "./ipv4.ts";
import {
  emitIpv6,
  emitIpv6Ext,
  EXT_AH,
  EXT_DEST_OPTS,
  EXT_FRAGMENT,
  EXT_HOP_BY_HOP,
  EXT_NO_NEXT,
  EXT_ROUTING,
  IPV6_HEADER_LEN,
  ipv6ExtBufferLen,
  type Ipv6ExtRepr,
} from "./ipv6.ts";
import { emitTcp, parseTcpFlags, tcpBufferLen } from "./tcp.ts";
import { emitUdp, UDP_HEADER_LEN } from "./udp.ts";
import {
  emitIcmpv4,
  ICMP_DEST_UNREACHABLE,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_HEADER_LEN,
  ICMP_PARAM_PROBLEM,
  ICMP_REDIRECT,
  ICMP_TIME_EXCEEDED,
} from "./icmpv4.ts";
import {
  emitIcmpv6,
  ICMPV6_DEST_UNREACHABLE,
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_HEADER_LEN,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_PARAM_PROBLEM,
  ICMPV6_TIME_EXCEEDED,
} from "./icmpv6.ts";
import { emitNdp, ndpBufferLen, type NdpOptionRepr, type NdpRepr } from "./ndp.ts";
import { emitGeneve, GENEVE_PORT, geneveBufferLen } from "./geneve.ts";

export * from "./build_spec.ts";

const EXT_NUMBERS: Record<string, number> = {
  hopByHop: EXT_HOP_BY_HOP,
  routing: EXT_ROUTING,
  fragment: EXT_FRAGMENT,
  destination: EXT_DEST_OPTS,
  ah: EXT_AH,
};
const ICMP4_KINDS: Record<string, number> = {
  echoRequest: ICMP_ECHO_REQUEST,
  echoReply: ICMP_ECHO_REPLY,
  destUnreachable: ICMP_DEST_UNREACHABLE,
  timeExceeded: ICMP_TIME_EXCEEDED,
  paramProblem: ICMP_PARAM_PROBLEM,
  redirect: ICMP_REDIRECT,
};
const ICMP6_KINDS: Record<string, number> = {
  echoRequest: ICMPV6_ECHO_REQUEST,
  echoReply: ICMPV6_ECHO_REPLY,
  destUnreachable: ICMPV6_DEST_UNREACHABLE,
  packetTooBig: ICMPV6_PACKET_TOO_BIG,
  timeExceeded: ICMPV6_TIME_EXCEEDED,
  paramProblem: ICMPV6_PARAM_PROBLEM,
};

const utf8 = new TextEncoder();

function payloadBytes(s: PayloadSpec): Uint8Array {
  return typeof s.data === "string" ? utf8.encode(s.data) : s.data;
}

function extRepr(e: Ipv6ExtSpec, next: number): Ipv6ExtRepr {
  const type = typeof e.type === "number" ? e.type : EXT_NUMBERS[e.type];
  return {
    type,
    nextHeader: e.nextHeader ?? next,
    data: e.data,
    fragOffset: e.fragOffset,
    moreFragments: e.moreFragments,
    ident: e.ident,
  };
}

function ndpRepr(s: NdpSpec): NdpRepr {
  const options = (s.options ?? []).map((o): NdpOptionRepr => {
    switch (o.type) {
      case "sourceLinkAddr":
      case "targetLinkAddr":
        return { type: o.type, mac: mac(o.mac) };
      case "prefixInfo":
        return { ...o, prefix: ip6(o.prefix) };
      case "rdnss":
        return { type: "rdnss", lifetime: o.lifetime, servers: o.servers.map(ip6) };
      default:
        return o;
    }
  });
  const zero = new Uint8Array(16);
  switch (s.kind) {
    case "rs":
      return { kind: "rs", options };
    case "ra":
      return { ...s, kind: "ra", options };
    case "ns":
      return { kind: "ns", target: s.target ? ip6(s.target) : zero, options };
    case "na":
      return { ...s, kind: "na", target: s.target ? ip6(s.target) : zero, options };
    case "redirect":
      return {
        kind: "redirect",
        target: s.target ? ip6(s.target) : zero,
        dst: s.dst ? ip6(s.dst) : zero,
        options,
      };
  }
}

/** IP protocol number (or EtherType, for `ether`) announcing `next`. */
function protoOf(next: LayerSpec | undefined, ether: boolean): number {
  switch (next?.type) {
    case "ipv4":
      return ether ? ETHERTYPE_IPV4 : 4;
    case "ipv6":
      return ether ? ETHERTYPE_IPV6 : 41;
    case "arp":
      return ETHERTYPE_ARP;
    case "tcp":
      return PROTO_TCP;
    case "udp":
      return PROTO_UDP;
    case "icmpv4":
      return PROTO_ICMP;
    case "icmpv6":
    case "ndp":
      return PROTO_ICMPV6;
    case undefined:
      return ether ? 0x88b5 : EXT_NO_NEXT;
    default:
      // Experimental values (RFC 3692 / IEEE local) for payload and odd stacks.
      return ether ? 0x88b5 : 253;
  }
}

function headerLen(s: LayerSpec): number {
  switch (s.type) {
    case "ethernet":
      return ethernetBufferLen({ src: mac(s.src), dst: mac(s.dst), etherType: 0, vlan: s.vlan });
    case "arp":
      return ARP_LEN;
    case "ipv4":
      return ipv4BufferLen({
        src: ip4(s.src),
        dst: ip4(s.dst),
        proto: 0,
        payloadLen: 0,
        options: s.options,
      });
    case "ipv6":
      return IPV6_HEADER_LEN +
        (s.extHeaders ?? []).reduce((n, e) => n + ipv6ExtBufferLen(extRepr(e, 0)), 0);
    case "tcp":
      return tcpBufferLen({ ...s, flags: 0 });
    case "udp":
      return UDP_HEADER_LEN;
    case "icmpv4":
      return ICMP_HEADER_LEN;
    case "icmpv6":
      return ICMPV6_HEADER_LEN;
    case "ndp":
      return ndpBufferLen(ndpRepr(s));
    case "geneve":
      return geneveBufferLen(s);
    case "payload":
      return payloadBytes(s).length;
  }
}

/**
 * Builds one frame from `layers`, outermost first. Each layer's payload is everything after
 * it; ICMP errors therefore embed the layers that follow them. EtherTypes, protocol numbers,
 * lengths and checksums are computed unless a spec overrides them.
 */
export function buildFrame(layers: LayerSpec[]): Uint8Array {
  const n = layers.length;
  const lens = layers.map(headerLen);
  const offs: number[] = [];
  let contentEnd = 0;
  for (const l of lens) {
    offs.push(contentEnd);
    contentEnd += l;
  }
  let total = contentEnd;
  for (const s of layers) if (s.type === "ethernet" && s.padTo) total = Math.max(total, s.padTo);
  const buf = new Uint8Array(total);
  for (let i = 0; i < n; i++) {
    emitLayer(layers[i], layers[i + 1], buf, offs[i], contentEnd - offs[i] - lens[i]);
  }
  // Innermost first: an outer checksum covers the finished inner bytes.
  for (let i = n - 1; i >= 0; i--) finishLayer(layers, i, buf, offs, contentEnd);
  return buf;
}

function emitLayer(
  s: LayerSpec,
  next: LayerSpec | undefined,
  buf: Uint8Array,
  off: number,
  payloadLen: number,
): void {
  switch (s.type) {
    case "ethernet":
      emitEthernet(
        {
          src: mac(s.src),
          dst: mac(s.dst),
          etherType: s.etherType ?? protoOf(next, true),
          vlan: s.vlan,
          pcp: s.pcp,
        },
        buf,
        off,
      );
      break;
    case "arp": {
      const op = s.op === "reply"
        ? ARP_REPLY
        : s.op === "request" || s.op === undefined
        ? ARP_REQUEST
        : s.op;
      emitArp(
        {
          operation: op,
          senderMac: mac(s.senderMac),
          senderIp: ip4(s.senderIp),
          targetMac: s.targetMac ? mac(s.targetMac) : new Uint8Array(6),
          targetIp: ip4(s.targetIp),
        },
        buf,
        off,
      );
      break;
    }
    case "ipv4": {
      const hlen = emitIpv4(
        {
          src: ip4(s.src),
          dst: ip4(s.dst),
          proto: s.proto ?? protoOf(next, false),
          payloadLen,
          ttl: s.ttl,
          tos: s.tos,
          ident: s.id,
          dontFragment: s.df,
          moreFragments: s.moreFragments,
          fragOffset: s.fragOffset,
          options: s.options,
        },
        buf,
        off,
      );
      if (s.version !== undefined) buf[off] = (s.version << 4) | (buf[off] & 0x0f);
      if (s.ihl !== undefined) buf[off] = (buf[off] & 0xf0) | (s.ihl & 0x0f);
      if (s.totalLength !== undefined) setU16(buf, off + 2, s.totalLength);
      if (s.checksum !== undefined) setU16(buf, off + 10, s.checksum);
      else if (s.version !== undefined || s.ihl !== undefined || s.totalLength !== undefined) {
        // Keep the header checksum right so only the deliberate fault is wrong; a bad IHL
        // would make the sum run past the header, so sum the real header then.
        if ((buf[off] & 0x0f) * 4 === hlen) fillIpv4HeaderChecksum(buf, off);
        else {
          setU16(buf, off + 10, 0);
          setU16(buf, off + 10, internetChecksum(buf, off, hlen));
        }
      }
      break;
    }
    case "ipv6": {
      const exts = s.extHeaders ?? [];
      const upper = protoOf(next, false);
      const nums = exts.map((e) => typeof e.type === "number" ? e.type : EXT_NUMBERS[e.type]);
      emitIpv6(
        {
          src: ip6(s.src),
          dst: ip6(s.dst),
          nextHeader: s.nextHeader ?? (nums.length > 0 ? nums[0] : upper),
          payloadLen: s.payloadLength ?? payloadLen + (headerLen(s) - IPV6_HEADER_LEN),
          hopLimit: s.hopLimit,
          trafficClass: s.trafficClass,
          flowLabel: s.flowLabel,
        },
        buf,
        off,
      );
      if (s.version !== undefined) buf[off] = (s.version << 4) | (buf[off] & 0x0f);
      let at = off + IPV6_HEADER_LEN;
      exts.forEach((e, i) => {
        at += emitIpv6Ext(extRepr(e, i + 1 < nums.length ? nums[i + 1] : upper), buf, at);
      });
      break;
    }
    case "tcp": {
      const flags = typeof s.flags === "number"
        ? s.flags
        : s.flags === undefined
        ? 0x10
        : parseTcpFlags(s.flags);
      if (flags === null) throw new Error(`buildFrame: bad TCP flags "${s.flags}"`);
      emitTcp({ ...s, flags }, buf, off);
      if (s.dataOffset !== undefined) buf[off + 12] = (s.dataOffset & 0x0f) << 4;
      break;
    }
    case "udp":
      emitUdp(
        {
          srcPort: s.srcPort ?? 49152,
          dstPort: s.dstPort ?? (next?.type === "geneve" ? GENEVE_PORT : 0),
          payloadLen,
        },
        buf,
        off,
      );
      if (s.length !== undefined) setU16(buf, off + 4, s.length);
      break;
    case "icmpv4":
      emitIcmpv4(
        {
          type: s.icmpType ?? ICMP4_KINDS[s.kind ?? "echoRequest"],
          code: s.code ?? (s.kind === "destUnreachable" && s.mtu !== undefined ? 4 : 0),
          ident: s.id,
          seq: s.seq,
          mtu: s.mtu,
          restOfHeader: s.restOfHeader,
        },
        buf,
        off,
      );
      break;
    case "icmpv6":
      emitIcmpv6(
        {
          type: s.icmpType ?? ICMP6_KINDS[s.kind ?? "echoRequest"],
          code: s.code,
          ident: s.id,
          seq: s.seq,
          mtu: s.mtu,
          pointer: s.pointer,
          restOfHeader: s.restOfHeader,
        },
        buf,
        off,
      );
      break;
    case "ndp":
      emitNdp(ndpRepr(s), buf, off);
      if (s.code !== undefined) buf[off + 1] = s.code;
      break;
    case "geneve":
      emitGeneve(s, buf, off);
      if (s.optLenWords !== undefined) buf[off] = (buf[off] & 0xc0) | (s.optLenWords & 0x3f);
      break;
    case "payload":
      buf.set(payloadBytes(s), off);
      break;
  }
}

/** Writes the checksum of layer `i` (or its override) once everything after it is final. */
function finishLayer(
  layers: LayerSpec[],
  i: number,
  buf: Uint8Array,
  offs: number[],
  contentEnd: number,
): void {
  const s = layers[i], off = offs[i];
  let field: number, proto: number;
  switch (s.type) {
    case "tcp":
      field = 16;
      proto = PROTO_TCP;
      break;
    case "udp":
      field = 6;
      proto = PROTO_UDP;
      break;
    case "icmpv4":
      field = 2;
      proto = PROTO_ICMP;
      break;
    case "icmpv6":
    case "ndp":
      field = 2;
      proto = PROTO_ICMPV6;
      break;
    default:
      return;
  }
  const override = (s as { checksum?: number | "zero" }).checksum;
  if (override !== undefined) {
    setU16(buf, off + field, override === "zero" ? 0 : override);
    return;
  }
  const l4len = contentEnd - off;
  let sum = 0;
  if (proto !== PROTO_ICMP) {
    let ip = i - 1;
    while (ip >= 0 && layers[ip].type !== "ipv4" && layers[ip].type !== "ipv6") ip--;
    if (ip >= 0) {
      sum = layers[ip].type === "ipv4"
        ? pseudoSumV4(buf, offs[ip], proto, l4len)
        : pseudoSumV6(buf, offs[ip], proto, l4len);
    }
  }
  setU16(buf, off + field, 0);
  let c = internetChecksum(buf, off, l4len, sum);
  if (c === 0 && proto === PROTO_UDP) c = 0xffff;
  setU16(buf, off + field, c);
}
