// The reusable packet object the engine transforms in place, directions, result codes and the
// reusable result record. Nothing here allocates per packet.

import { PacketMeta } from "../packet/meta.ts";
import type { HeaderLevel } from "../packet/meta.ts";
import type { FlowId } from "../packet/flow.ts";
import { IPV4_DST, IPV4_SRC } from "../packet/ipv4.ts";
import { IPV6_DST, IPV6_SRC } from "../packet/ipv6.ts";
import type { ParseError } from "../packet/error.ts";
import type { UftEntry } from "./uft.ts";
import { parseFrame } from "../packet/parse.ts";
import type { Reason } from "./reason.ts";

/** Direction from the client's point of view: towards the network. */
export const DIR_OUT = 0;
/** Direction from the client's point of view: towards the client. */
export const DIR_IN = 1;
/** DIR_OUT or DIR_IN. */
export type Direction = 0 | 1;

/** Text form of a direction, for counters and traces. */
export function dirName(dir: Direction): "out" | "in" {
  return dir === DIR_OUT ? "out" : "in";
}

/** The packet passed every layer; `buf[off, off+len)` holds the bytes to emit. */
export const RES_MODIFIED = 0;
/** A layer (rule or default) or a table limit dropped the packet; see `layer`/`reason`. */
export const RES_DROP = 1;
/** A layer generated a reply; send `hairpin` back the way the packet came. */
export const RES_HAIRPIN = 2;
/** The engine could not process the packet (bad port state, no headroom, …); see `reason`. */
export const RES_ERROR = 3;

/**
 * One frame being processed: `buf[off, off+len)` plus its parse result. The caller fills `meta`
 * (parseFrame) before `Port.process`; the engine keeps `meta` consistent with every change it
 * makes (encap prepends into the headroom before `off`, decap advances `off`).
 */
export class Packet {
  buf: Uint8Array;
  off: number;
  len: number;
  readonly meta: PacketMeta;
  /**
   * The client frame's TCP/UDP checksum field holds only the pseudo-header sum, to be completed
   * by the device (CHECKSUM_PARTIAL, virtio-net NEEDS_CSUM). The caller sets it per packet after
   * `set`/`loadPacket` (which clear it); rewrites then keep the field a pseudo-header sum. When
   * encap/decap moves `off`, the caller shifts its checksum-start offset by the same amount.
   */
  csumPartial = false;

  constructor(buf: Uint8Array = new Uint8Array(0), off = 0, len = 0, meta = new PacketMeta()) {
    this.buf = buf;
    this.off = off;
    this.len = len;
    this.meta = meta;
  }

  /** Re-points the packet at a new frame (the caller then fills `meta`). */
  set(buf: Uint8Array, off: number, len: number): this {
    this.buf = buf;
    this.off = off;
    this.len = len;
    this.csumPartial = false;
    return this;
  }

  /** A copy of the current frame bytes (tests and traces, never the fast path). */
  bytes(): Uint8Array {
    return this.buf.slice(this.off, this.off + this.len);
  }
}

/** Why `process` ended; one instance is reused for every packet. */
export class ProcessResult {
  /** RES_MODIFIED, RES_DROP, RES_HAIRPIN or RES_ERROR. */
  code = RES_MODIFIED;
  /** True when the packet was handled by a UFT hit (the fast path). */
  fastPath = false;
  /** The layer that dropped or hairpinned, "" otherwise. */
  layer = "";
  /** The rule id that decided a drop/hairpin, -1 for a layer default or a flow-table entry. */
  rule = -1;
  /** Why the packet was dropped or failed, null otherwise. */
  cause: Reason | null = null;
  /** The generated reply of a hairpin (a complete frame). */
  hairpin: Uint8Array | null = null;
  /** The UFT entry that carried (or was created for) the packet, null otherwise. */
  entry: UftEntry | null = null;

  /** Clears the record before a packet. */
  reset(): void {
    this.code = RES_MODIFIED;
    this.fastPath = false;
    this.layer = "";
    this.rule = -1;
    this.cause = null;
    this.hairpin = null;
    this.entry = null;
  }

  /** The name of `cause` ("" when none). */
  get reason(): string {
    return this.cause === null ? "" : this.cause.name;
  }
}

/** Fills `out` with the flow id of `level`; false when the level carries no IP packet. */
export function flowOfLevel(buf: Uint8Array, level: HeaderLevel, out: FlowId): boolean {
  const l3 = level.l3;
  if (level.ipVersion === 4) {
    out.setV4(level.proto & 0xff, buf, l3 + IPV4_SRC, l3 + IPV4_DST, level.srcPort, level.dstPort);
    return true;
  }
  if (level.ipVersion === 6) {
    out.setV6(level.proto & 0xff, buf, l3 + IPV6_SRC, l3 + IPV6_DST, level.srcPort, level.dstPort);
    return true;
  }
  return false;
}

/** Points `pkt` at a frame and parses it into `pkt.meta`; null on success, else the ParseError. */
export function loadPacket(
  pkt: Packet,
  buf: Uint8Array,
  off: number,
  len: number,
): ParseError | null {
  pkt.set(buf, off, len);
  return parseFrame(buf, off, len, pkt.meta);
}
