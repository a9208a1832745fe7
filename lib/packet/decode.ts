// Frame → JSON-ready description for `xdeno decode`. The datapath's own strict parser
// (parseFrame) decides whether a frame is acceptable and where each header sits; this file
// only reads the validated headers into plain objects, so what decode prints is what the
// switch sees. Not on the fast path: it allocates freely.

import { ipv4ToString, ipv6ToString, macToString, toHex, u16, u32 } from "./bytes.ts";
import { isParseError } from "./error.ts";
import { HeaderLevel, PacketMeta } from "./meta.ts";
import { parseFrame, parseIpLevel } from "./parse.ts";
import { geneveRepr, GeneveView } from "./geneve.ts";
import { isIpv6Extension } from "./ipv6.ts";
import { icmpv6HeaderLen } from "./icmpv6.ts";
import { PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP } from "./checksum.ts";
import { ETHERTYPE_ARP } from "./ethernet.ts";
import { DHCP_CLIENT_PORT, DHCP_SERVER_PORT, type DhcpRepr, parseDhcp } from "./dhcp.ts";
import { dhcpReprParse } from "./dhcp_decode.ts";
import {
  DHCPV6_CLIENT_PORT,
  DHCPV6_SERVER_PORT,
  type Dhcpv6Repr,
  dhcpv6ReprParse,
  duidMac,
  parseDhcpv6,
} from "./dhcpv6.ts";

/** One decoded header: its `type` and its fields, JSON-ready. */
export type Layer = { type: string; [field: string]: unknown };

/** One line of `xdeno decode` output. */
export interface DecodedFrame {
  frame: number;
  layers?: Layer[];
  error?: string;
}

const meta = new PacketMeta();

/** Decodes one Ethernet frame (number `n`, from 1); never throws. */
export function decodeFrame(frame: Uint8Array, n: number): DecodedFrame {
  try {
    const err = parseFrame(frame, 0, frame.length, meta, true);
    if (err) return { frame: n, error: `${err.kind} ${err.at} at byte ${err.offset}` };
    const layers: Layer[] = [];
    level(frame, meta.outer, layers);
    if (meta.encap) {
      const g = geneveRepr(new GeneveView(frame, meta.geneve));
      layers.push({
        type: "geneve",
        vni: g.vni,
        protocol: g.protocol,
        oam: g.oam,
        critical: g.critical,
        options: (g.options ?? []).map((o) => ({
          class: o.class,
          type: o.type,
          critical: o.critical,
          data: toHex(o.data ?? new Uint8Array(0)),
        })),
      });
      level(frame, meta.inner, layers);
    }
    return { frame: n, layers };
  } catch (e) {
    // A bug in a parser must not end the decode run; the fuzz test treats this line as a failure.
    return { frame: n, error: `internal error: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function level(b: Uint8Array, l: HeaderLevel, out: Layer[]): void {
  const e = l.ether;
  const eth: Layer = {
    type: "ethernet",
    src: macToString(b, e + 6),
    dst: macToString(b, e),
    ethertype: l.etherType,
  };
  if (l.vlan >= 0) eth.vlan = l.vlan;
  out.push(eth);
  if (l.etherType === ETHERTYPE_ARP && l.l3 >= 0) {
    const a = l.l3;
    out.push({
      type: "arp",
      op: u16(b, a + 6),
      sender_mac: macToString(b, a + 8),
      sender_ip: ipv4ToString(b, a + 14),
      target_mac: macToString(b, a + 18),
      target_ip: ipv4ToString(b, a + 24),
    });
    return;
  }
  ip(b, l, out);
}

function ip(b: Uint8Array, l: HeaderLevel, out: Layer[], quoted = false): void {
  const a = l.l3;
  if (l.ipVersion === 4) {
    const ff = u16(b, a + 6);
    out.push({
      type: "ipv4",
      src: ipv4ToString(b, a + 12),
      dst: ipv4ToString(b, a + 16),
      protocol: b[a + 9],
      ttl: b[a + 8],
      id: u16(b, a + 4),
      df: (ff & 0x4000) !== 0,
      mf: (ff & 0x2000) !== 0,
      frag_offset: (ff & 0x1fff) * 8,
      header_len: (b[a] & 0x0f) * 4,
      total_length: u16(b, a + 2),
    });
  } else if (l.ipVersion === 6) {
    out.push({
      type: "ipv6",
      src: ipv6ToString(b, a + 8),
      dst: ipv6ToString(b, a + 24),
      next_header: b[a + 6],
      hop_limit: b[a + 7],
      flow_label: ((b[a + 1] & 0x0f) << 16) | u16(b, a + 2),
      payload_length: u16(b, a + 4),
      ext_headers: extChain(b, a, l.ipEnd),
    });
  } else return;
  if (l.l4 >= 0) l4(b, l, out, quoted);
}

/** Next-header values of the extension headers in order (the parser checked the chain). */
function extChain(b: Uint8Array, off: number, end: number): number[] {
  const chain: number[] = [];
  let nh = b[off + 6], at = off + 40;
  while (isIpv6Extension(nh) && end - at >= 8 && chain.length < 8) {
    chain.push(nh);
    const len = nh === 44 ? 8 : nh === 51 ? (b[at + 1] + 2) * 4 : (b[at + 1] + 1) * 8;
    nh = b[at];
    at += len;
  }
  return chain;
}

function l4(b: Uint8Array, l: HeaderLevel, out: Layer[], quoted: boolean): void {
  const t = l.l4;
  switch (l.proto) {
    case PROTO_TCP: {
      // A datagram quoted in an ICMP error may keep only the first 8 bytes of TCP.
      if (l.ipEnd - t < 20) {
        out.push({ type: "tcp", src_port: l.srcPort, dst_port: l.dstPort });
        return;
      }
      const layer: Layer = {
        type: "tcp",
        src_port: l.srcPort,
        dst_port: l.dstPort,
        seq: u32(b, t + 4),
        ack: u32(b, t + 8),
        flags: b[t + 13],
        window: u16(b, t + 14),
      };
      const mss = tcpMss(b, t + 20, Math.min(t + (b[t + 12] >>> 4) * 4, l.ipEnd));
      if (mss >= 0) layer.mss = mss;
      out.push(layer);
      return;
    }
    case PROTO_UDP: {
      if (l.ipEnd - t < 8) return;
      const len = u16(b, t + 4);
      out.push({
        type: "udp",
        src_port: l.srcPort,
        dst_port: l.dstPort,
        length: len,
        checksum: u16(b, t + 6),
      });
      const end = Math.min(t + len, l.ipEnd);
      const ports = (x: number, y: number) =>
        (l.srcPort === x && l.dstPort === y) || (l.srcPort === y && l.dstPort === x);
      if (ports(DHCP_CLIENT_PORT, DHCP_SERVER_PORT)) out.push(dhcp(b, l.payload, end));
      else if (ports(DHCPV6_CLIENT_PORT, DHCPV6_SERVER_PORT)) out.push(dhcpv6(b, l.payload, end));
      return;
    }
    case PROTO_ICMP:
    case PROTO_ICMPV6:
      out.push(icmp(b, l, quoted));
  }
}

function tcpMss(b: Uint8Array, from: number, end: number): number {
  for (let at = from; at < end;) {
    const k = b[at];
    if (k === 0) return -1;
    if (k === 1) {
      at++;
      continue;
    }
    if (end - at < 2 || b[at + 1] < 2 || at + b[at + 1] > end) return -1;
    if (k === 2 && b[at + 1] === 4) return u16(b, at + 2);
    at += b[at + 1];
  }
  return -1;
}

function icmp(b: Uint8Array, l: HeaderLevel, quoted: boolean): Layer {
  const t = l.l4, type = b[t], v6 = l.proto === PROTO_ICMPV6;
  const layer: Layer = { type: v6 ? "icmpv6" : "icmp", icmp_type: type, code: b[t + 1] };
  const echo = v6 ? type === 128 || type === 129 : type === 0 || type === 8;
  const error = v6 ? type < 128 : type === 3 || type === 11 || type === 12 || type === 5;
  if (echo) {
    layer.id = u16(b, t + 4);
    layer.seq = u16(b, t + 6);
  } else if (v6 && type === 2) layer.mtu = u32(b, t + 4);
  else if (!v6 && type === 3 && b[t + 1] === 4) layer.mtu = u16(b, t + 6);
  if (v6 && type >= 133 && type <= 137 && l.ipEnd - t >= icmpv6HeaderLen(type)) ndp(b, l, layer);
  // One level of quoting: an error about an error is not sent (RFC 1122, RFC 4443).
  if (error && !quoted) {
    const inner = new HeaderLevel();
    const embedded: Layer[] = [];
    if (parseIpLevel(b, l.payload, l.ipEnd, inner, true) === null) ip(b, inner, embedded, true);
    layer.embedded = embedded;
  }
  return layer;
}

function ndp(b: Uint8Array, l: HeaderLevel, layer: Layer): void {
  const t = l.l4, type = b[t];
  if (type === 134) {
    layer.cur_hop_limit = b[t + 4];
    layer.managed = (b[t + 5] & 0x80) !== 0;
    layer.other = (b[t + 5] & 0x40) !== 0;
    layer.router_lifetime = u16(b, t + 6);
    layer.reachable_time = u32(b, t + 8);
    layer.retrans_timer = u32(b, t + 12);
  } else if (type >= 135) {
    layer.target = ipv6ToString(b, t + 8);
    if (type === 136) {
      layer.router = (b[t + 4] & 0x80) !== 0;
      layer.solicited = (b[t + 4] & 0x40) !== 0;
      layer.override = (b[t + 4] & 0x20) !== 0;
    }
  }
  const opts: Record<string, unknown>[] = [];
  for (let at = l.payload; l.ipEnd - at >= 2 && b[at + 1] > 0;) {
    const len = b[at + 1] * 8, ot = b[at];
    if (at + len > l.ipEnd) break;
    const o: Record<string, unknown> = { type: ot };
    if ((ot === 1 || ot === 2) && len >= 8) o.mac = macToString(b, at + 2);
    else if (ot === 3 && len === 32) {
      o.prefix_len = b[at + 2];
      o.on_link = (b[at + 3] & 0x80) !== 0;
      o.autonomous = (b[at + 3] & 0x40) !== 0;
      o.valid_lifetime = u32(b, at + 4);
      o.preferred_lifetime = u32(b, at + 8);
      o.prefix = ipv6ToString(b, at + 16);
    } else if (ot === 5 && len === 8) o.mtu = u32(b, at + 4);
    else if (ot === 25 && len >= 24) {
      o.lifetime = u32(b, at + 4);
      const servers: string[] = [];
      for (let s = at + 8; s + 16 <= at + len; s += 16) servers.push(ipv6ToString(b, s));
      o.servers = servers;
    }
    opts.push(o);
    at += len;
  }
  layer.options = opts;
}

const v4s = (a: Uint8Array) => ipv4ToString(a);

function dhcp(b: Uint8Array, off: number, end: number): Layer {
  const v = parseDhcp(b, off, end);
  const r = isParseError(v) ? v : dhcpReprParse(v);
  if (isParseError(r)) return { type: "dhcp", error: `${r.kind} ${r.at} at byte ${r.offset}` };
  return dhcpLayer(r);
}

/** The JSON form of a DHCPv4 message (exported for tests and the admin capture view). */
export function dhcpLayer(r: DhcpRepr): Layer {
  const o: Layer = {
    type: "dhcp",
    op: r.op,
    xid: r.xid,
    secs: r.secs,
    flags: r.flags,
    ciaddr: v4s(r.ciaddr!),
    yiaddr: v4s(r.yiaddr!),
    siaddr: v4s(r.siaddr!),
    giaddr: v4s(r.giaddr!),
    chaddr: r.chaddr.length === 6 ? macToString(r.chaddr) : toHex(r.chaddr),
  };
  if (r.messageType !== undefined) o.message_type = r.messageType;
  if (r.serverId) o.server_id = v4s(r.serverId);
  if (r.requestedIp) o.requested_ip = v4s(r.requestedIp);
  if (r.leaseTime !== undefined) o.lease_time = r.leaseTime;
  if (r.renewalTime !== undefined) o.t1 = r.renewalTime;
  if (r.rebindingTime !== undefined) o.t2 = r.rebindingTime;
  if (r.subnetMask) o.subnet_mask = v4s(r.subnetMask);
  if (r.routers) o.routers = r.routers.map(v4s);
  if (r.dnsServers) o.dns_servers = r.dnsServers.map(v4s);
  if (r.hostname !== undefined) o.hostname = r.hostname;
  if (r.domainName !== undefined) o.domain_name = r.domainName;
  if (r.domainSearch) o.domain_search = r.domainSearch;
  if (r.classlessRoutes) {
    o.classless_routes = r.classlessRoutes.map((x) =>
      `${v4s(x.dest)}/${x.prefixLen} via ${v4s(x.router)}`
    );
  }
  if (r.mtu !== undefined) o.mtu = r.mtu;
  if (r.parameterRequestList) o.parameter_request_list = r.parameterRequestList;
  if (r.clientId) o.client_id = toHex(r.clientId);
  if (r.other) o.other = r.other.map((x) => ({ code: x.code, data: toHex(x.data) }));
  return o;
}

function dhcpv6(b: Uint8Array, off: number, end: number): Layer {
  const v = parseDhcpv6(b, off, end);
  const r = isParseError(v) ? v : dhcpv6ReprParse(v);
  if (isParseError(r)) return { type: "dhcpv6", error: `${r.kind} ${r.at} at byte ${r.offset}` };
  return dhcpv6Layer(r);
}

function duid(code: number, name: string, d: Uint8Array): Record<string, unknown> {
  const mac = duidMac(d);
  return mac
    ? { code, name, duid: toHex(d), mac: macToString(mac) }
    : { code, name, duid: toHex(d) };
}

/** The JSON form of a DHCPv6 message: options in a list, each with its code and name. */
export function dhcpv6Layer(r: Dhcpv6Repr): Layer {
  const opts: Record<string, unknown>[] = [];
  if (r.clientId) opts.push(duid(1, "client_id", r.clientId));
  if (r.serverId) opts.push(duid(2, "server_id", r.serverId));
  for (const ia of r.iaNa ?? []) {
    opts.push({
      code: 3,
      name: "ia_na",
      iaid: ia.iaid,
      t1: ia.t1,
      t2: ia.t2,
      addresses: ia.addresses.map((a) => ({
        addr: ipv6ToString(a.addr),
        preferred_lifetime: a.preferredLifetime,
        valid_lifetime: a.validLifetime,
        ...(a.status ? { status: a.status } : {}),
      })),
      ...(ia.status ? { status: ia.status } : {}),
    });
  }
  if (r.oro) opts.push({ code: 6, name: "oro", requested: r.oro });
  if (r.preference !== undefined) opts.push({ code: 7, name: "preference", value: r.preference });
  if (r.elapsedTime !== undefined) {
    opts.push({ code: 8, name: "elapsed_time", value: r.elapsedTime });
  }
  if (r.status) opts.push({ code: 13, name: "status_code", status: r.status });
  if (r.rapidCommit) opts.push({ code: 14, name: "rapid_commit" });
  if (r.dnsServers) {
    opts.push({ code: 23, name: "dns_servers", servers: r.dnsServers.map((a) => ipv6ToString(a)) });
  }
  if (r.domainList) opts.push({ code: 24, name: "domain_list", domains: r.domainList });
  for (const x of r.other ?? []) opts.push({ code: x.code, data: toHex(x.data) });
  return {
    type: "dhcpv6",
    msg_type: r.msgType,
    transaction_id: r.transactionId,
    options: opts,
  };
}
