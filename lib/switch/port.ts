// A switch port: one client (the GZ's host interface, a system zone or an instance) behind one
// Link, with its MAC, its underlay addresses and its own transmit queue.

import type { CaptureLink } from "../link/capture.ts";
import type { Link } from "../link/link.ts";
import { parseIpv6, parseMac } from "../packet/bytes.ts";
import type { TxQueue } from "./txq.ts";
import type { Pipeline } from "./overlay.ts";
import { InvalidField } from "../contract/field_error.ts";

/** host: the GZ's IP interface (xde0); system: a system zone; instance: a customer VM/zone. */
export type PortKind = "host" | "system" | "instance";

/** How a port is described to `Switch.addPort`. */
export interface PortSpec {
  name: string;
  kind: PortKind;
  link: Link;
  /** The client's MAC address. */
  mac: string;
  /** Underlay IPv6 addresses passed through for this port (host and system ports). */
  underlay?: string[];
  /** The client's link-local address (informational; NDP works without it). */
  linkLocal?: string;
  /** Largest IP packet delivered to the client; the link's MTU when absent. */
  mtu?: number;
  /** Overlay VNI for (VNI, MAC) lookups; 0 for ports without an overlay identity. */
  vni?: number;
  /**
   * The VPC pipeline (an engine Port from lib/vpc): required for instances, the overlay
   * identity of a system zone. Without one, non-pass-through traffic is dropped and counted.
   */
  pipeline?: Pipeline;
}

/** A port as the datapath sees it. */
export class SwitchPort {
  readonly name: string;
  readonly kind: PortKind;
  readonly mac: Uint8Array;
  readonly underlay: Uint8Array[];
  readonly linkLocal: Uint8Array | null;
  readonly mtu: number;
  readonly vni: number;
  readonly pipeline: Pipeline | null;
  /** Paused by the admin: nothing is read from or delivered to the client. */
  paused = false;

  /** `link` is `spec.link` in the capture wrapper the switch gives every link; `tx` sends on it. */
  constructor(spec: PortSpec, readonly link: CaptureLink, readonly tx: TxQueue) {
    this.name = spec.name;
    this.kind = spec.kind;
    this.mac = mustMac(spec.mac, `ports.${spec.name}.mac`);
    this.underlay = (spec.underlay ?? []).map((a, i) =>
      mustIpv6(a, `ports.${spec.name}.underlay[${i}]`)
    );
    this.linkLocal = spec.linkLocal
      ? mustIpv6(spec.linkLocal, `ports.${spec.name}.linkLocal`)
      : null;
    this.mtu = spec.mtu ?? link.mtu;
    this.vni = spec.vni ?? 0;
    this.pipeline = spec.pipeline ?? null;
    if (spec.kind === "instance" && this.pipeline === null) {
      throw new InvalidField(
        `ports.${spec.name}.pipeline`,
        "an instance port needs its VPC pipeline",
      );
    }
  }

  /** True when the 16 bytes at `b[off]` are one of this port's underlay addresses. */
  owns(b: Uint8Array, off: number): boolean {
    const us = this.underlay;
    outer: for (let k = 0; k < us.length; k++) {
      const a = us[k];
      for (let i = 0; i < 16; i++) if (a[i] !== b[off + i]) continue outer;
      return true;
    }
    return false;
  }
}

/** Parses a MAC or throws an error naming `where`. */
export function mustMac(s: string, where: string): Uint8Array {
  const m = parseMac(s);
  if (!m) throw new InvalidField(where, `"${s}" is not a MAC address (expected six hex pairs)`);
  return m;
}

/** Parses an IPv6 address or throws an error naming `where`. */
export function mustIpv6(s: string, where: string): Uint8Array {
  const a = parseIpv6(s);
  if (!a) throw new InvalidField(where, `"${s}" is not an IPv6 address`);
  return a;
}

/** Parses `addr/len` or throws an error naming `where`. */
export function mustPrefix(s: string, where: string): { prefix: Uint8Array; len: number } {
  const [a, l] = s.split("/");
  const len = l === undefined ? 128 : Number(l);
  if (!/^\d{1,3}$/.test(l ?? "128") || len > 128) {
    throw new InvalidField(where, `"${s}" has a bad prefix length (expected /0 to /128)`);
  }
  return { prefix: mustIpv6(a, where), len };
}
