// The layer specs `buildFrame` accepts: one tagged object per header, addresses as text (or
// bytes), every derivable field optional so a test names only what it cares about, and
// override fields for building deliberately broken frames.

import { parseIpv4, parseIpv6, parseMac } from "./bytes.ts";
import type { GeneveOptionRepr } from "./geneve.ts";
import type { NdpOptionRepr } from "./ndp.ts";

/** An address as text or as raw bytes. */
export type Addr = string | Uint8Array;

/** Ethernet II; `padTo` zero-pads the whole frame to that length outside every length field. */
export interface EthernetSpec {
  type: "ethernet";
  src: Addr;
  dst: Addr;
  etherType?: number;
  vlan?: number;
  pcp?: number;
  padTo?: number;
}
/** ARP for Ethernet/IPv4. */
export interface ArpSpec {
  type: "arp";
  op?: "request" | "reply" | number;
  senderMac: Addr;
  senderIp: Addr;
  targetMac?: Addr;
  targetIp: Addr;
}
/** IPv4; the override fields (`proto`…`version`) replace computed values. */
export interface Ipv4Spec {
  type: "ipv4";
  src: Addr;
  dst: Addr;
  ttl?: number;
  id?: number;
  tos?: number;
  df?: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  fragOffset?: number;
  moreFragments?: boolean;
  options?: Uint8Array;
  proto?: number;
  totalLength?: number;
  /** Header length field in 4-byte words. */
  ihl?: number;
  checksum?: number;
  version?: number;
}
/** One IPv6 extension header. */
export interface Ipv6ExtSpec {
  type: "hopByHop" | "routing" | "fragment" | "destination" | "ah" | number;
  data?: Uint8Array;
  fragOffset?: number;
  moreFragments?: boolean;
  ident?: number;
  /** Overrides the computed next-header field. */
  nextHeader?: number;
}
/** IPv6 with an optional extension-header chain. */
export interface Ipv6Spec {
  type: "ipv6";
  src: Addr;
  dst: Addr;
  hopLimit?: number;
  flowLabel?: number;
  trafficClass?: number;
  extHeaders?: Ipv6ExtSpec[];
  nextHeader?: number;
  payloadLength?: number;
  version?: number;
}
/** TCP; `flags` as letters ("SA") or a number. */
export interface TcpSpec {
  type: "tcp";
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  flags?: string | number;
  window?: number;
  urgent?: number;
  mss?: number;
  options?: Uint8Array;
  /** Data offset field in 4-byte words. */
  dataOffset?: number;
  checksum?: number;
}
/** UDP; `checksum: "zero"` sends no checksum. dstPort defaults to 6081 before Geneve. */
export interface UdpSpec {
  type: "udp";
  srcPort?: number;
  dstPort?: number;
  checksum?: number | "zero";
  length?: number;
}
/** ICMPv4; the layers after an error kind form the embedded datagram. */
export interface Icmpv4Spec {
  type: "icmpv4";
  kind?:
    | "echoRequest"
    | "echoReply"
    | "destUnreachable"
    | "timeExceeded"
    | "paramProblem"
    | "redirect";
  icmpType?: number;
  code?: number;
  id?: number;
  seq?: number;
  mtu?: number;
  restOfHeader?: number;
  checksum?: number;
}
/** ICMPv6 echo and errors; the layers after an error kind form the embedded packet. */
export interface Icmpv6Spec {
  type: "icmpv6";
  kind?:
    | "echoRequest"
    | "echoReply"
    | "destUnreachable"
    | "packetTooBig"
    | "timeExceeded"
    | "paramProblem";
  icmpType?: number;
  code?: number;
  id?: number;
  seq?: number;
  mtu?: number;
  pointer?: number;
  restOfHeader?: number;
  checksum?: number;
}
/** An NDP option with text addresses. */
export type NdpOptionSpec = NdpOptionRepr<Addr>;
/** An NDP message (ICMPv6 133-137). */
export interface NdpSpec {
  type: "ndp";
  kind: "rs" | "ra" | "ns" | "na" | "redirect";
  target?: Addr;
  dst?: Addr;
  router?: boolean;
  solicited?: boolean;
  override?: boolean;
  curHopLimit?: number;
  managed?: boolean;
  other?: boolean;
  preference?: number;
  routerLifetime?: number;
  reachableTime?: number;
  retransTimer?: number;
  options?: NdpOptionSpec[];
  code?: number;
  checksum?: number;
}
/** Geneve; `optLenWords` overrides the option-length field. */
export interface GeneveSpec {
  type: "geneve";
  vni: number;
  options?: GeneveOptionRepr[];
  protocol?: number;
  oam?: boolean;
  critical?: boolean;
  optLenWords?: number;
}
/** Raw bytes (a string is UTF-8 encoded). */
export interface PayloadSpec {
  type: "payload";
  data: Uint8Array | string;
}
/** One layer of a frame to build. */
export type LayerSpec =
  | EthernetSpec
  | ArpSpec
  | Ipv4Spec
  | Ipv6Spec
  | TcpSpec
  | UdpSpec
  | Icmpv4Spec
  | Icmpv6Spec
  | NdpSpec
  | GeneveSpec
  | PayloadSpec;

/** Parses a MAC given as text (or passes bytes through); throws on a bad spec. */
export function mac(a: Addr): Uint8Array {
  if (typeof a !== "string") return a;
  const m = parseMac(a);
  if (!m) throw new Error(`buildFrame: "${a}" is not a MAC address`);
  return m;
}
/** Parses an IPv4 address given as text (or passes bytes through); throws on a bad spec. */
export function ip4(a: Addr): Uint8Array {
  if (typeof a !== "string") return a;
  const m = parseIpv4(a);
  if (!m) throw new Error(`buildFrame: "${a}" is not an IPv4 address`);
  return m;
}
/** Parses an IPv6 address given as text (or passes bytes through); throws on a bad spec. */
export function ip6(a: Addr): Uint8Array {
  if (typeof a !== "string") return a;
  const m = parseIpv6(a);
  if (!m) throw new Error(`buildFrame: "${a}" is not an IPv6 address`);
  return m;
}
