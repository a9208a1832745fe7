// Multicast control as users give it (text addresses, replication names): checked, with errors
// naming the field, then handed to the Multicast tables. The Switch's methods delegate here.

import { parseIp } from "../packet/bytes.ts";
import { InvalidField } from "../contract/field_error.ts";
import type { McastNextHopSpec } from "./control.ts";
import { type Multicast, REPLICATION } from "./multicast.ts";
import { mustIpv6, type SwitchPort } from "./port.ts";

/** Maps overlay multicast group `group` (IPv4 or IPv6) to an ff04::/16 underlay group. */
export function setM2p(mc: Multicast, group: string, underlay: string): void {
  const g = parseIp(group);
  const isGroup = g !== null && (g.length === 4 ? (g[0] & 0xf0) === 0xe0 : g[0] === 0xff);
  if (!isGroup) throw new InvalidField("m2p.group", `${group} is not a multicast group address`);
  const u = mustIpv6(underlay, "m2p.underlay");
  if (u[0] !== 0xff || u[1] !== 0x04) {
    throw new InvalidField("m2p.underlay", `${underlay} is not in ff04::/16 (group ${group})`);
  }
  mc.setM2p(g, u);
}

/** Removes an M2P mapping and its subscriptions; false when unknown. */
export function clearM2p(mc: Multicast, group: string): boolean {
  const g = parseIp(group);
  return g !== null && mc.clearM2p(g);
}

/** Subscribes port `p` (called `port`; undefined when there is none) to an overlay group. */
export function subscribe(
  mc: Multicast,
  p: SwitchPort | undefined,
  port: string,
  group: string,
): void {
  if (!p) throw new InvalidField(`ports.${port}`, "no such port");
  const g = parseIp(group);
  if (!g) throw new InvalidField(`ports.${port}`, `"${group}" is not an IP address`);
  mc.subscribe(p, g, `ports.${port}: ${group}`);
}

/** Unsubscribes a port from an overlay group; false when it was not subscribed. */
export function unsubscribe(mc: Multicast, p: SwitchPort | undefined, group: string): boolean {
  const g = parseIp(group);
  return p !== undefined && g !== null && mc.unsubscribe(p, g);
}

/** Sets where copies of an underlay group go (one Geneve copy per next hop). */
export function setMcastForwarding(
  mc: Multicast,
  underlay: string,
  nextHops: McastNextHopSpec[],
): void {
  const u = mustIpv6(underlay, `mcast ${underlay}`);
  mc.setForwarding(
    u,
    nextHops.map((h, i) => {
      if (!(h.replication in REPLICATION)) {
        throw new Error(
          `mcast ${underlay}: nextHops[${i}].replication: "${h.replication}" ` +
            `is not one of external, underlay, both`,
        );
      }
      return {
        via: mustIpv6(h.via, `mcast ${underlay}: nextHops[${i}].via`),
        replication: h.replication,
      };
    }),
  );
}
