// The firewall layer: control-plane rules compiled to engine rules. Allow is stateful (the
// reverse direction of an allowed flow passes); inbound default deny, outbound default
// stateful allow. ICMP errors about packets the guest sent are let in as related traffic.

import { ipToString } from "../packet/bytes.ts";
import { A, type RuleSpec } from "../engine/rule.ts";
import type { Predicate } from "../engine/predicate.ts";
import { Layer } from "../engine/layer.ts";
import { bytesEqual } from "../packet/bytes.ts";
import { checkFirewallRules, type FirewallRule } from "./firewall_rules.ts";
import { formatFirewallRule } from "./firewall_text.ts";
import { orThrow } from "./validate.ts";
import { cidrToString } from "../packet/addr.ts";
import { META_VNI } from "./gateway.ts";
import { findQuoted, isIcmpError, Quoted } from "./icmp_error.ts";
import type { ResolvedConfig } from "./config.ts";
import { reason } from "../engine/reason.ts";

/** Drop reasons of this layer. */
export const DROP_FIREWALL = reason("firewall deny");
export const DROP_UNRELATED_ERROR = reason("unrelated icmp error");

/** Priority of the built-in related-errors rule: after every user rule (65535 at most). */
export const RELATED_ERRORS_PRIORITY = 65535;

/** The engine rule for one firewall rule. */
export function firewallRuleSpec(r: FirewallRule): RuleSpec {
  const preds: Predicate[] = [];
  const h = r.hosts;
  const addrKind = r.direction === "in" ? "ipSrc" : "ipDst";
  if (h.kind === "ip") {
    const b = new Uint8Array(h.af === 4 ? 4 : 16);
    for (let i = 0; i < b.length; i++) b[i] = h.words[i >> 2] >>> (24 - 8 * (i & 3));
    preds.push({ kind: addrKind, cidrs: [ipToString(b)] });
  } else if (h.kind === "subnet") {
    preds.push({ kind: addrKind, cidrs: [cidrToString(h.cidr)] });
  } else if (h.kind === "vni") {
    preds.push({ kind: "meta", key: META_VNI, value: String(h.vni) });
  }
  const p = r.protocol;
  if (p.kind === "tcp") preds.push({ kind: "ipProto", values: [6] });
  else if (p.kind === "udp") preds.push({ kind: "ipProto", values: [17] });
  else if (p.kind === "arp") preds.push({ kind: "etherType", values: [0x0806] });
  else if (p.kind === "other") preds.push({ kind: "ipProto", values: [p.proto] });
  else if (p.kind === "icmp" || p.kind === "icmpv6") {
    const v6 = p.kind === "icmpv6";
    preds.push({ kind: "ipProto", values: [v6 ? 58 : 1] });
    if (p.type >= 0) preds.push({ kind: "icmpType", values: [p.type], v6 });
    if (p.codeLo >= 0) {
      const codes = Array.from({ length: p.codeHi - p.codeLo + 1 }, (_, i) => p.codeLo + i);
      preds.push({ kind: "icmpCode", values: codes, v6 });
    }
  }
  if (r.ports) {
    if (p.kind === "any") preds.push({ kind: "ipProto", values: [6, 17] });
    const ports: [number, number][] = [];
    for (let i = 0; i < r.ports.length; i += 2) ports.push([r.ports[i], r.ports[i + 1]]);
    preds.push({ kind: "dstPort", ports });
  }
  return {
    priority: r.priority,
    name: formatFirewallRule(r),
    ref: r.id,
    predicates: preds,
    action: r.action === "allow" ? A.statefulAllow : A.deny(DROP_FIREWALL),
  };
}

/** The firewall's rule tables for a validated rule set plus the related-ICMP-error rule. */
export function firewallTables(
  rules: readonly FirewallRule[],
  cfg: ResolvedConfig,
): { out: RuleSpec[]; in: RuleSpec[] } {
  const out: RuleSpec[] = [], inbound: RuleSpec[] = [relatedErrors(cfg)];
  for (const r of rules) (r.direction === "in" ? inbound : out).push(firewallRuleSpec(r));
  return { out, in: inbound };
}

/**
 * Inbound ICMP errors pass when the packet they quote was sent by the guest. An xdeno addition
 * (upstream needs an explicit allow): it sits at the lowest precedence, so any user rule that
 * matches the error, deny or allow, decides first.
 */
function relatedErrors(cfg: ResolvedConfig): RuleSpec {
  const q = new Quoted();
  return {
    priority: RELATED_ERRORS_PRIORITY,
    name: "related icmp errors",
    predicates: [{
      kind: "any",
      preds: [
        { kind: "icmpType", values: [3, 11, 12], v6: false },
        { kind: "icmpType", values: [1, 2, 3, 4], v6: true },
      ],
    }],
    action: {
      kind: "static",
      name: "related-error",
      gen: (ctx) => {
        const buf = ctx.pkt.buf, lv = ctx.pkt.meta.flow;
        if (!isIcmpError(lv) || !findQuoted(buf, lv, q)) return { deny: DROP_UNRELATED_ERROR };
        const own = q.af === 4 ? cfg.v4?.privateIp : cfg.v6?.privateIp;
        const at = q.l3 + (q.af === 4 ? 12 : 8);
        if (!own || !bytesEqual(buf, at, own, 0, own.length)) return { deny: DROP_UNRELATED_ERROR };
        return null;
      },
    },
  };
}

/** Checks a rule set and returns the layer's tables (throws InvalidField naming the field). */
export function checkedFirewallTables(
  input: readonly FirewallRule[],
  cfg: ResolvedConfig,
): { rules: FirewallRule[]; tables: { out: RuleSpec[]; in: RuleSpec[] } } {
  const rules = orThrow(checkFirewallRules(input));
  return { rules, tables: firewallTables(rules, cfg) };
}

/** The firewall layer. */
export function firewallLayer(
  rules: readonly FirewallRule[],
  cfg: ResolvedConfig,
  lftLimit?: number,
) {
  return new Layer({
    name: "firewall",
    defaults: { in: "deny", out: "statefulAllow" },
    lftLimit,
    rules: firewallTables(rules, cfg),
  });
}
