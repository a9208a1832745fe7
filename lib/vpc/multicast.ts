// What upstream's pipeline does to a guest's multicast before the switch replicates it (M2P
// forwarding lives in lib/switch/multicast.ts, not in the engine's layers): the gateway's
// anti-spoof, no TCP to a group, and the firewall's rules both ways (inbound default deny, so a
// subscribed instance needs a rule that admits the group's traffic, as upstream).

import { bytesEqual } from "../packet/bytes.ts";
import { PROTO_TCP } from "../packet/checksum.ts";
import { ActionMeta } from "../engine/predicate.ts";
import { DIR_OUT, type Direction, loadPacket, Packet } from "../engine/packet.ts";
import type { Port } from "../engine/port.ts";
import type { ResolvedConfig } from "./config.ts";
import { DROP_FIREWALL } from "./firewall.ts";
import { DROP_SPOOF } from "./gateway.ts";
import { type Reason, reason } from "../engine/reason.ts";

/** Drop reasons of multicast checks. */
export const DROP_TCP_MULTICAST = reason("tcp to a multicast group");
export const DROP_MCAST_DEFAULT = reason("default deny");
export const DROP_MCAST_PARSE = reason("parse");

/** Per-port multicast checks; allocation only for the scratch packet (multicast is rare). */
export class MulticastCheck {
  readonly #pkt = new Packet();
  readonly #am = new ActionMeta();
  constructor(private readonly port: Port, private readonly cfg: ResolvedConfig) {}

  /** Null when the guest may send (DIR_OUT) or receive (DIR_IN) this frame, else why not. */
  check(dir: Direction, buf: Uint8Array, off: number, len: number): Reason | null {
    const pkt = this.#pkt;
    if (loadPacket(pkt, buf, off, len) !== null) return DROP_MCAST_PARSE;
    const lv = pkt.meta.outer;
    if (lv.proto === PROTO_TCP) return DROP_TCP_MULTICAST;
    if (dir === DIR_OUT && !this.#fromGuest(buf, lv.ether, lv.l3, lv.ipVersion)) return DROP_SPOOF;
    const am = this.#am;
    am.clear();
    const fw = this.port.layer("firewall");
    const r = fw.rules[dir].find(pkt, am);
    if (r === null) return fw.defaults[dir] === "deny" ? DROP_MCAST_DEFAULT : null;
    // Allow rules pass; deny (and the ICMP-error rule, meaningless for a group) drop.
    return r.action.kind === "deny" || r.action.kind === "static" ? DROP_FIREWALL : null;
  }

  #fromGuest(b: Uint8Array, ether: number, l3: number, v: number): boolean {
    if (ether < 0 || !bytesEqual(b, ether + 6, this.cfg.guestMac, 0, 6)) return false;
    const own = v === 4 ? this.cfg.v4?.privateIp : v === 6 ? this.cfg.v6?.privateIp : undefined;
    return !!own && bytesEqual(b, l3 + (v === 4 ? 12 : 8), own, 0, own.length);
  }
}
