// Switches on NullLinks for the benchmark and the allocation probe: each scenario returns a
// switch whose every poll() handles one batch of 32 frames on one path.

import { HEADROOM } from "../../lib/link/link.ts";
import { Switch } from "../../lib/switch/switch.ts";
import { NullLink } from "./nulllink.ts";
import type { LayerSpec } from "../../lib/packet/build.ts";
import { frame, GW_MAC, RACK_LL, REMOTE, SLED, udp6, UL, ZA, ZB } from "./harness.ts";
import { miniVpc } from "./minivpc.ts";

/** Benchmark paths. */
export type Path =
  | "zone→zone"
  | "zone→underlay"
  | "underlay→zone"
  | "overlay out"
  | "overlay in"
  | "overlay loopback"
  /** TSO super-frames of 8 TCP segments from an instance (4 per poll = 32 segments), out. */
  | "overlay tso"
  /** The same towards an xdeno peer (MSS option) over underlay links that gather: UDP_L4. */
  | "overlay uso"
  /** 32 in-order TCP segments of one flow from the underlay, coalesced towards an instance. */
  | "overlay gro"
  /** 32 in-order TCP segments of one flow zone→zone, coalesced towards an offloading zone. */
  | "zone gro"
  | "overlay out gro";

/** A switch ready to poll, and how to tell each poll did its work. */
export interface BenchSled {
  sw: Switch;
  /** Frames each poll takes in. */
  frames: number;
  /** Frames sent so far on every link of the switch. */
  sent: () => number;
  /** Frames each poll must send (fewer: the path did not do its work). */
  out: number;
  /** Frames dropped so far (switch counters, pipeline drops included). */
  drops: () => number;
  /** Makes every link allocate per received frame (the allocation check's own test). */
  plant: () => void;
}

/** The counters and hooks every bench sled offers, over `links` of switch `sw`. */
export function sledHooks(sw: Switch, links: NullLink[]) {
  return {
    sent: sentOn(links),
    drops: () => sw.counters.drops.reduce((a, b) => a + b, 0),
    plant: () => links.forEach((l) => l.plantAllocation = true),
  };
}

/** Sums the frames sent on `links` (a bench's proof that a poll forwarded). */
export function sentOn(links: NullLink[]): () => number {
  return () => {
    let n = 0;
    for (const l of links) n += l.stats.txFrames;
    return n;
  };
}

/** Polls once and throws unless it sent `b.out` frames (or, for a flood, dropped them all). */
export function pollChecked(b: BenchSled, what: string): void {
  const sent = b.sent(), dropped = b.out === 0 ? b.drops() : 0;
  b.sw.poll();
  if (b.out === 0) {
    const n = b.drops() - dropped;
    if (n < b.frames) throw new Error(`${what}: a poll dropped ${n} frames, expected ${b.frames}`);
  } else {
    const n = b.sent() - sent;
    if (n < b.out) throw new Error(`${what}: a poll sent ${n} frames, expected ${b.out}`);
  }
}

/** A switch on NullLinks with two zones, its ECMP route resolved; polls see no frames yet. */
export function nullSled(frameSize = 2048 + HEADROOM, vnet = false, ulVnet = false) {
  const ul = UL.map((u) => new NullLink(u.name, u.mac, 9000));
  // Underlay links with virtio-net headers gather, as the runtime's packet sockets do.
  if (ulVnet) { for (const l of ul) l.vnetHeader = new Uint8Array(10); }
  const sw = new Switch({
    underlayPrefix: "fd00::/16",
    sledAddress: SLED,
    underlay: ul.map((l, i) => ({ link: l, linkLocal: UL[i].ll })),
    batch: 32,
    frameSize,
    vnet,
    // Nobody answers probes here: keep the resolved next hops live for the whole run.
    nud: { probeMs: 1e12, deadMs: 1e12 },
  });
  const za = new NullLink("zone-a", "02:00:00:00:00:0a", 1500);
  const zb = new NullLink("zone-b", "02:00:00:00:00:0b", 1500);
  const all = [...ul, za, zb];
  sw.addPort({ name: "zone-a", kind: "system", link: za, mac: ZA.mac, underlay: [ZA.ip] });
  sw.addPort({ name: "zone-b", kind: "system", link: zb, mac: ZB.mac, underlay: [ZB.ip] });
  sw.setRoute("fd00:2::/64", [{ link: "ul0", via: RACK_LL }, { link: "ul1", via: RACK_LL }]);
  // Resolve both next hops the way the rack would.
  ul.forEach((l, i) => {
    l.frames = [frame([
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
    ])];
    l.perRecv = 1;
  });
  sw.poll();
  sw.poll();
  ul.forEach((l) => {
    l.frames = [];
    l.perRecv = 32;
  });
  return { sw, ul, za, zb, all };
}

/** A switch whose poll() runs 32 frames of `path`. */
export function benchSwitch(
  path: Path,
  payload = 10,
  opts: { vnet?: boolean } = {},
): BenchSled {
  const uso = path === "overlay uso";
  const big = path === "overlay tso" || path === "overlay gro" || path === "zone gro" ||
    path === "overlay out gro" || uso;
  const { sw, ul, za, zb, all } = nullSled(
    (big ? 65536 : 2048) + HEADROOM,
    opts.vnet || big,
    uso,
  );
  const sports = Array.from({ length: 32 }, (_, i) => 40000 + i);
  const size = { size: payload };
  switch (path) {
    case "zone→zone":
      za.frames = sports.map((p) => udp6(ZA.mac, GW_MAC, ZA.ip, ZB.ip, { ...size, sport: p }));
      break;
    case "zone gro":
      za.vnetHeader = zb.vnetHeader = new Uint8Array(10); // offloading TAPs
      za.frames = sports.map((_, k) =>
        frame([
          { type: "ethernet", src: ZA.mac, dst: GW_MAC },
          { type: "ipv6", src: ZA.ip, dst: ZB.ip },
          { type: "tcp", srcPort: 5201, dstPort: 40000, seq: 1 + k * 1000, ack: 1, flags: "A" },
          { type: "payload", data: new Uint8Array(1000) },
        ])
      );
      break;
    case "zone→underlay":
      za.frames = sports.map((p) => udp6(ZA.mac, GW_MAC, ZA.ip, REMOTE, { ...size, sport: p }));
      break;
    case "underlay→zone":
      ul[0].frames = sports.map((p) =>
        udp6(UL[0].rackMac, UL[0].mac, REMOTE, ZA.ip, { ...size, sport: p })
      );
      break;
    default: {
      const v2p = new Map([
        ["172.30.0.6", {
          mac: "a8:40:25:fa:00:06",
          sled: path === "overlay in" || path === "overlay loopback" ? SLED : REMOTE,
        }],
      ]);
      const mk = (name: string, mac: string) => {
        const l = new NullLink(name, mac, 1500);
        // The GRO target is an offloading TAP from the start (its queue then takes trains).
        if (path === "overlay gro" && name === "inst-b") l.vnetHeader = new Uint8Array(10);
        all.push(l);
        // A frozen pipeline clock: this measures the switch's path; with a moving clock the
        // engine sometimes boxes a number per packet (reported to the engine's owner).
        const clock = () => 1000;
        const pipeline = miniVpc({ name, mac, vni: 10, sled: SLED, v2p, clock, mss: uso });
        sw.addPort({ name, kind: "instance", link: l, mac, vni: 10, pipeline });
        return l;
      };
      const ia = mk("inst-a", "a8:40:25:fa:00:05");
      mk("inst-b", "a8:40:25:fa:00:06");
      const inner = (p: number, dst: string) =>
        [
          { type: "ethernet", src: "a8:40:25:fa:00:05", dst },
          { type: "ipv4", src: "172.30.0.5", dst: "172.30.0.6" },
          { type: "udp", srcPort: p, dstPort: 53 },
          { type: "payload", data: new Uint8Array(payload) },
        ] as LayerSpec[];
      if (path === "overlay gro") {
        ul[1].frames = sports.map((_, k) =>
          frame([
            { type: "ethernet", src: UL[1].rackMac, dst: UL[1].mac },
            { type: "ipv6", src: REMOTE, dst: SLED },
            { type: "udp", srcPort: 50000, dstPort: 6081, checksum: "zero" },
            { type: "geneve", vni: 10 },
            ...inner(0, "a8:40:25:fa:00:06").slice(0, 2),
            { type: "tcp", srcPort: 5201, dstPort: 40000, seq: 1 + k * 1000, ack: 1, flags: "A" },
            { type: "payload", data: new Uint8Array(1000) },
          ])
        );
      } else if (path === "overlay in") {
        ul[1].frames = sports.map((p) =>
          frame([
            { type: "ethernet", src: UL[1].rackMac, dst: UL[1].mac },
            { type: "ipv6", src: REMOTE, dst: SLED },
            { type: "udp", srcPort: 50000 + p, dstPort: 6081, checksum: "zero" },
            { type: "geneve", vni: 10 },
            ...inner(p, "a8:40:25:fa:00:06"),
          ])
        );
      } else if (path === "overlay tso" || uso) {
        const l = inner(40000, GW_MAC);
        l[2] = { type: "tcp", srcPort: 40000, dstPort: 5201, seq: 1, ack: 1, flags: "A" };
        l[3] = { type: "payload", data: new Uint8Array(8 * 1448) };
        ia.frames = [frame(l)];
        ia.perRecv = 4;
        ia.vnetHeader = Uint8Array.of(0, 1, 54, 0, 1448 & 0xff, 1448 >> 8, 0, 0, 0, 0);
      } else if (path === "overlay out gro") {
        // A guest without TSO: 32 in-order MSS segments, merged 6 to a large segment (the mini
        // VPC sets no MSS option, so each is cut again: gro_out and tunnel-segmented both run).
        ia.frames = sports.map((_, k) => {
          const l = inner(40000, GW_MAC);
          l[2] = {
            type: "tcp",
            srcPort: 40000,
            dstPort: 5201,
            seq: 1 + k * 1448,
            ack: 1,
            flags: "A",
          };
          l[3] = { type: "payload", data: new Uint8Array(1448).fill(k) };
          return frame(l);
        });
      } else {
        ia.frames = sports.map((p) => frame(inner(p, GW_MAC)));
      }
    }
  }
  sw.poll(); // first packets of each flow take the slow path
  // GRO hands the instance (zone) one coalesced frame per poll; every other path sends all 32.
  const gro = path === "overlay gro" || path === "zone gro";
  return {
    sw,
    frames: 32,
    // A TSO frame of 8 MSS leaves as one UDP_L4 frame (large segments of 6 and 2 MSS).
    out: gro ? 1 : path === "overlay out gro" ? 6 : uso ? 4 : 32,
    ...sledHooks(sw, all),
  };
}
