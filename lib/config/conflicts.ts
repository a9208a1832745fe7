// Addresses that must be unique across ports: the switch delivers overlay traffic by (VNI, inner
// address) and external traffic by external IP, so two ports claiming the same one would make
// delivery ambiguous. Shared by config validation, the API and reload.

import { ipToString, parseIp } from "../packet/bytes.ts";
import type { ExternalIps, Port } from "./schema.ts";

/** One address a port claims, and where in the port it is written. */
export interface Claim {
  port: string;
  /** Path inside the port: ["overlay", "ipv4"], ["externalIps", "floating", 1]. */
  at: (string | number)[];
  /** What is claimed, for messages: `VNI 10 address 10.0.0.5`, `external IP 203.0.113.9`. */
  what: string;
  /** Equal keys conflict (addresses canonicalised). */
  key: string;
}

const canon = (ip: string) => {
  const b = parseIp(ip);
  return b ? ipToString(b) : ip;
};
const addressPart = (cidr: string) => cidr.split("/")[0];

/** The claims of one port: its overlay (VNI, address) pairs and its external IPs. */
export function portClaims(
  port: string,
  overlay: Port["overlay"] | undefined,
  ext: ExternalIps | undefined | null,
): Claim[] {
  const out: Claim[] = [];
  for (const fam of ["ipv4", "ipv6"] as const) {
    const a = overlay?.[fam];
    if (!overlay || !a) continue;
    const ip = canon(addressPart(a));
    out.push({
      port,
      at: ["overlay", fam],
      what: `VNI ${overlay.vni} address ${ip}`,
      key: `overlay ${overlay.vni} ${ip}`,
    });
  }
  const external = (at: (string | number)[], ip: string) =>
    out.push({ port, at, what: `external IP ${canon(ip)}`, key: `external ${canon(ip)}` });
  if (ext?.snat) external(["externalIps", "snat", "ip"], ext.snat.ip);
  ext?.ephemeral.forEach((ip, i) => external(["externalIps", "ephemeral", i], ip));
  ext?.floating.forEach((ip, i) => external(["externalIps", "floating", i], ip));
  return out;
}

/** Every pair of claims on the same key: [first, later], in claim order. */
export function conflicts(claims: Claim[]): [Claim, Claim][] {
  const first = new Map<string, Claim>();
  const out: [Claim, Claim][] = [];
  for (const c of claims) {
    const f = first.get(c.key);
    if (f) out.push([f, c]);
    else first.set(c.key, c);
  }
  return out;
}

/** `ports.NAME.overlay.ipv4` (the API's field naming). */
export function claimField(c: Claim): string {
  return `ports.${c.port}.${c.at.map((s) => typeof s === "number" ? `[${s}]` : s).join(".")}`
    .replaceAll(".[", "[");
}
