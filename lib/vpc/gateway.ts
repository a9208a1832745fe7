// The gateway layer: the guest's virtual router. Outbound it answers ARP, ICMP echo, DHCP,
// DHCPv6 and NDP addressed to it (hairpins), drops every other NDP message, and lets through
// only frames from the guest's MAC and addresses (anti-spoof). Inbound it delivers only to the
// guest's addresses, with the source MAC rewritten to the gateway's.

import { ipToString, macToString } from "../packet/bytes.ts";
import { A, type Action, type ActionCtx, type RuleSpec } from "../engine/rule.ts";
import type { Predicate } from "../engine/predicate.ts";
import { Layer } from "../engine/layer.ts";
import type { HeaderTransform } from "../engine/transform.ts";
import {
  arpReply,
  dhcpReply,
  dhcpv6Reply,
  type GatewayIdentity,
  icmpEchoReply,
  icmpv6EchoReply,
  neighborAdvert,
  routerAdvert,
} from "./hairpin.ts";
import type { ResolvedConfig } from "./config.ts";
import type { V2P } from "./mappings.ts";
import { reason } from "../engine/reason.ts";

/** Action-metadata key carrying the VNI of the remote side (read by firewall VNI filters). */
export const META_VNI = "vni";

// The text of the last VNI tagged: a port's new flows nearly all carry the same one.
let lastVni = -1, lastVniText = "";

/** The VNI as the `vni` metadata text, without formatting it again for a repeated VNI. */
export function vniText(vni: number): string {
  if (vni !== lastVni) lastVni = vni, lastVniText = String(vni);
  return lastVniText;
}

/** Drop reasons of this layer (counter keys). */
export const DROP_SPOOF = reason("anti-spoof");
export const DROP_NDP = reason("ndp filtered");
export const DROP_HAIRPIN = reason("not for the gateway");
export const DROP_MULTICAST = reason("broadcast/multicast");

type Reply = (
  buf: Uint8Array,
  lv: ActionCtx["pkt"]["meta"]["outer"],
  gw: GatewayIdentity,
) => Uint8Array | null;

function hairpin(name: string, gw: GatewayIdentity, f: Reply): Action {
  return A.hairpin(name, (ctx) => f(ctx.pkt.buf, ctx.pkt.meta.flow, gw) ?? { deny: DROP_HAIRPIN });
}

const NDP_TYPES = [133, 134, 135, 136, 137];

/** The gateway layer's rules for a port. */
export function gatewayRules(
  cfg: ResolvedConfig,
  gw: GatewayIdentity,
  vni: number,
  /** Prefixes per family the guest may also send from (attached subnets, transit IPs). */
  attached: { v4: readonly string[]; v6: readonly string[] } = { v4: [], v6: [] },
  /** Prefixes per family the guest may also receive on (default: the same as `attached`). */
  receive: { v4: readonly string[]; v6: readonly string[] } = attached,
  /** Where the destination's VNI is looked up (none: outbound traffic carries no VNI tag). */
  v2p?: V2P,
): { out: RuleSpec[]; in: RuleSpec[] } {
  // As upstream's VpcMeta: the VNI of outbound traffic is the destination's, found in V2P;
  // internet and boundary traffic has none, so `out … vni=X` never matches it.
  const tagVni: Action = {
    kind: "meta",
    set: (ctx) => {
      const v = v2p ? v2p.vniOf(ctx.flow.af, ctx.flow.w, 5, vni) : -1;
      if (v >= 0) ctx.meta.set(META_VNI, vniText(v));
    },
  };
  const guestMac = macToString(cfg.guestMac);
  const out: RuleSpec[] = [
    {
      priority: 1,
      name: "arp",
      predicates: [{ kind: "etherType", values: [0x0806] }],
      action: hairpin("arp-reply", gw, arpReply),
    },
    {
      priority: 1,
      name: "rs",
      predicates: [{ kind: "icmpType", values: [133], v6: true }],
      action: hairpin("router-advert", gw, routerAdvert),
    },
    {
      priority: 1,
      name: "ns",
      predicates: [{ kind: "icmpType", values: [135], v6: true }],
      action: hairpin("neighbor-advert", gw, neighborAdvert),
    },
    {
      priority: 2,
      name: "ndp",
      predicates: [{ kind: "icmpType", values: NDP_TYPES, v6: true }],
      action: A.deny(DROP_NDP),
    },
  ];
  const inbound: RuleSpec[] = [{
    priority: 1,
    name: "ndp",
    predicates: [{ kind: "icmpType", values: NDP_TYPES, v6: true }],
    action: A.deny(DROP_NDP),
  }];
  const deliver: HeaderTransform = {
    name: "gateway-mac",
    innerEther: { src: cfg.gatewayMac, dst: cfg.guestMac },
  };
  for (const ip of [cfg.v4, cfg.v6]) {
    if (!ip) continue;
    const v = ip.af;
    if (v === 4) {
      out.push(
        {
          priority: 1,
          name: "dhcp",
          predicates: [{ kind: "ipVersion", version: 4 }, { kind: "ipProto", values: [17] }, {
            kind: "dstPort",
            ports: [67],
          }],
          action: hairpin("dhcp", gw, dhcpReply),
        },
        {
          priority: 1,
          name: "icmp-echo",
          predicates: [
            { kind: "icmpType", values: [8], v6: false },
            { kind: "ipDst", cidrs: [ipToString(ip.gatewayIp!)] },
          ],
          action: hairpin("icmp-echo", gw, icmpEchoReply),
        },
      );
    } else {
      out.push(
        {
          priority: 1,
          name: "dhcpv6",
          predicates: [{ kind: "ipVersion", version: 6 }, { kind: "ipProto", values: [17] }, {
            kind: "dstPort",
            ports: [547],
          }],
          action: hairpin("dhcpv6", gw, dhcpv6Reply),
        },
        {
          priority: 1,
          name: "icmpv6-echo",
          predicates: [
            { kind: "icmpType", values: [128], v6: true },
            { kind: "ipDst", cidrs: [ipToString(gw.linkLocal)] },
          ],
          action: hairpin("icmpv6-echo", gw, icmpv6EchoReply),
        },
      );
    }
    const own = [ipToString(ip.privateIp), ...ip.transit, ...(v === 4 ? attached.v4 : attached.v6)];
    const sources: Predicate = { kind: "ipSrc", cidrs: own };
    const dests = [ipToString(ip.privateIp), ...ip.transit, ...(v === 4 ? receive.v4 : receive.v6)];
    out.push({
      priority: 10,
      name: `from-guest-v${v}`,
      predicates: [{ kind: "etherSrc", mac: guestMac }, sources],
      action: tagVni,
    });
    inbound.push({
      priority: 10,
      name: `to-guest-v${v}`,
      predicates: [{ kind: "ipDst", cidrs: dests }],
      action: A.transform(deliver),
    });
  }
  // Broadcast and multicast other than the hairpinned protocols have nowhere to go (no M2P
  // here); without this rule they would follow the default route out through NAT.
  out.push({
    priority: 5,
    name: "broadcast/multicast",
    predicates: [{ kind: "ipDst", cidrs: ["255.255.255.255", "224.0.0.0/4", "ff00::/8"] }],
    action: A.deny(DROP_MULTICAST),
  });
  out.push({ priority: 100, name: "anti-spoof", action: A.deny(DROP_SPOOF) });
  inbound.push({ priority: 100, name: "anti-spoof", action: A.deny(DROP_SPOOF) });
  return { out, in: inbound };
}

/** The gateway layer. */
export function gatewayLayer(
  cfg: ResolvedConfig,
  gw: GatewayIdentity,
  vni: number,
  attached: { v4: readonly string[]; v6: readonly string[] },
  inbound = attached,
  v2p?: V2P,
): Layer {
  return new Layer({
    name: "gateway",
    defaults: { in: "deny", out: "deny" },
    rules: gatewayRules(cfg, gw, vni, attached, inbound, v2p),
  });
}
