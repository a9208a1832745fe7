// A sled config for runtime tests and the two ways to drive it (in-process, Worker) behind one
// interface, so every scenario runs against both.

import { Config } from "../../lib/config/schema.ts";
import {
  type Change,
  diffStates,
  emptyState,
  stateFromConfig,
} from "../../lib/config/resources.ts";
import { MemoryPlatform } from "../../lib/runtime/platform.ts";
import { SwitchDatapath, WorkerDatapath } from "../../lib/runtime/mod.ts";
import type { AdminDatapath } from "../../lib/contract/datapath.ts";
import { buildFrame, type LayerSpec } from "../../lib/packet/build.ts";

export const GW_MAC = "a8:40:25:ff:77:77";
export const SLED = "fd00:1::1";
export const HOST = { name: "xde0", mac: "a8:40:25:00:00:01", ip: SLED };
export const ZA = { name: "zone-a", mac: "a8:40:25:00:01:0a", ip: "fd00:1::10" };
export const ZB = { name: "zone-b", mac: "a8:40:25:00:01:0b", ip: "fd00:1::11" };
export const VA = { name: "vm-a", mac: "a8:40:25:fa:00:0a", ip: "172.30.0.10" };
export const VB = { name: "vm-b", mac: "a8:40:25:fa:00:0b", ip: "172.30.0.11" };
export const UL_LL = "fe80::1:1";
export const RACK_LL = "fe80::ff";
export const RACK_MAC = "a8:40:25:ee:00:00";

/** The test sled's config file (already parsed as the appliance would). */
export function sledConfig(platform: "memory" | "linux" = "memory"): Config {
  return Config.parse({
    platform,
    sled: { underlayAddress: SLED, underlayPrefix: "fd00::/16" },
    underlay: {
      links: [{ name: "ul0", linkLocal: UL_LL }],
      routes: [{ prefix: "fd00:2::/64", nextHops: [{ link: "ul0", via: RACK_LL }] }],
    },
    ports: [
      { name: HOST.name, kind: "host", mac: HOST.mac, addresses: [`${HOST.ip}/64`] },
      { name: ZA.name, kind: "system", mac: ZA.mac, addresses: [`${ZA.ip}/64`] },
      { name: ZB.name, kind: "system", mac: ZB.mac, addresses: [`${ZB.ip}/64`] },
      { name: VA.name, kind: "instance", mac: VA.mac, overlay: { vni: 10, ipv4: `${VA.ip}/22` } },
      { name: VB.name, kind: "instance", mac: VB.mac, overlay: { vni: 10, ipv4: `${VB.ip}/22` } },
    ],
    mappings: {
      v2p: [
        { vni: 10, ip: VA.ip, mac: VA.mac, underlay: SLED },
        { vni: 10, ip: VB.ip, mac: VB.mac, underlay: SLED },
      ],
    },
  });
}

/** Every change that builds `c` from nothing, in dependency order. */
export function initialChanges(c: Config): Change[] {
  return diffStates(emptyState(), stateFromConfig(c));
}

/** A running runtime the test talks to through the far ends of its memory links. */
export interface Rig {
  dp: AdminDatapath;
  inject(link: string, frame: Uint8Array): Promise<void>;
  take(link: string): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

/** The runtime in this thread. */
export function inProcess(c: Config): Rig {
  const mem = new MemoryPlatform();
  const dp = new SwitchDatapath(c, mem, { tickMs: 5 });
  dp.start(undefined, 2);
  return {
    dp,
    inject(link, f) {
      mem.peer(link)!.inject(f);
      return Promise.resolve();
    },
    take(link) {
      const p = mem.peer(link);
      return p ? Promise.resolve(p.take()) : Promise.reject(new Error(`no memory link ${link}`));
    },
    close: () => dp.close(),
  };
}

/** The runtime in a Worker. */
export async function inWorker(c: Config): Promise<Rig> {
  const dp = await WorkerDatapath.start({
    config: c,
    platform: "memory",
    offload: false,
    tuning: { tickMs: 5 },
    snapshotMs: 50,
    idleMs: 2,
  });
  return {
    dp,
    inject: async (link, f) => {
      await dp.inject(link, [f]);
    },
    take: (link) => dp.take(link),
    close: () => dp.close(),
  };
}

/** Collects frames at `link` until `n` arrived or `ms` passed. */
export async function collect(r: Rig, link: string, n: number, ms = 2000): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const end = performance.now() + ms;
  while (out.length < n && performance.now() < end) {
    out.push(...await r.take(link));
    if (out.length < n) await new Promise((res) => setTimeout(res, 5));
  }
  return out;
}

/** Builds a frame. */
export const frame = (l: LayerSpec[]): Uint8Array => buildFrame(l);

/** Ethernet + IPv6 + UDP with a fixed payload. */
export function udp6(sm: string, dm: string, src: string, dst: string, hop = 64): Uint8Array {
  return frame([
    { type: "ethernet", src: sm, dst: dm },
    { type: "ipv6", src, dst, hopLimit: hop },
    { type: "udp", srcPort: 40000, dstPort: 7 },
    { type: "payload", data: "runtime" },
  ]);
}

/** Ethernet + IPv4 + UDP with a fixed payload. */
export function udp4(sm: string, dm: string, src: string, dst: string, dport = 4444): Uint8Array {
  return frame([
    { type: "ethernet", src: sm, dst: dm },
    { type: "ipv4", src, dst, ttl: 64, id: 77 },
    { type: "udp", srcPort: 3333, dstPort: dport },
    { type: "payload", data: "through the VPC" },
  ]);
}

/** Hex of a frame, for readable assertion failures. */
export const hex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
