// The virtual gateway's generated replies: pure functions from a parsed request (frame bytes
// plus the HeaderLevel the parser filled) to the reply frame, or null when the request is not
// one the gateway answers (the caller drops it). Behaviour follows OPTE's oxide-vpc gateway.

import { bytesEqual } from "../packet/bytes.ts";
import {
  ARP_LEN,
  ARP_REPLY,
  ARP_REQUEST,
  ARP_SHA,
  ARP_SPA,
  emitArp,
  parseArp,
} from "../packet/arp.ts";
import { emitEthernet, ETHERNET_HEADER_LEN, ETHERTYPE_ARP } from "../packet/ethernet.ts";
import { isParseError } from "../packet/error.ts";
import type { HeaderLevel } from "../packet/meta.ts";
import { PROTO_ICMP, PROTO_ICMPV6, PROTO_UDP } from "../packet/checksum.ts";
import {
  DHCP_CLIENT_PORT,
  DHCP_FLAG_BROADCAST,
  DHCP_SERVER_PORT,
  emitDhcp,
  parseDhcp,
} from "../packet/dhcp.ts";
import { encodeDnsNames } from "../packet/dns_names.ts";
import { dhcpReprParse } from "../packet/dhcp_decode.ts";
import {
  DHCPV6_CLIENT_PORT,
  DHCPV6_SERVER_PORT,
  type Dhcpv6Repr,
  dhcpv6ReprParse,
  duidLl,
  emitDhcpv6,
  parseDhcpv6,
} from "../packet/dhcpv6.ts";
import { checkNdp, findNdpOption, NDP_OPT_SOURCE_LL, NDP_TARGET } from "../packet/ndp.ts";
import { IPV6_DST, IPV6_HEADER_LEN, IPV6_HOP_LIMIT, IPV6_SRC } from "../packet/ipv6.ts";
import { IPV4_DST, IPV4_SRC } from "../packet/ipv4.ts";
import {
  ICMPV6_ECHO_REQUEST,
  ICMPV6_NEIGHBOR_SOLICIT,
  ICMPV6_ROUTER_SOLICIT,
  icmpv6HeaderLen,
} from "../packet/icmpv6.ts";
import {
  icmpv6EchoReplyLen,
  NDP_HOP_LIMIT,
  writeIcmpv6EchoReply,
  writeNeighborAdvert,
  writeRouterAdvert,
} from "../packet/icmp_reply.ts";
import { ipFrame, udpSegment } from "./emit.ts";
import { eui64LinkLocal, ipv6MulticastMac, solicitedNode } from "../packet/addr.ts";

/** What the gateway needs to know to answer its guest. */
export interface GatewayIdentity {
  /** The gateway's MAC (A8:40:25:FF:77:77 by default). */
  readonly mac: Uint8Array;
  readonly guestMac: Uint8Array;
  readonly v4: { readonly guestIp: Uint8Array; readonly gatewayIp: Uint8Array } | null;
  readonly v6: { readonly guestIp: Uint8Array } | null;
  /** The gateway's link-local address, EUI-64 of `mac`. */
  readonly linkLocal: Uint8Array;
  readonly mtu: number;
  readonly dhcp: DhcpSettings;
}

/** DHCP/DHCPv6 contents handed to the guest. */
export interface DhcpSettings {
  readonly dns4: readonly Uint8Array[];
  readonly dns6: readonly Uint8Array[];
  readonly hostname?: string;
  readonly domain?: string;
  readonly search: readonly string[];
  /** DHCPv4 lease, seconds (DHCPv6 lifetimes are infinite, as upstream). */
  readonly leaseTime: number;
}

/** The default gateway MAC of every VPC port. */
export const GATEWAY_MAC = Uint8Array.of(0xa8, 0x40, 0x25, 0xff, 0x77, 0x77);

/** Builds a GatewayIdentity, deriving the gateway link-local from its MAC. */
export function gatewayIdentity(
  o: Omit<GatewayIdentity, "linkLocal" | "mac"> & { mac?: Uint8Array },
): GatewayIdentity {
  const mac = o.mac ?? GATEWAY_MAC;
  return { ...o, mac, linkLocal: eui64LinkLocal(mac) };
}

const BROADCAST_MAC = Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
const BROADCAST_V4 = Uint8Array.of(255, 255, 255, 255);
const ALL_NODES = Uint8Array.of(0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
const UNSPECIFIED = new Uint8Array(16);
const ONES_MASK = Uint8Array.of(255, 255, 255, 255);
const ZERO4 = new Uint8Array(4);

function eq(buf: Uint8Array, off: number, b: Uint8Array): boolean {
  return bytesEqual(buf, off, b, 0, b.length);
}

function fromGuestMac(buf: Uint8Array, lv: HeaderLevel, gw: GatewayIdentity): boolean {
  return lv.ether >= 0 && eq(buf, lv.ether + 6, gw.guestMac);
}

/** ARP request for the gateway IPv4 from the guest → ARP reply with the gateway MAC. */
export function arpReply(buf: Uint8Array, lv: HeaderLevel, gw: GatewayIdentity): Uint8Array | null {
  if (!gw.v4 || lv.etherType !== ETHERTYPE_ARP || lv.l3 < 0) return null;
  const arp = parseArp(buf, lv.l3, Math.min(buf.length, lv.l3 + ARP_LEN));
  if (isParseError(arp) || arp.operation !== ARP_REQUEST) return null;
  if (!fromGuestMac(buf, lv, gw) || !arp.targetIpEquals(gw.v4.gatewayIp)) return null;
  const out = new Uint8Array(ETHERNET_HEADER_LEN + ARP_LEN);
  const senderMac = buf.slice(arp.off + ARP_SHA, arp.off + ARP_SHA + 6);
  emitEthernet({ src: gw.mac, dst: senderMac, etherType: ETHERTYPE_ARP }, out, 0);
  emitArp(
    {
      operation: ARP_REPLY,
      senderMac: gw.mac,
      senderIp: gw.v4.gatewayIp,
      targetMac: senderMac,
      targetIp: buf.slice(arp.off + ARP_SPA, arp.off + ARP_SPA + 4),
    },
    out,
    ETHERNET_HEADER_LEN,
  );
  return out;
}

/** ICMP echo request from the guest to the gateway IPv4 → echo reply. */
export function icmpEchoReply(
  buf: Uint8Array,
  lv: HeaderLevel,
  gw: GatewayIdentity,
): Uint8Array | null {
  if (!gw.v4 || lv.ipVersion !== 4 || lv.proto !== PROTO_ICMP || lv.l4 < 0) return null;
  if (lv.icmpType !== 8 || lv.icmpCode !== 0 || !fromGuestMac(buf, lv, gw)) return null;
  if (!eq(buf, lv.l3 + IPV4_DST, gw.v4.gatewayIp) || !eq(buf, lv.l3 + IPV4_SRC, gw.v4.guestIp)) {
    return null;
  }
  const l4 = buf.slice(lv.l4, lv.ipEnd);
  l4[0] = 0;
  return ipFrame(gw.mac, gw.guestMac, gw.v4.gatewayIp, gw.v4.guestIp, PROTO_ICMP, l4, 64);
}

/** ICMPv6 echo request from the guest (VPC address or its link-local) to the gateway LL. */
export function icmpv6EchoReply(
  buf: Uint8Array,
  lv: HeaderLevel,
  gw: GatewayIdentity,
): Uint8Array | null {
  if (lv.ipVersion !== 6 || lv.proto !== PROTO_ICMPV6 || lv.l4 < 0) return null;
  if (lv.icmpType !== ICMPV6_ECHO_REQUEST || lv.icmpCode !== 0 || !fromGuestMac(buf, lv, gw)) {
    return null;
  }
  if (!eq(buf, lv.l3 + IPV6_DST, gw.linkLocal)) return null;
  const src = buf.slice(lv.l3 + IPV6_SRC, lv.l3 + IPV6_DST);
  const guestLl = eui64LinkLocal(gw.guestMac);
  if (!eq(src, 0, guestLl) && !(gw.v6 && eq(src, 0, gw.v6.guestIp))) return null;
  const out = new Uint8Array(icmpv6EchoReplyLen(lv.l4, lv.ipEnd));
  writeIcmpv6EchoReply(out, 0, gw.guestMac, gw.mac, buf, lv.l3, lv.l4, lv.ipEnd);
  return out;
}

/** DHCPv4 Discover → Offer, Request → Ack (guest /32, routes via option 121, DNS, names). */
export function dhcpReply(
  buf: Uint8Array,
  lv: HeaderLevel,
  gw: GatewayIdentity,
): Uint8Array | null {
  if (!gw.v4 || lv.ipVersion !== 4 || lv.proto !== PROTO_UDP || lv.payload < 0) return null;
  if (lv.dstPort !== DHCP_SERVER_PORT || lv.srcPort !== DHCP_CLIENT_PORT) return null;
  if (!fromGuestMac(buf, lv, gw)) return null;
  const view = parseDhcp(buf, lv.payload, lv.ipEnd);
  if (isParseError(view)) return null;
  const req = dhcpReprParse(view);
  if (isParseError(req) || req.op !== 1) return null;
  let type: number;
  if (req.messageType === 1) type = 2; // Discover → Offer
  else if (req.messageType === 3) {
    // A Request naming another server's id means the client chose that server.
    if (req.serverId && !bytesEqual(req.serverId, 0, gw.v4.gatewayIp, 0, 4)) return null;
    type = 5; // Ack
  } else return null;
  const gwIp = gw.v4.gatewayIp, d = gw.dhcp;
  const payload = emitDhcp({
    op: 2,
    xid: req.xid,
    flags: req.flags ?? 0,
    yiaddr: gw.v4.guestIp,
    siaddr: gwIp,
    chaddr: gw.guestMac,
    messageType: type,
    subnetMask: ONES_MASK,
    routers: [gwIp],
    dnsServers: d.dns4.length > 0 ? [...d.dns4] : undefined,
    hostname: d.hostname,
    domainName: d.domain,
    domainSearch: d.search.length > 0 ? [...d.search] : undefined,
    // The guest lives on a /32: a route to the gateway itself, then the default via it.
    classlessRoutes: [
      { dest: gwIp, prefixLen: 32, router: ZERO4 },
      { dest: ZERO4, prefixLen: 0, router: gwIp },
    ],
    leaseTime: d.leaseTime,
    serverId: gwIp,
  });
  const broadcast = ((req.flags ?? 0) & DHCP_FLAG_BROADCAST) !== 0;
  return ipFrame(
    gw.mac,
    broadcast ? BROADCAST_MAC : gw.guestMac,
    gwIp,
    broadcast ? BROADCAST_V4 : gw.v4.guestIp,
    PROTO_UDP,
    udpSegment(DHCP_SERVER_PORT, DHCP_CLIENT_PORT, payload),
    64,
  );
}

/** DHCPv6 "infinity" lifetime. */
const INFINITE = 0xffffffff;
const OPT6_DOMAIN_LIST = 24, OPT6_FQDN = 39;

/**
 * The Client FQDN option (RFC 4704) as upstream sends it: flags O|S (the server overrides the
 * client's preference and updates the AAAA record), then `hostname.domain` in DNS wire form.
 */
function fqdnOption(hostname: string, domain?: string): Uint8Array {
  const name = encodeDnsNames([domain ? `${hostname}.${domain}` : hostname]);
  const out = new Uint8Array(1 + name.length);
  out[0] = 0b011;
  out.set(name, 1);
  return out;
}

const SOLICIT = 1, ADVERTISE = 2, REQUEST = 3, CONFIRM = 4, RENEW = 5, REBIND = 6, REPLY = 7;
const RELEASE = 8, INFO_REQUEST = 11;

/** DHCPv6: Solicit (rapid commit → Reply, else Advertise), Request/Renew/Rebind/Confirm/
 * Release/Information-request → Reply, from the gateway link-local. */
export function dhcpv6Reply(
  buf: Uint8Array,
  lv: HeaderLevel,
  gw: GatewayIdentity,
): Uint8Array | null {
  if (!gw.v6 || lv.ipVersion !== 6 || lv.proto !== PROTO_UDP || lv.payload < 0) return null;
  if (lv.dstPort !== DHCPV6_SERVER_PORT || lv.srcPort !== DHCPV6_CLIENT_PORT) return null;
  if (!fromGuestMac(buf, lv, gw)) return null;
  const view = parseDhcpv6(buf, lv.payload, lv.ipEnd);
  if (isParseError(view)) return null;
  const req = dhcpv6ReprParse(view);
  if (isParseError(req)) return null;
  const serverId = duidLl(gw.mac);
  if (req.msgType !== INFO_REQUEST && !req.clientId) return null;
  if (req.serverId && !bytesEqual(req.serverId, 0, serverId, 0, serverId.length)) return null;
  if (req.serverId === undefined && (req.msgType === REQUEST || req.msgType === RENEW)) {
    return null; // RFC 8415 §16: these must name the server
  }
  const d = gw.dhcp, guest = gw.v6.guestIp;
  const rep: Dhcpv6Repr = { msgType: REPLY, transactionId: req.transactionId, serverId };
  if (req.clientId) rep.clientId = req.clientId;
  switch (req.msgType) {
    case SOLICIT:
    case REQUEST:
    case RENEW:
    case REBIND:
      if (req.msgType === SOLICIT && !req.rapidCommit) rep.msgType = ADVERTISE;
      if (req.msgType === SOLICIT && req.rapidCommit) rep.rapidCommit = true;
      // As upstream: the address is the port's for its whole life, so every lifetime is
      // infinite (RFC 8415 §7.7) and the client never needs to renew.
      rep.iaNa = (req.iaNa ?? []).map((ia) => ({
        iaid: ia.iaid,
        t1: INFINITE,
        t2: INFINITE,
        addresses: [{ addr: guest, preferredLifetime: INFINITE, validLifetime: INFINITE }],
      }));
      break;
    case CONFIRM: {
      const onLink = (req.iaNa ?? []).every((ia) =>
        ia.addresses.every((a) => bytesEqual(a.addr, 0, guest, 0, 16))
      );
      rep.status = { code: onLink ? 0 : 4, message: onLink ? "on link" : "not on link" };
      break;
    }
    case RELEASE:
      rep.status = { code: 0, message: "released" };
      break;
    case INFO_REQUEST:
      break;
    default:
      return null;
  }
  if (req.msgType !== RELEASE) {
    const oro = req.oro ?? [];
    if (d.dns6.length > 0 && oro.includes(23)) rep.dnsServers = [...d.dns6];
    const asked = (code: number) => oro.includes(code) || req.other?.some((o) => o.code === code);
    // The search list as configured, in order (upstream: domain_search_list only).
    if (d.search.length > 0 && asked(OPT6_DOMAIN_LIST)) rep.domainList = [...d.search];
    const fqdn = d.hostname && asked(OPT6_FQDN) ? fqdnOption(d.hostname, d.domain) : null;
    if (fqdn) (rep.other ??= []).push({ code: OPT6_FQDN, data: fqdn });
  }
  const dst = buf.slice(lv.l3 + IPV6_SRC, lv.l3 + IPV6_DST);
  const payload = udpSegment(DHCPV6_SERVER_PORT, DHCPV6_CLIENT_PORT, emitDhcpv6(rep));
  return ipFrame(gw.mac, gw.guestMac, gw.linkLocal, dst, PROTO_UDP, payload, 64);
}

/** Router Solicitation from the guest → Router Advertisement (managed, MTU, source LL). */
export function routerAdvert(
  buf: Uint8Array,
  lv: HeaderLevel,
  gw: GatewayIdentity,
): Uint8Array | null {
  if (lv.ipVersion !== 6 || lv.proto !== PROTO_ICMPV6 || lv.icmpType !== ICMPV6_ROUTER_SOLICIT) {
    return null;
  }
  if (
    lv.icmpCode !== 0 || buf[lv.l3 + IPV6_HOP_LIMIT] !== NDP_HOP_LIMIT || !fromGuestMac(buf, lv, gw)
  ) return null;
  if (checkNdp(buf, lv.l4, lv.ipEnd) !== null) return null;
  const src = buf.slice(lv.l3 + IPV6_SRC, lv.l3 + IPV6_DST);
  const unspecified = eq(src, 0, UNSPECIFIED);
  if (!unspecified && !(src[0] === 0xfe && (src[1] & 0xc0) === 0x80)) return null;
  const dst = unspecified ? ALL_NODES : src;
  const dstMac = unspecified ? ipv6MulticastMac(ALL_NODES) : gw.guestMac;
  const out = new Uint8Array(ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + 32);
  const ra = { lifetime: 9000, mtu: gw.mtu, curHopLimit: 255, managed: true };
  writeRouterAdvert(out, 0, { dstMac, srcMac: gw.mac, srcIp: gw.linkLocal, dstIp: dst }, ra);
  return out;
}

/** Neighbor Solicitation for the gateway link-local (unicast or to its solicited-node group)
 * → Neighbor Advertisement with the router flag. Anything else (the guest's DAD, other
 * targets) gets no answer. */
export function neighborAdvert(
  buf: Uint8Array,
  lv: HeaderLevel,
  gw: GatewayIdentity,
): Uint8Array | null {
  if (lv.ipVersion !== 6 || lv.proto !== PROTO_ICMPV6 || lv.icmpType !== ICMPV6_NEIGHBOR_SOLICIT) {
    return null;
  }
  if (
    lv.icmpCode !== 0 || buf[lv.l3 + IPV6_HOP_LIMIT] !== NDP_HOP_LIMIT || !fromGuestMac(buf, lv, gw)
  ) return null;
  if (lv.ipEnd - lv.l4 < 24 || checkNdp(buf, lv.l4, lv.ipEnd) !== null) return null;
  if (!eq(buf, lv.l4 + NDP_TARGET, gw.linkLocal)) return null;
  const dstIp = buf.subarray(lv.l3 + IPV6_DST, lv.l3 + IPV6_DST + 16);
  if (!eq(dstIp, 0, gw.linkLocal) && !eq(dstIp, 0, solicitedNode(gw.linkLocal))) return null;
  const src = buf.slice(lv.l3 + IPV6_SRC, lv.l3 + IPV6_DST);
  const unspecified = eq(src, 0, UNSPECIFIED);
  if (unspecified) {
    // RFC 4861 §7.1.1: from :: only to a solicited-node group and without a source LL option.
    if (!eq(dstIp, 0, solicitedNode(gw.linkLocal))) return null;
    if (
      findNdpOption(
        buf,
        lv.l4 + icmpv6HeaderLen(ICMPV6_NEIGHBOR_SOLICIT),
        lv.ipEnd,
        NDP_OPT_SOURCE_LL,
      ) >= 0
    ) return null;
  }
  const dst = unspecified ? ALL_NODES : src;
  const dstMac = unspecified ? ipv6MulticastMac(ALL_NODES) : gw.guestMac;
  const out = new Uint8Array(ETHERNET_HEADER_LEN + IPV6_HEADER_LEN + 32);
  writeNeighborAdvert(
    out,
    0,
    { dstMac, srcMac: gw.mac, srcIp: gw.linkLocal, dstIp: dst },
    gw.linkLocal,
    !unspecified,
    gw.mac,
  );
  return out;
}
