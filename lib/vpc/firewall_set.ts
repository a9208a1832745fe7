// The firewall rules of one VPC port and their engine rules: replace all (cutting the layer's
// flows, as upstream's set_fw_rules), add one (with an id to remove it by), remove one.

import { DIR_IN, DIR_OUT } from "../engine/packet.ts";
import type { Port } from "../engine/port.ts";
import type { ResolvedConfig } from "./config.ts";
import { checkedFirewallTables, firewallRuleSpec } from "./firewall.ts";
import { checkFirewallRuleOne, type FirewallRule } from "./firewall_rules.ts";
import { orThrow } from "./validate.ts";

/** A port's firewall rule set, kept in step with its engine "firewall" layer. */
export class FirewallSet {
  #rules: FirewallRule[];
  readonly #ids = new Map<number, FirewallRule>();

  constructor(
    private readonly port: Port,
    private readonly cfg: ResolvedConfig,
    rules: readonly FirewallRule[],
  ) {
    this.#rules = [...rules];
  }

  /** The rules in force, as given. */
  list(): FirewallRule[] {
    return [...this.#rules];
  }

  /**
   * Replaces every rule (all validated first). The firewall's flows are cut: every connection
   * is judged by the new rules on its next packet, so a revoked allow stops traffic at once.
   */
  set(rules: readonly FirewallRule[]): void {
    const fw = checkedFirewallTables(rules, this.cfg);
    this.port.assertMutable("rule change");
    this.#rules = fw.rules;
    this.#ids.clear();
    this.port.setRules("firewall", fw.tables, { clearFlows: true });
  }

  /** Adds one rule; returns an id for `remove`. */
  add(r: FirewallRule): number {
    orThrow(checkFirewallRuleOne(r));
    this.port.assertMutable("rule change");
    const id = this.port.addRule("firewall", dirOf(r), firewallRuleSpec(r));
    this.#rules.push(r);
    this.#ids.set(id, r);
    return id;
  }

  /** Removes a rule added by `add`; false when unknown. */
  remove(id: number): boolean {
    const r = this.#ids.get(id);
    if (!r) return false;
    this.port.assertMutable("rule change");
    this.#ids.delete(id);
    this.#rules = this.#rules.filter((x) => x !== r);
    return this.port.removeRule("firewall", dirOf(r), id);
  }
}

const dirOf = (r: FirewallRule) => r.direction === "in" ? DIR_IN : DIR_OUT;
