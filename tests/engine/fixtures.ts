// Pipelines shared by the benchmark and the allocation check: a VPC-shaped port (five layers,
// stateful firewall, Geneve-like push on the way out and pop on the way in) and helpers to
// replay one frame many times without re-parsing.

import { buildFrame, type LayerSpec } from "../../lib/packet/build.ts";
import { PacketMeta } from "../../lib/packet/meta.ts";
import { HEADROOM } from "../../lib/link/link.ts";
import { parseMac } from "../../lib/packet/bytes.ts";
import { A, Layer, loadPacket, Packet, Port, type RuleSpec } from "../../lib/engine/mod.ts";

/** Outer Ethernet/IPv6/UDP(checksum 0)/Geneve header bytes for the push transform. */
export function geneveHeader(vni: number): Uint8Array {
  return buildFrame([
    { type: "ethernet", src: "a8:40:25:00:00:aa", dst: "a8:40:25:00:00:bb" },
    { type: "ipv6", src: "fd00:1::1", dst: "fd00:2::1", hopLimit: 64 },
    { type: "udp", srcPort: 0x8123, dstPort: 6081, checksum: "zero" },
    { type: "geneve", vni, options: [{ class: 0x0129, type: 0, data: new Uint8Array(0) }] },
  ]);
}

/**
 * A five-layer port (gateway, firewall, router, nat, overlay) on a fixed clock; `aclRules` go
 * into the gateway layer (the first one outbound).
 */
export function vpcLikePort(aclRules: RuleSpec[] = [], limits = 8192): Port {
  const innerDst = parseMac("a8:40:25:00:00:02")!;
  const hdr = geneveHeader(10);
  const layers = [
    new Layer({ name: "gateway", rules: { out: aclRules } }),
    new Layer({
      name: "firewall",
      defaults: { in: "deny", out: "statefulAllow" },
      lftLimit: limits,
    }),
    new Layer({ name: "router" }),
    new Layer({ name: "nat" }),
    new Layer({
      name: "overlay",
      rules: {
        out: [{
          priority: 1,
          action: A.transform({
            name: "encap",
            innerEther: { dst: innerDst },
            outer: { op: "push", bytes: hdr },
          }),
        }],
        in: [{ priority: 1, action: A.transform({ name: "decap", outer: { op: "pop" } }) }],
      },
    }),
  ];
  const t = 1000;
  const port = new Port({
    name: "bench",
    layers,
    clock: () => t,
    uftLimit: limits,
    tcpLimit: limits,
  });
  port.start();
  return port;
}

/** A guest UDP frame with `payload` bytes. */
export function guestUdp(payload: number, sport = 40000): LayerSpec[] {
  return [
    { type: "ethernet", src: "a8:40:25:00:00:01", dst: "a8:40:25:ff:77:77" },
    { type: "ipv4", src: "10.0.0.5", dst: "10.0.0.6" },
    { type: "udp", srcPort: sport, dstPort: 443 },
    { type: "payload", data: new Uint8Array(payload) },
  ];
}

/** A guest TCP SYN (opens a connection the engine tracks). */
export function guestTcpSyn(sport = 40000): LayerSpec[] {
  return [
    { type: "ethernet", src: "a8:40:25:00:00:01", dst: "a8:40:25:ff:77:77" },
    { type: "ipv4", src: "10.0.0.5", dst: "10.0.0.6" },
    { type: "tcp", srcPort: sport, dstPort: 443, flags: "S", seq: 1000, ack: 0 },
  ];
}

/** The reply to `guestUdp`, Geneve-encapsulated as it arrives from the underlay. */
export function underlayReply(payload: number): LayerSpec[] {
  return [
    { type: "ethernet", src: "a8:40:25:00:00:bb", dst: "a8:40:25:00:00:aa" },
    { type: "ipv6", src: "fd00:2::1", dst: "fd00:1::1" },
    { type: "udp", srcPort: 5555, dstPort: 6081, checksum: "zero" },
    { type: "geneve", vni: 10 },
    { type: "ethernet", src: "a8:40:25:00:00:02", dst: "a8:40:25:00:00:01" },
    { type: "ipv4", src: "10.0.0.6", dst: "10.0.0.5" },
    { type: "udp", srcPort: 443, dstPort: 40000 },
    { type: "payload", data: new Uint8Array(payload) },
  ];
}

/** One frame loaded once; `rewind()` restores offsets and meta (the bytes from `off` on are untouched by push/pop). */
export class Replay {
  readonly pkt = new Packet();
  private readonly saved = new PacketMeta();
  private readonly off: number;
  private readonly len: number;

  constructor(specs: LayerSpec[]) {
    const f = buildFrame(specs);
    const buf = new Uint8Array(HEADROOM + f.length);
    buf.set(f, HEADROOM);
    const err = loadPacket(this.pkt, buf, HEADROOM, f.length);
    if (err) throw new Error(JSON.stringify(err));
    copyMeta(this.saved, this.pkt.meta);
    this.off = HEADROOM;
    this.len = f.length;
  }

  /** Puts the packet back as it was loaded. Allocates nothing. */
  rewind(): Packet {
    const p = this.pkt;
    p.off = this.off;
    p.len = this.len;
    copyMeta(p.meta, this.saved);
    return p;
  }
}

function copyMeta(to: PacketMeta, from: PacketMeta): void {
  to.start = from.start;
  to.len = from.len;
  to.outer.copyFrom(from.outer);
  to.inner.copyFrom(from.inner);
  to.encap = from.encap;
  to.geneve = from.geneve;
  to.vni = from.vni;
  to.geneveOptLen = from.geneveOptLen;
  to.oxideOpts = from.oxideOpts;
  to.oxideMss = from.oxideMss;
  to.oxideReplication = from.oxideReplication;
  to.geneveUnknownCritical = from.geneveUnknownCritical;
  to.geneveOam = from.geneveOam;
}

/**
 * Rewinds `r` and rewrites its IPv4 source to 10.0.0.0 + 1 + `i` (i < 2^24): flow number `i` of
 * a large flow set, without building a frame per flow. The header checksum is left stale; the
 * engine never re-verifies a parsed frame.
 */
export function nthFlow(r: Replay, i: number): Packet {
  const p = r.rewind();
  const o = p.meta.flow.l3 + 12, a = i + 1;
  p.buf[o] = 10;
  p.buf[o + 1] = (a >> 16) & 255;
  p.buf[o + 2] = (a >> 8) & 255;
  p.buf[o + 3] = a & 255;
  return p;
}
