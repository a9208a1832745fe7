// Config resources (lib/config/schema.ts shapes) turned into the inputs of lib/vpc: the admin
// plane's flat firewall/router/external-IP forms differ from the VPC layer's typed ones, and
// keeping the mapping here means neither side has to know the other.

import type { ExternalIps, FirewallRule, Port, RouterEntry } from "../config/schema.ts";
import type { ExternalIpConfig } from "../vpc/external.ts";
import {
  ANY_HOST,
  ANY_PROTOCOL,
  type FirewallRule as VpcFirewallRule,
  type HostFilter,
  hostOfAddress,
  type ProtoFilter,
} from "../vpc/firewall_rules.ts";
import { parseIp } from "../packet/bytes.ts";
import type { Route } from "../vpc/router.ts";
import { cidrToString, parseCidr } from "../packet/addr.ts";
import type { VpcIpConfig, VpcPortConfig } from "../vpc/config.ts";
import type { Mappings } from "../vpc/mappings.ts";
import { InvalidField } from "../contract/field_error.ts";

/**
 * A config firewall rule (schema-validated) as the VPC's typed rule: each field is turned into
 * its typed filter once, here; nothing travels as text to be parsed again.
 */
export function firewallInput(r: FirewallRule): VpcFirewallRule {
  return {
    direction: r.direction,
    priority: r.priority,
    action: r.action,
    hosts: hostFilter(r.host),
    protocol: protoFilter(r.protocol, r.icmp),
    ports: r.ports === undefined ? null : portRanges(r.ports),
    ...(r.id !== undefined ? { id: r.id } : {}),
  };
}

/** `any`, `vni:N`, a prefix or an address, as the schema admits them. */
function hostFilter(host: string): HostFilter {
  if (host === "any") return ANY_HOST;
  if (host.startsWith("vni:")) return { kind: "vni", vni: Number(host.slice(4)) };
  const cidr = host.includes("/") ? parseCidr(host) : null;
  if (cidr !== null) return { kind: "subnet", cidr };
  const ip = host.includes("/") ? null : parseIp(host);
  if (ip !== null) return hostOfAddress(ip);
  throw new InvalidField("host", `"${host}" is not "any", a prefix, an address or vni:N`);
}

/** A protocol name or number, with the ICMP type and code range when given. */
function protoFilter(p: FirewallRule["protocol"], icmp: FirewallRule["icmp"]): ProtoFilter {
  if (p === "icmp" || p === "icmp6") {
    const c = icmp?.codes;
    return {
      kind: p === "icmp" ? "icmp" : "icmpv6",
      type: icmp?.type ?? -1,
      codeLo: c ? c[0] : -1,
      codeHi: c ? c[1] : -1,
    };
  }
  if (p === 6 || p === "tcp") return { kind: "tcp" };
  if (p === 17 || p === "udp") return { kind: "udp" };
  if (typeof p === "number") return { kind: "other", proto: p };
  return p === "any" ? ANY_PROTOCOL : { kind: p };
}

/** `22,8000-8080` (schema-checked) as [lo0, hi0, lo1, hi1, …]. */
function portRanges(text: string): number[] {
  const out: number[] = [];
  for (const r of text.split(",")) {
    const [lo, hi = lo] = r.split("-").map(Number);
    out.push(lo, hi);
  }
  return out;
}

/** A config router entry as a VPC route (same target shape: it travels typed). */
export function routeInput(e: RouterEntry): Route {
  return { dest: e.destination, target: e.target, class: e.class };
}

const isV4 = (ip: string) => !ip.includes(":");

/** External IPs split per family, as VpcPort.setExternalIps takes them. */
export function externalInput(
  x: ExternalIps | null,
): { v4: ExternalIpConfig; v6: ExternalIpConfig } {
  const fam = (v4: boolean): ExternalIpConfig => {
    const out: ExternalIpConfig = {
      floatingIps: x ? x.floating.filter((a) => isV4(a) === v4) : [],
    };
    if (x?.snat && isV4(x.snat.ip) === v4) {
      out.snat = { ip: x.snat.ip, ports: `${x.snat.ports[0]}-${x.snat.ports[1]}` };
    }
    const eph = x?.ephemeral.find((a) => isV4(a) === v4);
    if (eph !== undefined) out.ephemeralIp = eph;
    if (x?.inetGwMap) out.inetGwMap = x.inetGwMap;
    return out;
  };
  return { v4: fam(true), v6: fam(false) };
}

/** `10.0.0.5/24` → the private address and the subnet it sits in. */
function ipConfig(cidr: string, where: string): VpcIpConfig {
  const c = parseCidr(cidr, { loose: true });
  if (!c) throw new InvalidField(where, `"${cidr}" is not an address with a prefix length`);
  return { privateIp: cidr.slice(0, cidr.indexOf("/")), subnet: cidrToString(c) };
}

/** The VPC port of a port's overlay identity, or null when it has none. */
export function vpcConfig(
  p: Pick<Port, "name" | "mac" | "mtu" | "overlay">,
  sledAddress: string,
  mappings: Mappings,
): VpcPortConfig | null {
  const o = p.overlay;
  if (!o) return null;
  return {
    name: p.name,
    vni: o.vni,
    guestMac: p.mac,
    gatewayMac: o.gatewayMac,
    underlay: sledAddress,
    mtu: p.mtu,
    v4: o.ipv4 ? ipConfig(o.ipv4, `ports.${p.name}.overlay.ipv4`) : undefined,
    v6: o.ipv6 ? ipConfig(o.ipv6, `ports.${p.name}.overlay.ipv6`) : undefined,
    dhcp: o.dhcp && {
      hostname: o.dhcp.hostname,
      domain: o.dhcp.hostDomain,
      search: o.dhcp.domainSearchList,
      dns4: o.dhcp.dns4Servers,
      dns6: o.dhcp.dns6Servers,
    },
    // The router table and firewall are the port's resources, applied as given: nothing implicit.
    routes: [],
    firewall: [],
    mappings,
  };
}

/** The address part of `addr/len` (or the whole text when there is no length). */
export function addressOf(cidr: string): string {
  const i = cidr.indexOf("/");
  return i < 0 ? cidr : cidr.slice(0, i);
}
