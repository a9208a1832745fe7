// A VPC port's configuration as the switch passes it, and its validation into the resolved
// form the layers use. Errors name the field (`v4.privateIp: "10.0.0" is not an IPv4 address`).

import { parseIp, parseIpv4, parseIpv6, parseMac } from "../packet/bytes.ts";
import { type ExternalIpConfig, type ExternalIps, validateExternalIps } from "./external.ts";
import type { FirewallRule } from "./firewall_rules.ts";
import { GATEWAY_MAC } from "./hairpin.ts";
import { type Cidr, parseCidr } from "../packet/addr.ts";
import type { Mappings } from "./mappings.ts";
import type { Route } from "./router.ts";
import { type FieldError, show, type Validated } from "./validate.ts";

/** One address family of a port, as configured. */
export interface VpcIpConfig {
  /** The guest's private address. */
  privateIp: string;
  /** The VPC subnet the address lives in (the system route to it targets the subnet). */
  subnet: string;
  /** IPv4 only: the gateway address (default: first host of the subnet). */
  gatewayIp?: string;
  /** Extra source prefixes the guest may send from (transit / attached subnets). */
  transitSubnets?: string[];
  external?: ExternalIpConfig;
}

/** A VPC port (an instance NIC, or a system zone's overlay identity). */
export interface VpcPortConfig {
  name: string;
  vni: number;
  guestMac: string;
  gatewayMac?: string;
  /** This sled's underlay IPv6 address (the outer source of every encapsulated frame). */
  underlay: string;
  mtu?: number;
  v4?: VpcIpConfig;
  v6?: VpcIpConfig;
  dhcp?: {
    dns4?: string[];
    dns6?: string[];
    hostname?: string;
    domain?: string;
    search?: string[];
    leaseTime?: number;
  };
  /** The whole route table; absent = `defaultRoutes` (own subnet → vpc-subnet, default →
   * internet gateway, class system). Nothing is added to a table that is given. */
  routes?: Route[];
  firewall?: FirewallRule[];
  mappings: Mappings;
  clock?: () => number;
  /** Engine table limits. */
  uftLimit?: number;
  lftLimit?: number;
  /** TCP connections tracked (default 8192). */
  tcpLimit?: number;
}

/** One validated family. */
export interface ResolvedIp {
  readonly af: 4 | 6;
  readonly privateIp: Uint8Array;
  readonly subnet: Cidr;
  readonly subnetText: string;
  readonly gatewayIp: Uint8Array | null;
  /** Transit prefixes the guest may also send from (attached subnets live in `external`). */
  readonly transit: readonly string[];
  readonly external: ExternalIps;
}

/** A validated port config. */
export interface ResolvedConfig {
  readonly guestMac: Uint8Array;
  readonly gatewayMac: Uint8Array;
  readonly underlay: Uint8Array;
  readonly mtu: number;
  readonly v4: ResolvedIp | null;
  readonly v6: ResolvedIp | null;
}

function resolveIp(
  c: VpcIpConfig,
  af: 4 | 6,
  errors: FieldError[],
): ResolvedIp | null {
  const where = `v${af}`;
  const parse = af === 4 ? parseIpv4 : parseIpv6;
  const ip = typeof c.privateIp === "string" ? parse(c.privateIp) : null;
  if (!ip) {
    errors.push({
      field: `${where}.privateIp`,
      message: `${show(c.privateIp)} is not an IPv${af} address`,
    });
  }
  const subnet = typeof c.subnet === "string" ? parseCidr(c.subnet) : null;
  if (!subnet || subnet.af !== af) {
    errors.push({
      field: `${where}.subnet`,
      message: `${show(c.subnet)} is not an IPv${af} prefix with host bits zero`,
    });
  }
  let gatewayIp: Uint8Array | null = null;
  if (af === 4) {
    if (c.gatewayIp !== undefined) {
      gatewayIp = parseIpv4(String(c.gatewayIp));
      if (!gatewayIp) {
        errors.push({
          field: `${where}.gatewayIp`,
          message: `${show(c.gatewayIp)} is not an IPv4 address`,
        });
      }
    } else if (subnet) {
      const w = subnet.words[0] + 1;
      gatewayIp = Uint8Array.of(w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255);
    }
  }
  const transit = c.transitSubnets ?? [];
  transit.forEach((t, i) => {
    const tc = parseCidr(t);
    if (!tc || tc.af !== af) {
      errors.push({
        field: `${where}.transitSubnets[${i}]`,
        message: `${show(t)} is not an IPv${af} prefix`,
      });
    }
  });
  const ext = validateExternalIps(c.external ?? {}, af, `${where}.external`);
  if (!ext.ok) errors.push(...ext.errors);
  if (!ip || !subnet || subnet.af !== af || !ext.ok) return null;
  return {
    af,
    privateIp: ip,
    subnet,
    subnetText: c.subnet,
    gatewayIp,
    transit,
    external: ext.value,
  };
}

/** Validates a port config; every error names its field. */
export function resolveConfig(c: VpcPortConfig): Validated<ResolvedConfig> {
  const errors: FieldError[] = [];
  const guestMac = parseMac(String(c.guestMac));
  if (!guestMac) {
    errors.push({
      field: "guestMac",
      message: `${show(c.guestMac)} is not a MAC address (expected six hex pairs)`,
    });
  }
  const gatewayMac = c.gatewayMac === undefined ? GATEWAY_MAC : parseMac(String(c.gatewayMac));
  if (!gatewayMac) {
    errors.push({ field: "gatewayMac", message: `${show(c.gatewayMac)} is not a MAC address` });
  }
  const underlay = parseIpv6(String(c.underlay));
  if (!underlay) {
    errors.push({ field: "underlay", message: `${show(c.underlay)} is not an IPv6 address` });
  }
  if (!Number.isInteger(c.vni) || c.vni < 0 || c.vni > 0xffffff) {
    errors.push({ field: "vni", message: `${show(c.vni)} is not a VNI (expected 0-16777215)` });
  }
  const mtu = c.mtu ?? 1500;
  if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 9000) {
    errors.push({ field: "mtu", message: `${show(c.mtu)} is not an MTU (expected 1280-9000)` });
  }
  if (!c.v4 && !c.v6) errors.push({ field: "v4", message: "a port needs v4, v6 or both" });
  const v4 = c.v4 ? resolveIp(c.v4, 4, errors) : null;
  const v6 = c.v6 ? resolveIp(c.v6, 6, errors) : null;
  for (const [fam, list] of [["dns4", c.dhcp?.dns4], ["dns6", c.dhcp?.dns6]] as const) {
    (list ?? []).forEach((s, i) => {
      const b = parseIp(s);
      if (!b || (b.length === 4) !== (fam === "dns4")) {
        errors.push({
          field: `dhcp.${fam}[${i}]`,
          message: `${show(s)} is not an IPv${fam === "dns4" ? 4 : 6} address`,
        });
      }
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: { guestMac: guestMac!, gatewayMac: gatewayMac!, underlay: underlay!, mtu, v4, v6 },
  };
}
