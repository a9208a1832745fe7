// A sled on memory links, shaped like the reference test bed: host port xde0, two system zones,
// two underlay links to one rack router (fe80::ff on each), and a fake clock.

import { buildFrame, type LayerSpec } from "../../lib/packet/build.ts";
import { MemoryLink, memoryPair } from "../../lib/link/memory.ts";
import { Switch, type SwitchConfig } from "../../lib/switch/switch.ts";
import { GatherVnetLink, VnetLink } from "./vnet_link.ts";

export const GW_MAC = "a8:40:25:ff:77:77";
export const GW_LL = "fe80::aa40:25ff:feff:7777";
export const SLED = "fd00:1::1";
export const HOST = { name: "xde0", mac: "a8:40:25:00:00:01", ip: "fd00:1::1" };
export const ZA = { name: "zone-a", mac: "a8:40:25:00:01:0a", ip: "fd00:1::10" };
export const ZB = { name: "zone-b", mac: "a8:40:25:00:01:0b", ip: "fd00:1::11" };
export const UL = [
  { name: "ul0", mac: "a8:40:25:00:10:00", ll: "fe80::1:1", rackMac: "a8:40:25:ee:00:00" },
  { name: "ul1", mac: "a8:40:25:00:10:01", ll: "fe80::1:2", rackMac: "a8:40:25:ee:00:01" },
];
export const RACK_LL = "fe80::ff";
export const REMOTE = "fd00:2::10";

/** A test sled. `zones[name]` / `rack[i]` are the far ends the test talks through. */
export interface Sled {
  sw: Switch;
  clock: { t: number };
  zones: Record<string, MemoryLink>;
  rack: MemoryLink[];
  /** Switch-side ends of the underlay links. */
  uplinks: MemoryLink[];
  /** With `ulVnet`: the underlay links as the switch sees them (virtio-net headers both ways). */
  ulVnet: VnetLink[];
  /** Advances the fake clock by `ms` and runs one pass. */
  step(ms?: number): number;
}

/** Builds the sled; `portMtu`/`ulMtu` size the links. */
export function sled(
  opts: {
    portMtu?: number;
    ulMtu?: number;
    /** "gather": underlay links that also gather trains (`GatherVnetLink`). */
    ulVnet?: boolean | "gather";
    cfg?: Partial<SwitchConfig>;
  } = {},
) {
  const clock = { t: 1000 };
  const now = () => clock.t;
  const uplinks: MemoryLink[] = [], rack: MemoryLink[] = [];
  for (const u of UL) {
    const [mine, far] = memoryPair(
      { name: u.name, mac: u.mac, mtu: opts.ulMtu ?? 9000, clock: now },
      { name: `rack-${u.name}`, mac: u.rackMac, mtu: opts.ulMtu ?? 9000, clock: now },
    );
    uplinks.push(mine);
    rack.push(far);
  }
  // A packet socket with PACKET_VNET_HDR, as the runtime opens the underlay.
  const ulVnet = opts.ulVnet
    ? uplinks.map((l) => opts.ulVnet === "gather" ? new GatherVnetLink(l) : new VnetLink(l))
    : [];
  const sw = new Switch({
    underlayPrefix: "fd00::/16",
    sledAddress: SLED,
    underlay: uplinks.map((l, i) => ({ link: ulVnet[i] ?? l, linkLocal: UL[i].ll })),
    clock: now,
    batch: 8,
    ...opts.cfg,
  });
  const zones: Record<string, MemoryLink> = {};
  const s: Sled = {
    sw,
    clock,
    zones,
    rack,
    uplinks,
    ulVnet,
    step(ms = 0) {
      clock.t += ms;
      return sw.poll();
    },
  };
  addZone(s, HOST, "host", opts.portMtu);
  addZone(s, ZA, "system", opts.portMtu);
  addZone(s, ZB, "system", opts.portMtu);
  return s;
}

/** Adds a port and keeps the zone's end of its link. */
export function addZone(
  s: Sled,
  z: { name: string; mac: string; ip: string },
  kind: "host" | "system" | "instance",
  mtu = 1500,
): MemoryLink {
  const [mine, far] = memoryPair(
    { name: z.name, mtu, clock: () => s.clock.t },
    { name: `${z.name}-zone`, mac: z.mac, mtu, clock: () => s.clock.t },
  );
  s.sw.addPort({ name: z.name, kind, link: mine, mac: z.mac, underlay: [z.ip] });
  s.zones[z.name] = far;
  return far;
}

/** Ethernet + IPv6 + UDP with `size` payload bytes. */
export function udp6(
  srcMac: string,
  dstMac: string,
  src: string,
  dst: string,
  opts: { sport?: number; dport?: number; hop?: number; size?: number } = {},
): Uint8Array {
  const payload = new Uint8Array(opts.size ?? 32).map((_, i) => (i * 7 + 3) & 0xff);
  return buildFrame([
    { type: "ethernet", src: srcMac, dst: dstMac },
    { type: "ipv6", src, dst, hopLimit: opts.hop ?? 64 },
    { type: "udp", srcPort: opts.sport ?? 40000, dstPort: opts.dport ?? 7 },
    { type: "payload", data: payload },
  ]);
}

/** Builds a frame (re-export for tests). */
export function frame(layers: LayerSpec[]): Uint8Array {
  return buildFrame(layers);
}

/** The multicast NS the switch sends for the rack router on underlay link `i`. */
export function expectedMulticastNs(i: number): Uint8Array {
  return buildFrame([
    { type: "ethernet", src: UL[i].mac, dst: "33:33:ff:00:00:ff" },
    { type: "ipv6", src: UL[i].ll, dst: "ff02::1:ff00:ff", hopLimit: 255 },
    {
      type: "ndp",
      kind: "ns",
      target: RACK_LL,
      options: [{ type: "sourceLinkAddr", mac: UL[i].mac }],
    },
  ]);
}

/** The rack router's solicited NA for its link-local on underlay link `i`. */
export function rackNa(i: number): Uint8Array {
  return buildFrame([
    { type: "ethernet", src: UL[i].rackMac, dst: UL[i].mac },
    { type: "ipv6", src: RACK_LL, dst: UL[i].ll, hopLimit: 255 },
    {
      type: "ndp",
      kind: "na",
      target: RACK_LL,
      router: true,
      solicited: true,
      override: true,
      options: [{ type: "targetLinkAddr", mac: UL[i].rackMac }],
    },
  ]);
}

/** Answers every NS waiting at the rack ends (only for links in `answer`); returns NS counts. */
export function rackAnswers(s: Sled, answer: boolean[] = [true, true]): number[] {
  return s.rack.map((r, i) => {
    const got = r.take().filter((f) => f[54] === 135);
    if (got.length > 0 && answer[i]) r.inject(rackNa(i));
    return got.length;
  });
}

/** A sled with a route for the whole underlay via the rack on both links, resolved. */
export function routedSled(opts: Parameters<typeof sled>[0] = {}): Sled {
  const s = sled(opts);
  s.sw.setRoute("fd00:2::/64", [{ link: "ul0", via: RACK_LL }, { link: "ul1", via: RACK_LL }]);
  s.step();
  rackAnswers(s);
  s.step();
  return s;
}

/** Hex of a frame, for readable assertion failures. */
export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
