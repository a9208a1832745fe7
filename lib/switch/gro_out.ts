// Receive coalescing before the VPC pipeline: a guest without TSO sends its TCP stream as
// MSS-sized frames, and each one used to cross the pipeline, Geneve and one underlay send on
// its own. Consecutive in-order segments of one flow from the same receive batch are merged in
// place into one large segment (as large as the underlay holds after encapsulation), which then
// takes the large-segment path: one pipeline pass, one Geneve packet with the Oxide MSS option.
// Only segments whose TCP checksum checks are merged, and the merged checksum is built from
// their payload sums, so a guest's bad checksum is never hidden: that segment travels alone,
// unchanged, and the receiver drops it as it would have.

import type { FrameBatch } from "../link/link.ts";
import { copyBytes, setU16, u16, u32 } from "../packet/bytes.ts";
import { fillIpv4HeaderChecksum, finish, fold, sum16, tcpHeaderSum } from "../packet/checksum.ts";
import { leavePartial } from "./partial_csum.ts";
import { ETH_ETHERTYPE, ETHERNET_HEADER_LEN, ETHERTYPE_IPV4 } from "../packet/ethernet.ts";
import { IPV4_HEADER_LEN, IPV4_TOTAL_LEN } from "../packet/ipv4.ts";
import { IPV6_HEADER_LEN, IPV6_PAYLOAD_LEN } from "../packet/ipv6.ts";
import { TCP_CHECKSUM, TCP_FLAGS, TCP_SEQ } from "../packet/tcp.ts";
import { ipEnd, sameHeaders, tcpHeaders } from "./coalesce.ts";
import type { SwitchPort } from "./port.ts";
import { DROP, EV, type SwitchCounters } from "./counters.ts";
import { ENCAP_OVERHEAD, type OverlayPath } from "./overlay.ts";
import type { PacketMeta } from "../packet/meta.ts";
import { parseFrame } from "../packet/parse.ts";

const ACK = 0x10, PSH = 0x08;

/** The train held back from a port's receive batch (one at a time, in one rx slot). */
export class OutTrain {
  /** rx slot of the held frame (the train's head, payload appended in place), -1 when none. */
  slot = -1;
  /** The port it came from. */
  port: SwitchPort | null = null;
  /** Payload bytes of the head: the MSS of the train. */
  mss = 0;
  /** Segments merged so far (1: the head alone, left untouched). */
  count = 0;
  private room = 0;
  private hdr = 0;
  private v4 = false;
  private next = 0;
  private closed = false;
  private paySum = 0;

  constructor(
    private readonly ov: OverlayPath,
    private readonly meta: PacketMeta,
    private readonly counters: SwitchCounters,
    private readonly underlayMtu: () => number,
  ) {}

  /**
   * Holds frame `i` of `rx` (a plain frame from `port`, parsed, bound for its pipeline) as the
   * head of a train when it is a unicast TCP segment a continuation could join; true when held.
   */
  hold(port: SwitchPort, rx: FrameBatch, i: number): boolean {
    const b = rx.bufs[i], off = rx.offs[i], len = rx.lens[i];
    if (port.pipeline === null || (b[off] & 1) !== 0) return false;
    const pay = tcpHeaders(b, off, len);
    if (pay < 0) return false;
    const room = this.underlayMtu() - ENCAP_OVERHEAD - (pay - off - ETHERNET_HEADER_LEN);
    const v4 = u16(b, off + ETH_ETHERTYPE) === ETHERTYPE_IPV4;
    const l4 = off + ETHERNET_HEADER_LEN + (v4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN);
    const end = ipEnd(b, off + ETHERNET_HEADER_LEN), n = end - pay;
    // ACK only (a PSH/FIN/SYN/RST/URG/ECE/CWR head takes no continuation), an even MSS so
    // the payload sums add up, room for at least two, no padding past the datagram.
    if (b[l4 + TCP_FLAGS] !== ACK || n <= 0 || (n & 1) !== 0 || 2 * n > room) return false;
    if (end !== off + len) return false;
    this.slot = i;
    this.port = port;
    this.mss = n;
    this.count = 1;
    this.room = room;
    this.hdr = pay - off;
    this.v4 = v4;
    this.next = (u32(b, l4 + TCP_SEQ) + n) >>> 0;
    this.closed = false;
    return true;
  }

  /**
   * Offers frame `i` of `rx` from `port` to the held train: true when it joined; otherwise the
   * train is sent on first (false: the caller handles the frame as usual).
   */
  offer(port: SwitchPort, rx: FrameBatch, i: number): boolean {
    if (this.append(port, rx, i)) return true;
    this.flush(rx);
    return false;
  }

  /** Sends the held train (if any) through its port's pipeline: at the end of every batch. */
  flush(rx: FrameBatch): void {
    if (this.slot < 0) return;
    const port = this.port!, merged = this.count > 1, mss = this.mss;
    const k = this.release(rx);
    if (parseFrame(rx.bufs[k], rx.offs[k], rx.lens[k], this.meta, false) !== null) {
      return void this.counters.drops[DROP.parse]++;
    }
    if (!merged) return this.ov.out(port, rx, k);
    this.counters.events[EV["gro-out"]]++;
    // The large-segment path: the MSS option tells the far sled how to cut it again.
    this.ov.gsoMss = mss;
    try {
      this.ov.out(port, rx, k);
    } finally {
      this.ov.gsoMss = 0;
    }
  }

  /** Appends frame `i` of `rx` from `port` to the held train; true when it joined. */
  private append(port: SwitchPort, rx: FrameBatch, i: number): boolean {
    if (this.closed || port !== this.port) return false;
    const k = this.slot, p = rx.bufs[k], po = rx.offs[k];
    const b = rx.bufs[i], off = rx.offs[i], len = rx.lens[i];
    const pay = tcpHeaders(b, off, len), hdr = this.hdr, v4 = this.v4;
    if (
      pay < 0 || pay - off !== hdr || u16(b, off + ETH_ETHERTYPE) !== u16(p, po + ETH_ETHERTYPE)
    ) {
      return false;
    }
    const l4 = ETHERNET_HEADER_LEN + (v4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN);
    const end = ipEnd(b, off + ETHERNET_HEADER_LEN), n = end - pay;
    const f = b[off + l4 + TCP_FLAGS];
    if ((f !== ACK && f !== (ACK | PSH)) || n <= 0 || n > this.mss || end !== off + len) {
      return false;
    }
    const pEnd = po + rx.lens[k];
    if ((this.count * this.mss) + n > this.room || pEnd + n > p.length) return false;
    if (u32(b, off + l4 + TCP_SEQ) !== this.next || !sameHeaders(p, po, b, off, hdr, v4)) {
      return false;
    }
    const s = checkedPayloadSum(b, off, hdr, n, v4);
    if (s < 0) return false;
    if (this.count === 1) {
      const h = checkedPayloadSum(p, po, hdr, this.mss, v4);
      if (h < 0) return false;
      this.paySum = h;
    }
    copyBytes(b, pay, p, pEnd, n);
    rx.lens[k] += n;
    this.paySum += s;
    this.count++;
    this.next = (this.next + n) >>> 0;
    p[po + l4 + TCP_FLAGS] = f;
    // A short or pushed segment ends the train (what follows belongs after a gap or a push).
    if (f !== ACK || n < this.mss) this.closed = true;
    return true;
  }

  /**
   * Ends the held train: lengths, IPv4 header checksum and the TCP checksum (partial when the
   * batch carries headers, else from the segments' payload sums) written when segments were
   * merged. Returns its rx slot.
   */
  private release(rx: FrameBatch): number {
    const k = this.slot;
    this.slot = -1;
    this.port = null;
    if (this.count < 2) return k;
    const p = rx.bufs[k], po = rx.offs[k], l3 = po + ETHERNET_HEADER_LEN;
    const l4 = l3 + (this.v4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN);
    const ipLen = rx.lens[k] - ETHERNET_HEADER_LEN, tcpLen = po + rx.lens[k] - l4;
    if (this.v4) {
      setU16(p, l3 + IPV4_TOTAL_LEN, ipLen);
      fillIpv4HeaderChecksum(p, l3);
    } else setU16(p, l3 + IPV6_PAYLOAD_LEN, ipLen - IPV6_HEADER_LEN);
    if (rx.vnet !== null) {
      // Every merged checksum was checked: the train's is left partial, like the segments of a
      // TSO frame (partial_csum.ts), so the receiving sled has none to check again.
      leavePartial(p, po, l3, l4, this.v4, tcpLen, rx.vnet, k, this.hdr);
      return k;
    }
    setU16(p, l4 + TCP_CHECKSUM, 0);
    const hs = tcpHeaderSum(p, l3, l4, po + this.hdr, tcpLen, this.v4);
    setU16(p, l4 + TCP_CHECKSUM, finish(hs + this.paySum));
    return k;
  }
}

/** The sum of the payload of the TCP segment at `b[off]`, or -1 when its checksum is wrong. */
function checkedPayloadSum(b: Uint8Array, off: number, hdr: number, n: number, v4: boolean) {
  const l3 = off + ETHERNET_HEADER_LEN, l4 = l3 + (v4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN);
  const tcpLen = off + hdr - l4 + n;
  const s = sum16(b, off + hdr, n);
  return fold(tcpHeaderSum(b, l3, l4, off + hdr, tcpLen, v4) + s) === 0xffff ? s : -1;
}
