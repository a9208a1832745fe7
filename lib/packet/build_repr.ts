// The builder's spec-to-Repr step: numbers for named kinds, Reprs for NDP and extension
// headers, the protocol a layer announces for the next, and each layer's header length.

import {
  ip4,
  ip6,
  type Ipv6ExtSpec,
  type LayerSpec,
  mac,
  type NdpSpec,
  type PayloadSpec,
} from "./build_spec.ts";
import { PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from "./checksum.ts";
import { ethernetBufferLen, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from "./ethernet.ts";
import { ARP_LEN } from "./arp.ts";
import { ipv4BufferLen } from "./ipv4.ts";
import {
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
import { tcpBufferLen } from "./tcp.ts";
import { UDP_HEADER_LEN } from "./udp.ts";
import {
  ICMP_DEST_UNREACHABLE,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_HEADER_LEN,
  ICMP_PARAM_PROBLEM,
  ICMP_REDIRECT,
  ICMP_TIME_EXCEEDED,
} from "./icmpv4.ts";
import {
  ICMPV6_DEST_UNREACHABLE,
  ICMPV6_ECHO_REPLY,
  ICMPV6_ECHO_REQUEST,
  ICMPV6_HEADER_LEN,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_PARAM_PROBLEM,
  ICMPV6_TIME_EXCEEDED,
} from "./icmpv6.ts";
import { ndpBufferLen, type NdpOptionRepr, type NdpRepr } from "./ndp.ts";
import { geneveBufferLen } from "./geneve.ts";

export const EXT_NUMBERS: Record<string, number> = {
  hopByHop: EXT_HOP_BY_HOP,
  routing: EXT_ROUTING,
  fragment: EXT_FRAGMENT,
  destination: EXT_DEST_OPTS,
  ah: EXT_AH,
};
export const ICMP4_KINDS: Record<string, number> = {
  echoRequest: ICMP_ECHO_REQUEST,
  echoReply: ICMP_ECHO_REPLY,
  destUnreachable: ICMP_DEST_UNREACHABLE,
  timeExceeded: ICMP_TIME_EXCEEDED,
  paramProblem: ICMP_PARAM_PROBLEM,
  redirect: ICMP_REDIRECT,
};
export const ICMP6_KINDS: Record<string, number> = {
  echoRequest: ICMPV6_ECHO_REQUEST,
  echoReply: ICMPV6_ECHO_REPLY,
  destUnreachable: ICMPV6_DEST_UNREACHABLE,
  packetTooBig: ICMPV6_PACKET_TOO_BIG,
  timeExceeded: ICMPV6_TIME_EXCEEDED,
  paramProblem: ICMPV6_PARAM_PROBLEM,
};

const utf8 = new TextEncoder();

export function payloadBytes(s: PayloadSpec): Uint8Array {
  return typeof s.data === "string" ? utf8.encode(s.data) : s.data;
}

export function extRepr(e: Ipv6ExtSpec, next: number): Ipv6ExtRepr {
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

export function ndpRepr(s: NdpSpec): NdpRepr {
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
export function protoOf(next: LayerSpec | undefined, ether: boolean): number {
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

export function headerLen(s: LayerSpec): number {
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
