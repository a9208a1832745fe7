// The firewall rule: one typed shape from the control plane (config, admin API) through the
// VPC port to the engine's rules. Its structural checks with errors naming the field, and a
// pure matcher used by tests. The text form people type and read is in firewall_text.ts.

import { addrWordsInto, type Cidr, cidrContains } from "../packet/addr.ts";
import { type FieldError, show, type Validated } from "./validate.ts";

/** The remote side a rule is about (source when inbound, destination when outbound). */
export type HostFilter =
  | { readonly kind: "any" }
  | { readonly kind: "ip"; readonly af: 4 | 6; readonly words: Uint32Array }
  | { readonly kind: "subnet"; readonly cidr: Cidr }
  | { readonly kind: "vni"; readonly vni: number };

/** Protocol filter; ICMP type and code range are -1 for "any". */
export type ProtoFilter =
  | { readonly kind: "any" }
  | { readonly kind: "tcp" | "udp" | "arp" }
  | { readonly kind: "other"; readonly proto: number }
  | {
    readonly kind: "icmp" | "icmpv6";
    readonly type: number;
    readonly codeLo: number;
    readonly codeHi: number;
  };

/** A firewall rule. `ports` is null for any, else [lo0, hi0, lo1, hi1, …]. */
export interface FirewallRule {
  readonly direction: "in" | "out";
  readonly priority: number;
  readonly action: "allow" | "deny";
  readonly hosts: HostFilter;
  readonly protocol: ProtoFilter;
  readonly ports: readonly number[] | null;
  /** The operator's id for the rule (the API's), carried into dumps and traces. */
  readonly id?: number;
}

/** Any host. */
export const ANY_HOST: HostFilter = { kind: "any" };
/** Any protocol. */
export const ANY_PROTOCOL: ProtoFilter = { kind: "any" };

/** The host filter of one address (4 or 16 bytes). */
export function hostOfAddress(ip: Uint8Array): HostFilter {
  const words = new Uint32Array(4);
  addrWordsInto(ip, words);
  return { kind: "ip", af: ip.length === 4 ? 4 : 6, words };
}

/** Facts about a packet the matcher needs, from the guest's point of view. */
export interface FirewallPacket {
  af: number;
  /** Remote address words (IPv4 in word 0). */
  remote: Uint32Array;
  /** VNI of the remote side (the port's VNI for VPC-internal traffic). */
  vni: number;
  proto: number;
  dstPort: number;
  icmpType: number;
  icmpCode: number;
}

/** Appends the problems of one rule's fields to `errors`, named under `where` (`rules[3]`). */
export function checkFirewallRule(r: FirewallRule, where: string, errors: FieldError[]): void {
  checkRuleHead(r, where, errors);
  checkRuleFilters(r, where, errors);
}

/** Direction, priority and action. */
export function checkRuleHead(
  r: Pick<FirewallRule, "direction" | "priority" | "action">,
  where: string,
  errors: FieldError[],
): void {
  if (r.direction !== "in" && r.direction !== "out") {
    errors.push({
      field: `${where}.direction`,
      message: `${show(r.direction)} is not a direction (expected in or out)`,
    });
  }
  if (!Number.isInteger(r.priority) || r.priority < 0 || r.priority > 65535) {
    errors.push({
      field: `${where}.priority`,
      message: `${show(r.priority)} is not a priority (expected an integer 0-65535)`,
    });
  }
  if (r.action !== "allow" && r.action !== "deny") {
    errors.push({
      field: `${where}.action`,
      message: `${show(r.action)} is not an action (expected allow or deny)`,
    });
  }
}

/** Protocol and ports, and whether they fit together. */
export function checkRuleFilters(r: FirewallRule, where: string, errors: FieldError[]): void {
  const h = r.hosts;
  if (h.kind === "vni" && !(Number.isInteger(h.vni) && h.vni >= 0 && h.vni <= 0xffffff)) {
    errors.push({ field: `${where}.hosts`, message: `vni ${h.vni} is not 0-16777215` });
  }
  const p = r.protocol;
  if ((p.kind === "icmp" || p.kind === "icmpv6") && p.codeLo > p.codeHi) {
    errors.push({
      field: `${where}.protocol`,
      message: `code range ${p.codeLo}-${p.codeHi} is empty (first code must not exceed last)`,
    });
  }
  const ports = r.ports;
  if (ports !== null) {
    for (let i = 0; i + 1 < ports.length; i += 2) {
      const lo = ports[i], hi = ports[i + 1];
      if (!(lo >= 0 && hi <= 65535 && lo <= hi)) {
        errors.push({
          field: `${where}.ports`,
          message: `${lo}-${hi} is not a port range (expected 0-65535, first ≤ last)`,
        });
        break;
      }
    }
    if (p.kind !== "tcp" && p.kind !== "udp" && p.kind !== "any") {
      errors.push({
        field: `${where}.ports`,
        message: `ports apply to tcp, udp or any, not ${p.kind}`,
      });
    }
  }
}

/** Checks one rule (for add-one): fields named `rule.…`. */
export function checkFirewallRuleOne(r: FirewallRule): Validated<FirewallRule> {
  const errors: FieldError[] = [];
  checkFirewallRule(r, "rule", errors);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: r };
}

/** Checks a whole rule set (for replace-all): all or nothing, fields named `rules[i]`. */
export function checkFirewallRules(rules: readonly FirewallRule[]): Validated<FirewallRule[]> {
  const errors: FieldError[] = [];
  rules.forEach((r, i) => checkFirewallRule(r, `rules[${i}]`, errors));
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: [...rules] };
}

/** True when `rule`'s filters (not its direction) match the packet. */
export function firewallMatches(rule: FirewallRule, p: FirewallPacket): boolean {
  const h = rule.hosts;
  if (h.kind === "ip") {
    if (h.af !== p.af) return false;
    for (let i = 0; i < 4; i++) if (h.words[i] !== p.remote[i]) return false;
  } else if (h.kind === "subnet") {
    if (!cidrContains(h.cidr, p.af, p.remote, 0)) return false;
  } else if (h.kind === "vni" && h.vni !== p.vni) return false;
  const pr = rule.protocol;
  switch (pr.kind) {
    case "tcp":
      if (p.proto !== 6) return false;
      break;
    case "udp":
      if (p.proto !== 17) return false;
      break;
    case "arp":
      return false; // the packet facts are of IP packets
    case "other":
      if (p.proto !== pr.proto) return false;
      break;
    case "icmp":
    case "icmpv6":
      if (p.proto !== (pr.kind === "icmp" ? 1 : 58)) return false;
      if (pr.type >= 0 && p.icmpType !== pr.type) return false;
      if (pr.codeLo >= 0 && (p.icmpCode < pr.codeLo || p.icmpCode > pr.codeHi)) return false;
      break;
  }
  const ports = rule.ports;
  if (ports) {
    if (p.proto !== 6 && p.proto !== 17) return false;
    let hit = false;
    for (let i = 0; i < ports.length && !hit; i += 2) {
      hit = p.dstPort >= ports[i] && p.dstPort <= ports[i + 1];
    }
    if (!hit) return false;
  }
  return true;
}

/** Rule order: priority ascending, deny before allow at equal priority, then insertion order. */
export function sortFirewallRules(rules: readonly FirewallRule[]): FirewallRule[] {
  return rules
    .map((r, i) => ({ r, i }))
    .sort((a, b) =>
      a.r.priority - b.r.priority ||
      (a.r.action === b.r.action ? 0 : a.r.action === "deny" ? -1 : 1) || a.i - b.i
    )
    .map((x) => x.r);
}

/** First matching rule's action for a direction, or the default (in: deny, out: allow). */
export function firewallVerdict(
  sorted: readonly FirewallRule[],
  dir: "in" | "out",
  p: FirewallPacket,
): "allow" | "deny" {
  for (const r of sorted) if (r.direction === dir && firewallMatches(r, p)) return r.action;
  return dir === "in" ? "deny" : "allow";
}
