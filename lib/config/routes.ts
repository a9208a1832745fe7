// The router table and firewall rules an overlay port starts with when its config or create
// request names none: what Omicron installs for a new NIC (own subnet → vpc-subnet, default →
// internet gateway, class system; inbound allowed from the VPC). They are ordinary entries in
// the port's tables: listed, and removable. The datapath itself adds nothing.

import { ipToString } from "../packet/bytes.ts";
import { parsePrefix } from "./fields.ts";
import type { FirewallRule, Port, RouterEntry } from "./schema.ts";

/** The VPC's default inbound rule for a port's overlay identity ([] without one). */
export function defaultFirewall(p: Pick<Port, "overlay">): FirewallRule[] {
  if (!p.overlay) return [];
  return [{
    direction: "in",
    priority: 65534,
    action: "allow",
    protocol: "any",
    host: `vni:${p.overlay.vni}`,
  }];
}

/** The system routes of a port's overlay identity ([] without one). */
export function systemRoutes(p: Pick<Port, "overlay">): RouterEntry[] {
  const out: RouterEntry[] = [];
  for (const [cidr, any] of [[p.overlay?.ipv4, "0.0.0.0/0"], [p.overlay?.ipv6, "::/0"]]) {
    const subnet = cidr ? subnetOf(cidr) : null;
    if (!subnet) continue;
    out.push({
      destination: subnet,
      target: { kind: "vpc-subnet", cidr: subnet },
      class: "system",
    });
    out.push({ destination: any!, target: { kind: "internet-gateway" }, class: "system" });
  }
  return out;
}

/** `10.0.0.5/24` → `10.0.0.0/24`. */
function subnetOf(cidr: string): string | null {
  const p = parsePrefix(cidr);
  if (!p) return null;
  const a = p.addr;
  for (let i = 0; i < a.length; i++) {
    const keep = Math.max(0, Math.min(8, p.len - 8 * i));
    a[i] &= (0xff << (8 - keep)) & 0xff;
  }
  return `${ipToString(a)}/${p.len}`;
}
