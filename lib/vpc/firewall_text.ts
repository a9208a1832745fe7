// The text form of a firewall rule, where a person types or reads one: per-field text
// (`hosts=subnet=10.0.0.0/24`, `protocol=icmp:3/0-4`, `ports=22,8000-8080`) and the one-line form
// (`dir=in action=allow priority=10 protocol=tcp ports=22,80 hosts=any`). Parsed once into the
// typed FirewallRule (firewall_rules.ts); rendered back for listings and rule names in dumps.

import { ipToString, parseIp } from "../packet/bytes.ts";
import {
  checkRuleFilters,
  checkRuleHead,
  type FirewallRule,
  type HostFilter,
  hostOfAddress,
  type ProtoFilter,
} from "./firewall_rules.ts";
import { cidrToString, parseCidr, wordsToBytes } from "../packet/addr.ts";
import { type FieldError, orThrow, show, type Validated } from "./validate.ts";

/** A rule as text fields; omitted hosts/protocol/ports mean "any". */
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

function parseHosts(s: string, field: string, errors: FieldError[]): HostFilter {
  const t = s.trim().toLowerCase();
  if (t === "any") return { kind: "any" };
  const eq = t.indexOf("=");
  const key = eq < 0 ? "" : t.slice(0, eq), val = eq < 0 ? "" : t.slice(eq + 1);
  if (key === "ip") {
    const b = parseIp(val);
    if (b) return hostOfAddress(b);
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

/** Parses one rule's text fields; errors are named under `where` (e.g. `rules[3]`). */
export function validateFirewallRule(
  input: FirewallRuleInput,
  where = "rule",
): Validated<FirewallRule> {
  const errors: FieldError[] = [];
  checkRuleHead(input, where, errors);
  const rule: FirewallRule = {
    direction: input.direction,
    priority: input.priority,
    action: input.action,
    hosts: parseHosts(input.hosts ?? "any", `${where}.hosts`, errors),
    protocol: parseProto(input.protocol ?? "any", `${where}.protocol`, errors),
    ports: parsePorts(input.ports ?? "any", `${where}.ports`, errors),
    ...(input.id !== undefined ? { id: input.id } : {}),
  };
  checkRuleFilters(rule, where, errors);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: rule };
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

/** Rules from their text fields, all or nothing; throws InvalidField naming `rules[i].field`. */
export function firewallRulesFromText(inputs: readonly FirewallRuleInput[]): FirewallRule[] {
  return orThrow(validateFirewallRules(inputs));
}

/** The text of a host filter: `any`, `ip=<addr>`, `subnet=<cidr>` or `vni=<n>`. */
export function hostsText(h: HostFilter): string {
  switch (h.kind) {
    case "any":
      return "any";
    case "ip":
      return `ip=${ipToString(wordsToBytes(h.af, h.words))}`;
    case "subnet":
      return `subnet=${cidrToString(h.cidr)}`;
    case "vni":
      return `vni=${h.vni}`;
  }
}

/** The text of a protocol filter: `any`, `tcp`, `47`, `icmp:3/0-4`, `icmpv6:135`, …. */
export function protocolText(p: ProtoFilter): string {
  if (p.kind === "other") return String(p.proto);
  if (p.kind !== "icmp" && p.kind !== "icmpv6") return p.kind;
  if (p.type < 0) return p.kind;
  const codes = p.codeLo < 0
    ? ""
    : p.codeLo === p.codeHi
    ? `/${p.codeLo}`
    : `/${p.codeLo}-${p.codeHi}`;
  return `${p.kind}:${p.type}${codes}`;
}

/** The text of a port list: `any` or `22,8000-8080`. */
export function portsText(ports: readonly number[] | null): string {
  if (ports === null) return "any";
  const out: string[] = [];
  for (let i = 0; i + 1 < ports.length; i += 2) {
    out.push(ports[i] === ports[i + 1] ? `${ports[i]}` : `${ports[i]}-${ports[i + 1]}`);
  }
  return out.join(",");
}

/** A rule as text fields (for listings). */
export function firewallRuleText(r: FirewallRule): FirewallRuleInput {
  return {
    direction: r.direction,
    priority: r.priority,
    action: r.action,
    hosts: hostsText(r.hosts),
    protocol: protocolText(r.protocol),
    ports: portsText(r.ports),
    ...(r.id !== undefined ? { id: r.id } : {}),
  };
}

/** The one-line form `dir=in action=allow priority=10 hosts=any protocol=tcp ports=22`. */
export function formatFirewallRule(r: FirewallRule): string {
  const t = firewallRuleText(r);
  return `dir=${t.direction} action=${t.action} priority=${t.priority} hosts=${t.hosts} ` +
    `protocol=${t.protocol} ports=${t.ports}`;
}

/** One rule from its text fields; throws InvalidField naming `rule.field`. */
export function firewallRuleFromText(input: FirewallRuleInput): FirewallRule {
  return orThrow(validateFirewallRule(input));
}
