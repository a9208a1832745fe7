// The switch's control surface as data: typed commands (the userspace analog of xde's ioctls,
// applied between batches) and plain descriptions of ports and routes for the admin API.

import type { Link } from "../link/link.ts";
import { ipv6ToString, macToString } from "../packet/bytes.ts";
import type { Replication } from "./multicast.ts";
import type { PortSpec } from "./port.ts";
import type { Switch } from "./switch.ts";
import { InvalidField } from "../contract/field_error.ts";

/** A next hop as a routing daemon programs it. */
export interface NextHopSpec {
  /** Underlay link name. */
  link: string;
  /** The router's (link-local) address on that link. */
  via: string;
}

/**
 * Control operations, applied between batches (the userspace analog of xde's ioctls). A removal
 * with `ifPresent` is a no-op when there is nothing to remove; without it that is refused.
 */
export type SwitchCommand =
  | { op: "addPort"; spec: PortSpec }
  | { op: "removePort"; name: string }
  | { op: "setPaused"; name: string; paused: boolean }
  | { op: "setRoute"; prefix: string; nextHops: NextHopSpec[] }
  | { op: "removeRoute"; prefix: string; ifPresent?: boolean }
  | { op: "setM2p"; group: string; underlay: string }
  | { op: "clearM2p"; group: string; ifPresent?: boolean }
  | { op: "subscribe"; port: string; group: string }
  | { op: "unsubscribe"; port: string; group: string; ifPresent?: boolean }
  | { op: "setMcastForwarding"; underlay: string; nextHops: McastNextHopSpec[] };

/** A multicast forwarding next hop: a unicast underlay address and how far copies replicate. */
export interface McastNextHopSpec {
  via: string;
  replication: Replication;
}

/** Applies one command to `sw` (what `Switch.apply` and `submit` run between batches). */
export function applyCommand(sw: Switch, cmd: SwitchCommand): void {
  switch (cmd.op) {
    case "addPort":
      sw.addPort(cmd.spec);
      return;
    case "removePort":
      if (!sw.removePort(cmd.name)) throw new InvalidField(`ports.${cmd.name}`, "no such port");
      return;
    case "setPaused":
      if (!sw.setPaused(cmd.name, cmd.paused)) {
        throw new InvalidField(`ports.${cmd.name}`, "no such port");
      }
      return;
    case "setRoute":
      return sw.setRoute(cmd.prefix, cmd.nextHops);
    case "removeRoute":
      if (!sw.removeRoute(cmd.prefix) && !cmd.ifPresent) {
        throw new InvalidField(`routes.${cmd.prefix}`, "no such route");
      }
      return;
    case "setM2p":
      return sw.setM2p(cmd.group, cmd.underlay);
    case "clearM2p":
      if (!sw.clearM2p(cmd.group) && !cmd.ifPresent) {
        throw new InvalidField(`m2p.${cmd.group}`, "no such group");
      }
      return;
    case "subscribe":
      return sw.subscribe(cmd.port, cmd.group);
    case "unsubscribe":
      if (!sw.unsubscribe(cmd.port, cmd.group) && !cmd.ifPresent) {
        throw new InvalidField(`ports.${cmd.port}`, `not subscribed to ${cmd.group}`);
      }
      return;
    case "setMcastForwarding":
      return sw.setMcastForwarding(cmd.underlay, cmd.nextHops);
  }
}

/** Commands submitted from another context, applied in order at the start of a pass. */
export class CommandQueue {
  private readonly pending: { cmd: SwitchCommand; done: (e: Error | null) => void }[] = [];

  /** Queues `cmd`; resolves once applied, rejects with the refusal. */
  submit(cmd: SwitchCommand): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ cmd, done: (e) => e ? reject(e) : resolve() });
    });
  }

  /** Applies every queued command to `sw` (between two batches), settling each promise. */
  drain(sw: Pick<Switch, "apply">): void {
    while (this.pending.length > 0) {
      const p = this.pending.shift()!;
      try {
        sw.apply(p.cmd);
        p.done(null);
      } catch (e) {
        p.done(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }
}

/** One port as the admin API lists it. */
export interface PortDescription {
  name: string;
  kind: string;
  mac: string;
  underlay: string[];
  mtu: number;
  vni: number;
  overlay: boolean;
  link: { name: string; kind: string; up: boolean; stats: Link["stats"] };
}

/** Every port of `sw` as plain data. */
export function describePorts(sw: Switch): PortDescription[] {
  return sw.ports.map((p) => ({
    name: p.name,
    kind: p.kind,
    mac: macToString(p.mac),
    underlay: p.underlay.map((a) => ipv6ToString(a)),
    mtu: p.mtu,
    vni: p.vni,
    overlay: p.pipeline !== null,
    link: { name: p.link.name, kind: p.link.kind, up: p.link.isUp(), stats: { ...p.link.stats } },
  }));
}

/** One route with its next hops and which are live. */
export interface RouteDescription {
  prefix: string;
  nextHops: { link: string; via: string; live: boolean }[];
}

/** Every route of `sw` as plain data. */
export function describeRoutes(sw: Switch): RouteDescription[] {
  return sw.routes.routes.map((r) => ({
    prefix: `${ipv6ToString(r.prefix)}/${r.len}`,
    nextHops: r.hops.map((h) => ({
      link: h.ul.link.name,
      via: ipv6ToString(h.neighbor.addr),
      live: r.live.includes(h),
    })),
  }));
}
