// A memory-platform sled for service tests through the real switch: a host port, two system
// zones and two instances on VNI 10, and frames that cross it.

import { buildFrame } from "../../lib/packet/build.ts";
import { macToString } from "../../lib/packet/bytes.ts";
import type { WorkerDatapath } from "../../lib/runtime/mod.ts";
import assert from "node:assert/strict";
import { parseConfigText } from "../../lib/config/load.ts";
import { createDatapath } from "../../lib/service/platform.ts";
import type { ServiceDatapath } from "../../lib/service/switch_datapath.ts";
import { type Harness, startHarnessWith } from "../admin/helpers.ts";

/** Gateway MAC the switch answers as. */
export const GW = "a8:40:25:ff:77:77";
/** The sled's config file. */
export const YAML = `
platform: memory
sled: { underlayAddress: "fd00:1::1", underlayPrefix: "fd00::/16" }
underlay:
  links: [{ name: ul0, linkLocal: "fe80::1:1" }]
  routes: [{ prefix: "fd00:2::/64", nextHops: [{ link: ul0, via: "fe80::ff" }] }]
ports:
  - { name: xde0, kind: host, mac: "a8:40:25:00:00:01", addresses: ["fd00:1::1/64"] }
  - { name: zone-a, kind: system, mac: "a8:40:25:00:01:0a", addresses: ["fd00:1::10/64"] }
  - { name: zone-b, kind: system, mac: "a8:40:25:00:01:0b", addresses: ["fd00:1::11/64"] }
  - { name: vm-a, kind: instance, mac: "a8:40:25:fa:00:0a", overlay: { vni: 10, ipv4: 172.30.0.10/22 } }
  - { name: vm-b, kind: instance, mac: "a8:40:25:fa:00:0b", overlay: { vni: 10, ipv4: 172.30.0.11/22 } }
mappings:
  v2p:
    - { vni: 10, ip: 172.30.0.10, mac: "a8:40:25:fa:00:0a", underlay: "fd00:1::1" }
    - { vni: 10, ip: 172.30.0.11, mac: "a8:40:25:fa:00:0b", underlay: "fd00:1::1" }
`;

/** `n` UDP frames zone-a → zone-b or vm-a → vm-b, one flow per source port so the UFT fills while the API reads it. */
export function flows(kind: "zone" | "vm", n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) =>
    buildFrame(
      kind === "zone"
        ? [
          { type: "ethernet", src: "a8:40:25:00:01:0a", dst: GW },
          { type: "ipv6", src: "fd00:1::10", dst: "fd00:1::11", hopLimit: 64 },
          { type: "udp", srcPort: 20000 + i, dstPort: 7 },
          { type: "payload", data: "hammer" },
        ]
        : [
          { type: "ethernet", src: "a8:40:25:fa:00:0a", dst: GW },
          { type: "ipv4", src: "172.30.0.10", dst: "172.30.0.11", ttl: 64 },
          { type: "udp", srcPort: 20000 + i, dstPort: 4444 },
          { type: "payload", data: "hammer" },
        ],
    ));
}

/** The rack router's answer to the switch's solicitation for fe80::ff on ul0 (`dst`: our MAC). */
export function rackAdvert(rackMac: string, dst: string): Uint8Array {
  return buildFrame([
    { type: "ethernet", src: rackMac, dst },
    { type: "ipv6", src: "fe80::ff", dst: "fe80::1:1", hopLimit: 255 },
    {
      type: "ndp",
      kind: "na",
      target: "fe80::ff",
      router: true,
      solicited: true,
      override: true,
      options: [{ type: "targetLinkAddr", mac: rackMac }],
    },
  ]);
}

/** A service on this sled: the real switch (in a Worker or in-process) behind a real admin server. */
export async function startSled(
  worker: boolean,
): Promise<{ dp: ServiceDatapath; h: Harness<ServiceDatapath> }> {
  const cfg = parseConfigText(YAML);
  if (!cfg.ok) throw new Error(JSON.stringify(cfg.problems));
  const dp = await createDatapath(cfg.config, { worker }) as ServiceDatapath;
  return { dp, h: await startHarnessWith(dp, {}, YAML) };
}

/** The rack router's MAC on ul0. */
export const RACK_MAC = "a8:40:25:99:00:01";

/** Answers the switch's neighbour solicitation for the rack's fe80::ff on ul0. */
export async function resolveRack(dp: ServiceDatapath): Promise<void> {
  const wd = dp.inner as WorkerDatapath;
  let ns: Uint8Array | undefined;
  for (let i = 0; i < 200 && !ns; i++) {
    ns = (await wd.take("ul0")).find((f) => f[54] === 135);
    if (!ns) await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(ns, "no NS for the next hop");
  await wd.inject("ul0", [rackAdvert(RACK_MAC, macToString(ns, 6))]);
  await wd.refresh();
}
