// Shared test helpers: frames built by lib/packet/build.ts in a buffer with headroom, a manual
// clock, and checks that re-parse emitted bytes and verify every checksum.
import assert from "node:assert/strict";
import { buildFrame, type LayerSpec } from "../../lib/packet/build.ts";
import { HEADROOM } from "../../lib/link/link.ts";
import { PacketMeta } from "../../lib/packet/meta.ts";
import { parseFrame } from "../../lib/packet/parse.ts";
import { verifyIpv4Header, verifyL4Checksum } from "../../lib/packet/checksum.ts";
import { FlowId } from "../../lib/packet/flow.ts";
import { flowOfLevel, loadPacket, Packet } from "../../lib/engine/packet.ts";
import { reason } from "../../lib/engine/reason.ts";
import {
  A,
  type ActionDesc,
  DIR_OUT,
  type HeaderTransform,
  Layer,
  Port,
  type PortConfig,
} from "../../lib/engine/mod.ts";
import { parseIp } from "../../lib/packet/bytes.ts";

const SNAT_EXHAUSTED = reason("snat exhausted");

export const MAC_GUEST = "a8:40:25:00:00:01";
export const MAC_GW = "a8:40:25:ff:77:77";

/** A manual monotonic clock. */
export class Clock {
  t = 1000;
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

/** Splits "10.0.0.5:40000" / "[fd00::1]:80". */
export function hostPort(s: string): [string, number] {
  const m = /^\[(.+)\]:(\d+)$/.exec(s) ?? /^([^:]+):(\d+)$/.exec(s);
  if (!m) throw new Error(`bad host:port ${s}`);
  return [m[1], Number(m[2])];
}

function ipSpec(src: string, dst: string): LayerSpec {
  return src.includes(":") ? { type: "ipv6", src, dst } : { type: "ipv4", src, dst };
}

/** Layers of an Ethernet/IP/TCP frame. */
export function tcpSpecs(
  src: string,
  dst: string,
  flags: string,
  o: { seq?: number; ack?: number; data?: number; macSrc?: string; macDst?: string } = {},
): LayerSpec[] {
  const [sa, sp] = hostPort(src), [da, dp] = hostPort(dst);
  const specs: LayerSpec[] = [
    { type: "ethernet", src: o.macSrc ?? MAC_GUEST, dst: o.macDst ?? MAC_GW },
    ipSpec(sa, da),
    { type: "tcp", srcPort: sp, dstPort: dp, flags, seq: o.seq ?? 1000, ack: o.ack ?? 0 },
  ];
  if (o.data) specs.push({ type: "payload", data: new Uint8Array(o.data).fill(0x61) });
  return specs;
}

/** Layers of an Ethernet/IP/UDP frame. */
export function udpSpecs(src: string, dst: string, data = 16): LayerSpec[] {
  const [sa, sp] = hostPort(src), [da, dp] = hostPort(dst);
  return [
    { type: "ethernet", src: MAC_GUEST, dst: MAC_GW },
    ipSpec(sa, da),
    { type: "udp", srcPort: sp, dstPort: dp },
    { type: "payload", data: new Uint8Array(data).fill(7) },
  ];
}

/** A packet holding the built frame after HEADROOM bytes, parsed. */
export function pkt(specs: LayerSpec[] | Uint8Array, into = new Packet()): Packet {
  const f = specs instanceof Uint8Array ? specs : buildFrame(specs);
  const buf = new Uint8Array(HEADROOM + f.length + 64);
  buf.set(f, HEADROOM);
  const err = loadPacket(into, buf, HEADROOM, f.length);
  if (err) throw new Error(`test frame does not parse: ${JSON.stringify(err)}`);
  return into;
}

/** TCP packet shorthand. */
export function tcp(
  src: string,
  dst: string,
  flags: string,
  o: Parameters<typeof tcpSpecs>[3] = {},
) {
  return pkt(tcpSpecs(src, dst, flags, o));
}

/** UDP packet shorthand. */
export function udp(src: string, dst: string, data = 16): Packet {
  return pkt(udpSpecs(src, dst, data));
}

/** Re-parses the packet's current bytes from scratch and checks meta agrees and checksums hold. */
export function reparse(p: Packet): PacketMeta {
  const bytes = p.bytes();
  const m = new PacketMeta();
  const err = parseFrame(bytes, 0, bytes.length, m);
  assert.equal(err, null, `emitted frame does not parse: ${JSON.stringify(err)}`);
  for (const lv of m.encap ? [m.outer, m.inner] : [m.outer]) {
    if (lv.ipVersion === 4) assert.ok(verifyIpv4Header(bytes, lv.l3), "IPv4 header checksum");
    if (lv.ipVersion !== 0) assert.ok(verifyL4Checksum(bytes, lv, true), "L4 checksum");
  }
  // The engine's meta must describe the same frame as a fresh parse.
  const a = p.meta, s = p.off;
  assert.equal(a.encap, m.encap);
  for (const [x, y] of a.encap ? [[a.outer, m.outer], [a.inner, m.inner]] : [[a.outer, m.outer]]) {
    assert.equal(x.l3 - s, y.l3);
    assert.equal(x.l4 - s, y.l4);
    assert.equal(x.ipVersion, y.ipVersion);
    assert.equal(x.proto, y.proto);
    assert.equal(x.srcPort, y.srcPort);
    assert.equal(x.dstPort, y.dstPort);
  }
  return m;
}

/** The flow of the packet's client frame as text ("TCP 10.0.0.5:40000 -> 8.8.8.8:443"). */
export function flowText(p: Packet): string {
  const f = new FlowId();
  assert.ok(flowOfLevel(p.buf, p.meta.flow, f));
  return f.toString();
}

/** A started port with a manual clock. */
export function mkPort(
  layers: Layer[],
  cfg: Partial<PortConfig> = {},
): { port: Port; clock: Clock } {
  const clock = new Clock();
  const port = new Port({ name: "p0", layers, clock: clock.now, ...cfg });
  port.start();
  return { port, clock };
}

/** A port pool for the NAT-like stateful action used across tests. */
export class PortPool {
  readonly free: number[];
  released: number[] = [];
  constructor(lo: number, n: number) {
    this.free = Array.from({ length: n }, (_, i) => lo + i);
  }
  alloc(): number {
    return this.free.shift() ?? -1;
  }
  release(p: number): void {
    this.released.push(p);
    this.free.push(p);
  }
}

/** A SNAT-like layer: outbound flows get `extIp` and a pool port; replies are translated back. */
export function snatLayer(pool: PortPool, extIp: string, name = "nat"): Layer {
  const ext = parseIp(extIp)!;
  return new Layer({
    name,
    rules: {
      out: [{
        priority: 10,
        name: "snat",
        action: A.stateful("snat", ({ pkt }) => {
          const lv = pkt.meta.flow;
          const alen = lv.ipVersion === 4 ? 4 : 16;
          const guestIp = pkt.buf.slice(
            lv.l3 + (alen === 4 ? 12 : 8),
            lv.l3 + (alen === 4 ? 16 : 24),
          );
          const guestPort = lv.srcPort;
          const port = pool.alloc();
          if (port < 0) return { deny: SNAT_EXHAUSTED };
          const desc: ActionDesc = {
            name: `snat ${port}`,
            transform: (dir): HeaderTransform =>
              dir === DIR_OUT
                ? { name: "snat", innerIp: { src: ext }, innerUlp: { srcPort: port } }
                : { name: "unsnat", innerIp: { dst: guestIp }, innerUlp: { dstPort: guestPort } },
            release: () => pool.release(port),
          };
          return desc;
        }),
      }],
    },
  });
}
