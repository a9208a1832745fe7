// How to build a switch: the options of `new Switch(…)`, apart from the code that applies them
// so callers (runtime, tests, tools) can name them without the datapath.

import type { Link } from "../link/link.ts";
import type { NudTimers } from "./neighbor.ts";

/** One underlay link in the switch configuration. */
export interface UnderlayLinkSpec {
  link: Link;
  /** Our link-local address on it; EUI-64 of the link's MAC when absent. */
  linkLocal?: string;
}

/** How to build a switch. */
export interface SwitchConfig {
  /** The MAC every zone sees as its router; OPTE's a8:40:25:ff:77:77 by default. */
  gatewayMac?: string;
  /** The router's link-local address on every port; EUI-64 of gatewayMac by default. */
  gatewayLinkLocal?: string;
  /** Prefix of the underlay (pass-through destinations), e.g. "fd00::/16". */
  underlayPrefix: string;
  /** This sled's underlay address (source of ICMPv6 errors we send onto the underlay). */
  sledAddress: string;
  underlay: UnderlayLinkSpec[];
  /** Monotonic milliseconds; performance.now by default. */
  clock?: () => number;
  /** Frames per receive/transmit batch (32). */
  batch?: number;
  /** Bytes per frame buffer, headroom included (16 KiB + HEADROOM; 64 KiB + … with `vnet`). */
  frameSize?: number;
  /**
   * Carry virtio-net headers (links opened with offload): checksum-partial and GSO super-frames
   * cross pass-through paths whole; other paths complete the checksum and drop GSO frames.
   */
  vnet?: boolean;
  nud?: Partial<NudTimers>;
  /** Router lifetime in our RAs, seconds (1800). */
  raLifetime?: number;
  /** Minimum ms between neighbour-timer passes (20). */
  tickMs?: number;
  /** Period of pipeline flow expiry (`expire()` on every port's pipeline), ms (1000). */
  expireMs?: number;
}
