// The frame builder for tests and hairpin replies: a list of tagged layer specs, addresses as
// text, everything derivable (EtherTypes, protocol numbers, lengths, checksums) filled in
// unless a spec overrides it, so deliberately broken frames are as easy as good ones.
// Not for the fast path: it allocates. A bad spec (unparsable address) throws.

import { setU16 } from "./bytes.ts";
import { ip4, ip6, type LayerSpec, mac } from "./build_spec.ts";
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
import { emitEthernet } from "./ethernet.ts";
import { ARP_REPLY, ARP_REQUEST, emitArp } from "./arp.ts";
import { emitIpv4 } from "./ipv4.ts";
import { emitIpv6, emitIpv6Ext, IPV6_HEADER_LEN } from "./ipv6.ts";
import { emitTcp, parseTcpFlags } from "./tcp.ts";
import { emitUdp } from "./udp.ts";
import { emitIcmpv4 } from "./icmpv4.ts";
import { emitIcmpv6 } from "./icmpv6.ts";
import { emitNdp } from "./ndp.ts";
import { emitGeneve, GENEVE_PORT } from "./geneve.ts";

export * from "./build_spec.ts";
import {
  EXT_NUMBERS,
  extRepr,
  headerLen,
  ICMP4_KINDS,
  ICMP6_KINDS,
  ndpRepr,
  payloadBytes,
  protoOf,
} from "./build_repr.ts";

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
