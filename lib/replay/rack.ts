// The rack as replay simulates it: every neighbour solicitation the switch sends on an underlay
// link is answered at once by the solicited address, with a MAC derived from that address, so
// next hops resolve without real neighbours and output captures are the same on every run. The
// solicitations themselves stay in the output; the answers are not switch output.

import { buildFrame } from "../packet/build.ts";
import { isParseError } from "../packet/error.ts";
import { PacketMeta } from "../packet/meta.ts";
import { NDP_OPT_SOURCE_LL, parseNdp } from "../packet/ndp.ts";
import { parseFrame } from "../packet/parse.ts";
import { Ipv6View } from "../packet/ipv6.ts";

const ICMPV6 = 58, NS = 135;

/**
 * The MAC a next hop answers with: 02 (locally administered, unicast) followed by the last five
 * bytes of its IPv6 address. fe80::1 → 02:00:00:00:00:01, fd00:99::a:b → 02:00:0a:00:0b.
 */
export function nextHopMac(addr: Uint8Array): Uint8Array {
  return Uint8Array.of(0x02, addr[11], addr[12], addr[13], addr[14], addr[15]);
}

const meta = new PacketMeta();

/** The solicited neighbour's advertisement for an NS the switch sent, or null for other frames. */
export function answerSolicitation(frame: Uint8Array): Uint8Array | null {
  if (parseFrame(frame, 0, frame.length, meta, false) !== null) return null;
  const o = meta.outer;
  if (o.ipVersion !== 6 || o.proto !== ICMPV6 || o.icmpType !== NS || o.ether < 0) return null;
  const ndp = parseNdp(frame, o.l4, o.ipEnd);
  if (isParseError(ndp)) return null;
  const ip = new Ipv6View(frame, o.l3);
  const target = ndp.target.slice();
  const mac = nextHopMac(target);
  const switchMac = ndp.linkAddr(NDP_OPT_SOURCE_LL) ?? frame.slice(o.ether + 6, o.ether + 12);
  return buildFrame([
    { type: "ethernet", src: mac, dst: switchMac.slice() },
    { type: "ipv6", src: target, dst: ip.src.slice(), hopLimit: 255 },
    {
      type: "ndp",
      kind: "na",
      target,
      router: true,
      solicited: true,
      override: true,
      options: [{ type: "targetLinkAddr", mac }],
    },
  ]);
}
