// TCP connection tracking, from the client's point of view (out = the client sends). It exists
// to reclaim flow entries: it decides when a flow is closed, when a 5-tuple is reused, and how
// long an idle flow may live.

import type { HeaderLevel } from "../packet/meta.ts";
import { i32 } from "../packet/bytes.ts";
import { TCP_ACK_NO, TCP_SEQ } from "../packet/tcp.ts";
import { DIR_IN, DIR_OUT, type Direction } from "./packet.ts";
import type { UftEntry } from "./uft.ts";

export const TCP_CLOSED = 0;
export const TCP_LISTEN = 1;
export const TCP_SYN_SENT = 2;
export const TCP_SYN_RCVD = 3;
export const TCP_ESTABLISHED = 4;
export const TCP_CLOSE_WAIT = 5;
export const TCP_LAST_ACK = 6;
export const TCP_FIN_WAIT_1 = 7;
export const TCP_FIN_WAIT_2 = 8;
export const TCP_TIME_WAIT = 9;

/** State names, indexed by state. */
export const TCP_STATE_NAMES = [
  "CLOSED",
  "LISTEN",
  "SYN_SENT",
  "SYN_RCVD",
  "ESTABLISHED",
  "CLOSE_WAIT",
  "LAST_ACK",
  "FIN_WAIT_1",
  "FIN_WAIT_2",
  "TIME_WAIT",
] as const;

const FIN = 0x01, SYN = 0x02, RST = 0x04, ACK = 0x10;

/** Outcome of one segment: carry on, the flow just closed, or the 5-tuple is being reused. */
export const TCP_OK = 0;
export const TCP_NOW_CLOSED = 1;
export const TCP_REUSE = 2;

/** Idle lifetimes per class of state, in ms. */
export interface TcpTtls {
  halfOpen: number;
  established: number;
  closing: number;
}

/**
 * Upstream OPTE's values (tcp.rs): incipient 5 s (the handshake and LAST_ACK), keepalive 8,000 s
 * (established, longer than the 2 h + probes of SO_KEEPALIVE), TIME_WAIT 120 s (the other
 * closing states).
 */
export const DEFAULT_TCP_TTLS: TcpTtls = {
  halfOpen: 5_000,
  established: 8_000_000,
  closing: 120_000,
};

/** The idle lifetime of a flow in `state`. */
export function tcpTtl(state: number, t: TcpTtls): number {
  switch (state) {
    case TCP_LISTEN:
    case TCP_SYN_SENT:
    case TCP_SYN_RCVD:
    case TCP_LAST_ACK:
      return t.halfOpen;
    case TCP_ESTABLISHED:
      return t.established;
    case TCP_CLOSED:
      return 0;
    default:
      return t.closing;
  }
}

/** Eviction priority: 0 = protected, else 1..65535 (higher goes first). */
export const EVICT_PROTECTED = 0;
const EVICT_MIN = 1;
/** Eviction priority of a dead (closed or removed) flow: reclaimed before anything else. */
export const EVICT_MAX = 65535;

/**
 * How eligible a flow is for eviction from a full table, after upstream's TcpExpiry: closed or
 * removed flows go first; half-open and LAST_ACK flows are protected for half their TTL, then
 * rise from 2 to 65534 as they near it; other closing states likewise between the half-open TTL
 * and their own; established flows are protected until idle `idleMs` (the UFT idle TTL), then
 * evictable at the lowest priority.
 */
export function tcpEvictPriority(f: TcpFlow, now: number, t: TcpTtls, idleMs: number): number {
  if (!f.live || f.state === TCP_CLOSED) return EVICT_MAX;
  const d = now - f.lastHit;
  switch (f.state) {
    case TCP_ESTABLISHED:
      return d >= idleMs ? EVICT_MIN : EVICT_PROTECTED;
    case TCP_LISTEN:
    case TCP_SYN_SENT:
    case TCP_SYN_RCVD:
    case TCP_LAST_ACK: {
      const mid = t.halfOpen / 2;
      return d > mid ? lerp(mid, t.halfOpen, d) : EVICT_PROTECTED;
    }
    default:
      return d > t.halfOpen ? lerp(t.halfOpen, t.closing, d) : EVICT_PROTECTED;
  }
}

/** 2 at `from` to 65534 at `to` (clamped), linear in `d`. */
function lerp(from: number, to: number, d: number): number {
  const lo = EVICT_MIN + 1, hi = EVICT_MAX - 1;
  if (d >= to || to <= from) return hi;
  return lo + Math.floor(((hi - lo) * (d - from)) / (to - from));
}

/** True for states past the handshake, where a bare SYN means the 5-tuple was reused. */
function pastHandshake(s: number): boolean {
  return s >= TCP_ESTABLISHED;
}

/** One tracked connection. */
export class TcpFlow {
  state = TCP_CLOSED;
  lastHit = 0;
  /** False once removed from the table (closed, expired, evicted, reset). */
  live = true;
  /** Sequence number that acknowledges the client's / the peer's FIN (valid once `fin*Seen`). */
  finOut = 0;
  finIn = 0;
  finOutSeen = false;
  finInSeen = false;
  segments = 0;
  /** Which side opened the connection: DIR_OUT the client, DIR_IN the remote side. */
  opener: Direction = 0;
  /** The UFT entries built for this connection (cleared on removal). */
  readonly uft: [UftEntry | null, UftEntry | null] = [null, null];
  /** Index in the port's TCP table, keyed by the client-side outbound flow (valid while `live`). */
  idx = -1;
}

/** Records a FIN sent (`out`) or received at sequence `finAck` and moves `f` to `next`. */
function sawFin(f: TcpFlow, out: boolean, finAck: number, next: number): void {
  if (out) {
    f.finOut = finAck;
    f.finOutSeen = true;
  } else {
    f.finIn = finAck;
    f.finInSeen = true;
  }
  f.state = next;
}

/**
 * Advances `f` with the TCP segment at `lv` travelling `dir`; returns TCP_OK, TCP_NOW_CLOSED or
 * TCP_REUSE (the caller tears the flow down and processes the segment as a new flow).
 */
export function tcpStep(f: TcpFlow, dir: Direction, buf: Uint8Array, lv: HeaderLevel): number {
  const flags = lv.tcpFlags;
  f.segments++;
  if (flags & RST) {
    f.state = TCP_CLOSED;
    return TCP_NOW_CLOSED;
  }
  const syn = (flags & SYN) !== 0, ack = (flags & ACK) !== 0, fin = (flags & FIN) !== 0;
  if (syn && !ack && pastHandshake(f.state)) return TCP_REUSE;
  const l4 = lv.l4;
  const seq = i32(buf, l4 + TCP_SEQ), ackNo = i32(buf, l4 + TCP_ACK_NO);
  // The FIN occupies the sequence number after the segment's data (and after a SYN).
  const finAck = (seq + (lv.ipEnd - lv.payload) + (syn ? 1 : 0) + 1) | 0;
  const out = dir === DIR_OUT, inb = dir === DIR_IN;
  switch (f.state) {
    case TCP_CLOSED:
      if (syn && !ack) f.state = out ? TCP_SYN_SENT : TCP_LISTEN;
      else if (fin) {
        // Picked up mid-close (entries were reclaimed): track the close from here.
        sawFin(f, out, finAck, out ? TCP_FIN_WAIT_1 : TCP_CLOSE_WAIT);
      } else f.state = TCP_ESTABLISHED;
      break;
    case TCP_LISTEN:
      if (out && syn && ack) f.state = TCP_SYN_RCVD;
      break;
    case TCP_SYN_SENT:
      if (inb && syn) f.state = ack ? TCP_ESTABLISHED : TCP_SYN_RCVD;
      break;
    case TCP_SYN_RCVD:
    case TCP_ESTABLISHED:
      if (f.state === TCP_SYN_RCVD && ((ack && !syn) || (inb && syn && ack))) {
        f.state = TCP_ESTABLISHED;
      }
      if (fin) sawFin(f, out, finAck, out ? TCP_FIN_WAIT_1 : TCP_CLOSE_WAIT);
      break;
    case TCP_FIN_WAIT_1:
      if (inb) {
        if (fin) sawFin(f, false, finAck, TCP_TIME_WAIT);
        else if (ack && f.finOutSeen && ((ackNo - f.finOut) | 0) >= 0) {
          f.state = TCP_FIN_WAIT_2;
        }
      }
      break;
    case TCP_FIN_WAIT_2:
      if (inb && fin) sawFin(f, false, finAck, TCP_TIME_WAIT);
      break;
    case TCP_CLOSE_WAIT:
      if (out && fin) sawFin(f, true, finAck, TCP_LAST_ACK);
      break;
    case TCP_LAST_ACK:
      if (inb && ack && f.finOutSeen && ((ackNo - f.finOut) | 0) >= 0) {
        f.state = TCP_CLOSED;
        return TCP_NOW_CLOSED;
      }
      break;
  }
  return TCP_OK;
}
