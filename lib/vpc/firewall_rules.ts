// The firewall rule model: what the control plane sends (direction, priority, hosts,
// protocol, ports, action), its validation with errors naming the field, a text form
// (`dir=in action=allow priority=10 protocol=tcp ports=22,80,8000-8080 hosts=any`), and a
// pure matcher used by the firewall layer and tests.

import { parseIp } from "../packet/bytes.ts";
import { addrWordsInto, type Cidr, cidrContains, parseCidr } from "../packet/addr.ts";
import { type FieldError, show, type Validated } from "./validate.ts";

/** Rule input as the control plane sends it; omitted hosts/protocol/ports mean "any". */
export interface FirewallRuleInput {
  direction: "in" | "out";
  priority: number;
  action: "allow" | "deny";
  /** `any`, `ip=<addr>`, `subnet=<cidr>`, `vni=<n>`. */
  hosts?: string;
  /** `any`, `tcp`, `udp`, `arp`, an IP protocol number (`47`), `icmp`, `icmp:<type>`,
   * `icmp:<type>/<code>`, `icmp:<type>/<lo>-<hi>`, `icmpv6[...]`. */
  protocol?: string;
  /** `any` or a comma list of ports and `lo-hi` ranges. */
  ports?: string;
  /** The operator's id for the rule (the API's), carried into dumps and traces. */
  id?: number;
}

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

/** A validated rule. `ports` is null for any, else [lo0, hi0, lo1, hi1, …]. */
export interface FirewallRule {
  readonly direction: "in" | "out";
  readonly priority: number;
  readonly action: "allow" | "deny";
  readonly hosts: HostFilter;
  readonly protocol: ProtoFilter;
  readonly ports: readonly number[] | null;
  /** The input this was validated from (for listing rules back). */
  readonly source: FirewallRuleInput;
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

function parseHosts(s: string, field: string, errors: FieldError[]): HostFilter {
  const t = s.trim().toLowerCase();
  if (t === "any") return { kind: "any" };
  const eq = t.indexOf("=");
  const key = eq < 0 ? "" : t.slice(0, eq), val = eq < 0 ? "" : t.slice(eq + 1);
  if (key === "ip") {
    const b = parseIp(val);
    if (b) {
      const words = new Uint32Array(4);
      addrWordsInto(b, words);
      return { kind: "ip", af: b.length === 4 ? 4 : 6, words };
    }
  } else if (key === "subnet") {
    const c = parseCidr(val);
    if (c) return { kind: "subnet", cidr: c };
  } else if (key === "vni" && /^\d{1,8}$/.test(val) && Number(val) <= 0xffffff) {
    return { kind: "vni", vni: Number(val) };
  }
  errors.push({
    field,
    message: `${
      show(s)
    } is not a host filter (expected any, ip=<addr>, subnet=<cidr> or vni=<0-16777215>)`,
  });
  return { kind: "any" };
}

function parseProto(s: string, field: string, errors: FieldError[]): ProtoFilter {
  const t = s.trim().toLowerCase();
  if (t === "any" || t === "tcp" || t === "udp" || t === "arp") {
    return t === "any" ? { kind: "any" } : { kind: t };
  }
  if (/^\d{1,3}$/.test(t) && Number(t) <= 255) {
    // Named protocols keep their own kind so predicates and listings stay one form.
    const n = Number(t);
    if (n === 6 || n === 17) return { kind: n === 6 ? "tcp" : "udp" };
    return { kind: "other", proto: n };
  }
  const m = /^(icmp|icmpv6)(?::(\d{1,3})(?:\/(\d{1,3})(?:-(\d{1,3}))?)?)?$/.exec(t);
  const [ty, lo, hi] = [m?.[2], m?.[3], m?.[4] ?? m?.[3]].map((x) =>
    x === undefined ? -1 : Number(x)
  );
  if (m && ty <= 255 && hi <= 255 && lo <= hi) {
    return { kind: m[1] as "icmp" | "icmpv6", type: ty, codeLo: lo, codeHi: hi };
  }
  errors.push({
    field,
    message: `${
      show(s)
    } is not a protocol filter (expected any, tcp, udp, arp, 0-255, icmp[:type[/code[-code]]] or icmpv6[:…])`,
  });
  return { kind: "any" };
}

function parsePorts(s: string, field: string, errors: FieldError[]): number[] | null {
  const t = s.trim().toLowerCase();
  if (t === "any") return null;
  const out: number[] = [];
  for (const part of t.split(",")) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part.trim());
    const lo = m ? Number(m[1]) : -1, hi = m ? Number(m[2] ?? m[1]) : -1;
    if (!m || lo > 65535 || hi > 65535 || lo > hi) {
      errors.push({
        field,
        message: `${show(part)} is not a port or range (expected 0-65535 or lo-hi)`,
      });
      return null;
    }
    out.push(lo, hi);
  }
  return out;
}

/** Validates one rule; errors are named under `where` (e.g. `rules[3]`). */
export function validateFirewallRule(
  input: FirewallRuleInput,
  where = "rule",
): Validated<FirewallRule> {
  const errors: FieldError[] = [];
  if (input.direction !== "in" && input.direction !== "out") {
    errors.push({
      field: `${where}.direction`,
      message: `${show(input.direction)} is not a direction (expected in or out)`,
    });
  }
  if (!Number.isInteger(input.priority) || input.priority < 0 || input.priority > 65535) {
    errors.push({
      field: `${where}.priority`,
      message: `${show(input.priority)} is not a priority (expected an integer 0-65535)`,
    });
  }
  if (input.action !== "allow" && input.action !== "deny") {
    errors.push({
      field: `${where}.action`,
      message: `${show(input.action)} is not an action (expected allow or deny)`,
    });
  }
  const hosts = parseHosts(input.hosts ?? "any", `${where}.hosts`, errors);
  const protocol = parseProto(input.protocol ?? "any", `${where}.protocol`, errors);
  const ports = parsePorts(input.ports ?? "any", `${where}.ports`, errors);
  if (ports && protocol.kind !== "tcp" && protocol.kind !== "udp" && protocol.kind !== "any") {
    errors.push({
      field: `${where}.ports`,
      message: `ports apply to tcp, udp or any, not ${protocol.kind}`,
    });
  }
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: {
      direction: input.direction,
      priority: input.priority,
      action: input.action,
      hosts,
      protocol,
      ports,
      source: input,
    },
  };
}

/** Validates a whole rule set (for replace-all): all or nothing. */
export function validateFirewallRules(
  inputs: readonly FirewallRuleInput[],
): Validated<FirewallRule[]> {
  const rules: FirewallRule[] = [];
  const errors: FieldError[] = [];
  inputs.forEach((r, i) => {
    const v = validateFirewallRule(r, `rules[${i}]`);
    if (v.ok) rules.push(v.value);
    else errors.push(...v.errors);
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: rules };
}

/** Parses the text form `dir=in action=allow priority=10 [hosts=…] [protocol=…] [ports=…]`. */
export function parseFirewallRule(text: string): Validated<FirewallRule> {
  const input: Record<string, unknown> = {};
  const names: Record<string, string> = {
    dir: "direction",
    direction: "direction",
    action: "action",
    priority: "priority",
    hosts: "hosts",
    protocol: "protocol",
    port: "ports",
    ports: "ports",
  };
  for (const tok of text.trim().split(/\s+/)) {
    const eq = tok.indexOf("=");
    const key = names[eq < 0 ? "" : tok.slice(0, eq).toLowerCase()];
    if (!key) {
      return {
        ok: false,
        errors: [{
          field: "rule",
          message: `${
            show(tok)
          } is not key=value (keys: dir, action, priority, hosts, protocol, ports)`,
        }],
      };
    }
    const val = tok.slice(eq + 1);
    input[key] = key === "priority" && /^\d+$/.test(val) ? Number(val) : val.toLowerCase();
  }
  return validateFirewallRule(input as unknown as FirewallRuleInput);
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
