// The fixtures of upstream OPTE's integration tests (opte-test-utils: g1_cfg, g2_cfg and the
// http_* segments), rebuilt for xdeno's scenario harness so the tests named after upstream's
// can state upstream's expectations: field values, drop locations, flow-table contents.

import type { LayerSpec } from "../../lib/packet/build.ts";
import { oxideExternalOption } from "../../lib/packet/geneve.ts";
import type { VpcPortConfig } from "../../lib/vpc/config.ts";
import type { VpcPort } from "../../lib/vpc/vpc_port.ts";
import { geneveFrame, GW_MAC, innerOf, Scenario } from "./harness.ts";

/** Upstream's g1: 172.30.0.5 in 172.30.0.0/22, SNAT 10.77.77.13 ports 1025-4096. */
export const G1 = {
  mac: "a8:40:25:fa:fa:37",
  ip: "172.30.0.5",
  ip6: "fd00::5",
  underlay: "fd00:0:f7:101::1",
  snat: "10.77.77.13",
  snat6: "2001:db8::1",
};
/** Upstream's g2: 172.30.0.6 on another sled of the same VPC. */
export const G2 = {
  mac: "a8:40:25:f0:00:66",
  ip: "172.30.0.6",
  ip6: "fd00::6",
  underlay: "fd00:0:f7:116::1",
  snat: "10.77.77.23",
  snat6: "2001:db8::2",
};
export const VNI = 1287581;
export const BS_UNDERLAY = "fd00:99::1";
export const BS_MAC = "a8:40:25:77:77:77";
/** The web server of upstream's HTTP tests ("zinascii.com"). */
export const WEB = "52.10.128.69";

type Guest = typeof G1;

/** A scenario with g1 and g2 in V2P and boundary services for the internet. */
export function lab(): Scenario {
  const s = new Scenario();
  s.mappings.v2p.set(VNI, G1.ip, G1.mac, G1.underlay);
  s.mappings.v2p.set(VNI, G2.ip, G2.mac, G2.underlay);
  s.mappings.v2b.set("0.0.0.0/0", [{ ip: BS_UNDERLAY }]);
  s.mappings.v2b.set("::/0", [{ ip: BS_UNDERLAY }]);
  return s;
}

/** A port configured as upstream's g1/g2 (dual stack, SNAT as upstream, default firewall). */
export function guestPort(
  s: Scenario,
  g: Guest,
  opts: {
    lftLimit?: number;
    uftLimit?: number;
    tcpLimit?: number;
    ext4?: object;
    ext6?: object;
    firewall?: VpcPortConfig["firewall"];
  } = {},
): VpcPort {
  const v4ports = g === G1 ? "1025-4096" : "4097-8192";
  const v6ports = g === G1 ? "4097-8192" : "1025-4096";
  return s.port({
    name: g === G1 ? "g1" : "g2",
    vni: VNI,
    guestMac: g.mac,
    underlay: g.underlay,
    lftLimit: opts.lftLimit,
    uftLimit: opts.uftLimit,
    tcpLimit: opts.tcpLimit,
    firewall: opts.firewall,
    v4: {
      privateIp: g.ip,
      subnet: "172.30.0.0/22",
      external: opts.ext4 ?? { snat: { ip: g.snat, ports: v4ports } },
    },
    v6: {
      privateIp: g.ip6,
      subnet: "fd00::/64",
      external: opts.ext6 ?? { snat: { ip: g.snat6, ports: v6ports } },
    },
  });
}

const SEQ_C = 2382112979, SEQ_S = 44161351;
const GET = "GET / HTTP/1.1\r\n\r\n"; // 18 bytes
const MOVED = "HTTP/1.1 301 Moved Permanently\r\n\r\n"; // 34 bytes

/** Upstream's HTTP segments: [flags, seq, ack, body] for each step of the connection. */
export const HTTP = {
  syn: ["S", SEQ_C, 0, ""],
  synAck: ["SA", SEQ_S, SEQ_C + 1, ""],
  ack: ["A", SEQ_C + 1, SEQ_S + 1, ""],
  get: ["PA", SEQ_C + 1, SEQ_S + 1, GET],
  getAck: ["A", SEQ_S + 2, SEQ_C + 19, ""],
  reply301: ["PA", SEQ_S + 2, SEQ_C + 19, MOVED],
  ack301: ["A", SEQ_C + 19, SEQ_S + 36, ""],
  clientFin: ["FA", SEQ_C + 19, SEQ_S + 36, ""],
  serverAckFin: ["A", SEQ_S + 36, SEQ_C + 20, ""],
  serverFin: ["FA", SEQ_S + 36, SEQ_C + 20, ""],
  clientAckFin: ["A", SEQ_C + 19, SEQ_S + 37, ""],
} as const;
export type HttpStep = keyof typeof HTTP;

/** One HTTP segment as IPv4 layers from `src:sport` to `dst:dport` between two MACs. */
export function http(
  step: HttpStep,
  e: { src: string; dst: string; sport: number; dport: number },
  smac: string,
  dmac: string,
): LayerSpec[] {
  const [flags, seq, ack, body] = HTTP[step];
  const l: LayerSpec[] = [
    { type: "ethernet", src: smac, dst: dmac },
    { type: "ipv4", src: e.src, dst: e.dst },
    { type: "tcp", srcPort: e.sport, dstPort: e.dport, flags, seq: seq >>> 0, ack: ack >>> 0 },
  ];
  if (body) l.push({ type: "payload", data: body });
  return l;
}

/** The client port of upstream's HTTP flows. */
export const CLIENT_PORT = 44490;

/** g sends an HTTP segment of its connection to `dst:80`. */
export function fromGuest(g: Guest, step: HttpStep, dst: string): LayerSpec[] {
  return http(step, { src: g.ip, dst, sport: CLIENT_PORT, dport: 80 }, g.mac, GW_MAC);
}

/** The web server's segment to g's SNAT address and port, as boundary services delivers it. */
export function fromWeb(g: Guest, step: HttpStep, snatPort: number): Uint8Array {
  const inner = http(step, { src: WEB, dst: g.snat, sport: 80, dport: snatPort }, BS_MAC, g.mac);
  return geneveFrame(BS_UNDERLAY, g.underlay, VNI, inner, [oxideExternalOption()]);
}

/** The TCP state of the port's only tracked flow (undefined when none). */
export function tcpState(p: VpcPort): string | undefined {
  const rows = p.port.dumpTcp() as { state: string }[];
  return rows.length === 0 ? undefined : rows[0].state;
}

/** Flow-table occupancy as upstream's counters name it: uft.in/out, <layer>.flows. */
export function flows(p: VpcPort): Record<string, number> {
  const e = p.port;
  const out: Record<string, number> = { "uft.out": e.uft[0].size, "uft.in": e.uft[1].size };
  for (const l of e.layers) if (l.pairCount > 0) out[`${l.name}.flows`] = l.pairCount;
  return out;
}

/** The inner TCP/UDP source port of an encapsulated IPv4 frame. */
export function innerSrcPort(frame: Uint8Array): number {
  const inner = innerOf(frame);
  return (inner[34] << 8) | inner[35];
}
