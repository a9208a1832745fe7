// A small but real pipeline on the engine for the switch's overlay tests, until lib/vpc offers
// vpcPort(): ARP for the gateway is hairpinned, outbound IP is encapsulated in Geneve towards
// the V2P (VNI, inner IP) → (MAC, sled) entry (or a boundary endpoint for anything else when
// one is set), inbound Geneve is decapsulated.

import { A, Layer, Port, reason } from "../../lib/engine/mod.ts";
import { geneveOuterBytes } from "../../lib/vpc/geneve_outer.ts";
import { ipv4ToString, parseIp, parseMac } from "../../lib/packet/bytes.ts";
import { buildFrame } from "../../lib/packet/build.ts";

const NOT_FOR_GATEWAY = reason("arp not for gateway");
const NO_V2P = reason("no v2p");

export const GW_IP4 = "172.30.0.1";
export const BOUNDARY_MAC = "a8:40:25:77:77:77";

/** A V2P entry: guest IP → its MAC and sled. */
export interface V2p {
  mac: string;
  sled: string;
}

/** Builds and starts the pipeline of one guest. */
export function miniVpc(o: {
  name: string;
  mac: string;
  vni: number;
  sled: string;
  v2p: Map<string, V2p>;
  boundary?: { ip: string; vni: number };
  clock?: () => number;
  /** Towards peers in the V2P, add Oxide's MSS option (an xdeno peer, as lib/vpc does). */
  mss?: boolean;
}): Port {
  const sled = parseIp(o.sled)!;
  const gateway = new Layer({
    name: "gateway",
    rules: {
      out: [{
        priority: 1,
        predicates: [{ kind: "etherType", values: [0x0806] }],
        action: A.hairpin("arp", ({ pkt }) => {
          const b = pkt.buf, l3 = pkt.meta.outer.l3;
          if (ipv4ToString(b, l3 + 24) !== GW_IP4) return { deny: NOT_FOR_GATEWAY };
          return buildFrame([
            { type: "ethernet", src: "a8:40:25:ff:77:77", dst: o.mac },
            {
              type: "arp",
              op: "reply",
              senderMac: "a8:40:25:ff:77:77",
              senderIp: GW_IP4,
              targetMac: o.mac,
              targetIp: ipv4ToString(b, l3 + 14),
            },
          ]);
        }),
      }],
    },
  });
  const overlay = new Layer({
    name: "overlay",
    rules: {
      out: [{
        priority: 10,
        action: {
          kind: "static",
          name: "encap",
          gen: ({ flow }) => {
            const peer = o.v2p.get(flow.dstString());
            const to = peer ?? (o.boundary && { mac: BOUNDARY_MAC, sled: o.boundary.ip });
            if (!to) return { deny: NO_V2P };
            return {
              name: `encap ${to.sled}`,
              innerEther: { dst: parseMac(to.mac)! },
              outer: {
                op: "push",
                bytes: geneveOuterBytes({
                  src: sled,
                  dst: parseIp(to.sled)!,
                  vni: peer ? o.vni : o.boundary!.vni,
                  flowHash: flow.hash(),
                  mss: peer && o.mss ? 0 : undefined,
                }),
              },
            };
          },
        },
      }],
      in: [{ priority: 10, action: A.transform({ name: "decap", outer: { op: "pop" } }) }],
    },
  });
  const port = new Port({ name: o.name, layers: [gateway, overlay], clock: o.clock });
  port.start();
  return port;
}
