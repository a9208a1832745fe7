// Port subscriptions and M2P mappings arrive as independent resources, in any order, while the
// switch only accepts a subscription to a group that already has an M2P mapping (and forgets
// members when a mapping goes). This keeps the desired subscriptions and applies whatever the
// current mappings allow, so neither order nor removal and re-adding of a mapping loses any.

import { ipToString, parseIp } from "../packet/bytes.ts";
import type { Switch, SwitchCommand } from "../switch/switch.ts";
import { InvalidField } from "../contract/field_error.ts";

function norm(group: string): string {
  const b = parseIp(group);
  return b ? ipToString(b) : group;
}

/** Desired subscriptions and mapped groups of one switch. */
export class McastState {
  private readonly subs = new Map<string, Set<string>>();
  /** Normalized group → the group text the switch was given. */
  private readonly mapped = new Map<string, string>();

  /** `command` hands a typed command to the switch (the reconciler's one path to it). */
  constructor(
    private readonly sw: Pick<Switch, "port">,
    private readonly command: (cmd: SwitchCommand) => void,
  ) {}

  private subscribe(port: string, group: string): void {
    this.command({ op: "subscribe", port, group });
  }

  private unsubscribe(port: string, group: string): void {
    this.command({ op: "unsubscribe", port, group, ifPresent: true });
  }

  /** Replaces the groups `port` subscribes to (null: none). Throws (changing nothing) if refused. */
  setSubscription(port: string, groups: string[] | null): void {
    const next = new Set((groups ?? []).map(norm));
    const prev = this.subs.get(port) ?? new Set<string>();
    const live = this.sw.port(port) !== undefined;
    if (groups !== null && !live) throw new InvalidField("port", `no port ${port}`);
    const added: string[] = [];
    try {
      for (const g of next) {
        if (prev.has(g) || !live || !this.mapped.has(g)) continue;
        this.subscribe(port, this.mapped.get(g)!);
        added.push(g);
      }
    } catch (e) {
      for (const g of added) this.unsubscribe(port, this.mapped.get(g)!);
      throw e;
    }
    if (live) {
      for (const g of prev) {
        if (!next.has(g) && this.mapped.has(g)) this.unsubscribe(port, this.mapped.get(g)!);
      }
    }
    if (groups === null) this.subs.delete(port);
    else this.subs.set(port, next);
  }

  /** Sets (or with null clears) an M2P mapping, then subscribes every port that wants it. */
  setM2p(group: string, underlay: string | null): void {
    const g = norm(group);
    if (underlay === null) {
      this.command({ op: "clearM2p", group, ifPresent: true });
      this.mapped.delete(g);
      return;
    }
    this.command({ op: "setM2p", group, underlay });
    this.mapped.set(g, group);
    for (const [port, want] of this.subs) {
      if (want.has(g) && this.sw.port(port)) this.subscribe(port, group);
    }
  }

  /** A port (re)appeared: subscribe it to its wanted, mapped groups. */
  portAdded(port: string): void {
    for (const g of this.subs.get(port) ?? []) {
      const text = this.mapped.get(g);
      if (text !== undefined) this.subscribe(port, text);
    }
  }
}
