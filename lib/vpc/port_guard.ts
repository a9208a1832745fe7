// Checks a VPC port makes before the engine, on the fast path too (the UFT key is the 5-tuple, so
// nothing in it would catch these): the guest's source MAC outbound, and inbound Geneve with an
// unknown critical option or another VNI.

import type { Packet } from "../engine/packet.ts";
import { DIR_OUT, type Direction } from "../engine/packet.ts";
import { type Reason, reason } from "../engine/reason.ts";
import { DROP_SPOOF } from "./gateway.ts";

/** Drop reasons decided before the engine runs. */
export const DROP_UNKNOWN_CRITICAL = reason("geneve unknown critical option");
export const DROP_VNI_MISMATCH = reason("geneve vni mismatch");

/** The layer a pre-engine refusal is counted against. */
export function refusedBy(why: Reason): string {
  return why === DROP_SPOOF ? "gateway" : "overlay";
}

/** Why a packet is refused before the engine (a drop reason), or null. */
export function refusal(dir: Direction, pkt: Packet, guestMac: Uint8Array, vni: number) {
  const meta = pkt.meta;
  if (dir === DIR_OUT) {
    const e = meta.outer.ether, b = pkt.buf, g = guestMac;
    if (
      e < 0 || b[e + 6] !== g[0] || b[e + 7] !== g[1] || b[e + 8] !== g[2] ||
      b[e + 9] !== g[3] || b[e + 10] !== g[4] || b[e + 11] !== g[5]
    ) return DROP_SPOOF;
  } else if (meta.encap) {
    if (meta.geneveUnknownCritical) return DROP_UNKNOWN_CRITICAL;
    if (meta.vni !== vni) return DROP_VNI_MISMATCH;
  }
  return null;
}
