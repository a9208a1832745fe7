// A throwaway Linux bed for fault tests (root): a "gz" namespace with the host port and two
// underlay veths (ul0, ul1) to one "rack" router (ECMP both ways), and three system zones whose
// TAP ports the runtime creates. Every name carries a unique prefix.

import { Config } from "../../lib/config/schema.ts";
import type { AdminDatapath, CounterSample } from "../../lib/contract/datapath.ts";
import { addNetns, delNetns, sh, uniq } from "../link/netns.ts";

/** Names of one fault bed. */
export interface FaultBed {
  u: string;
  ns: { gz: string; za: string; zb: string; zc: string; rack: string };
  /** Underlay devices in the GZ, by config link name. */
  dev: { ul0: string; ul1: string };
  /** Port names (TAP devices) of the zones. */
  port: { a: string; b: string; c: string; host: string };
  config: Config;
}

/** Zone addresses. */
export const ADDR = { a: "fd00:1::10", b: "fd00:1::11", c: "fd00:1::12", gz: "fd00:1::1" };
/** The rack's loopback address (a remote behind the underlay). */
export const REMOTE = "fd00:2::10";

function nsSetup(n: string): void {
  addNetns(n);
  sh(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0"]);
  sh(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"]);
}

/** (Re)creates underlay veth `i` (0 or 1) between the GZ and the rack, with the rack's side. */
export function addUnderlay(b: FaultBed, i: 0 | 1): void {
  const ul = i === 0 ? b.dev.ul0 : b.dev.ul1, rk = `${b.u}r${i}`;
  sh(["ip", "link", "add", ul, "netns", b.ns.gz, "mtu", "9000", "type", "veth"].concat(
    ["peer", rk, "netns", b.ns.rack, "mtu", "9000"],
  ));
  // The underlay link belongs to xdeno: no kernel IPv6 on it.
  sh(["ip", "netns", "exec", b.ns.gz, "sysctl", "-qw", `net.ipv6.conf.${ul}.disable_ipv6=1`]);
  sh(["ip", "-n", b.ns.gz, "link", "set", ul, "up"]);
  sh(["ip", "-n", b.ns.rack, "link", "set", rk, "up"]);
  sh(["ip", "-n", b.ns.rack, "addr", "add", "fe80::ff/64", "dev", rk, "nodad"]);
  rackRoute(b);
}

/** Points the rack's route to the sled at every underlay veth that exists now. */
export function rackRoute(b: FaultBed): void {
  const have = JSON.parse(sh(["ip", "-n", b.ns.rack, "-j", "link"])) as { ifname: string }[];
  const hops: string[] = [];
  for (const i of [0, 1]) {
    if (have.some((l) => l.ifname === `${b.u}r${i}`)) {
      hops.push("nexthop", "via", `fe80::1:${i + 1}`, "dev", `${b.u}r${i}`);
    }
  }
  sh(["ip", "-n", b.ns.rack, "-6", "route", "del", "fd00:1::/64"], true);
  if (hops.length) sh(["ip", "-n", b.ns.rack, "-6", "route", "add", "fd00:1::/64", ...hops]);
}

/** Builds namespaces, both underlay veths and the rack router; returns names and config. */
export function makeFaultBed(): FaultBed {
  const u = uniq();
  const ns = { gz: `${u}-gz`, za: `${u}-za`, zb: `${u}-zb`, zc: `${u}-zc`, rack: `${u}-rk` };
  const b: FaultBed = {
    u,
    ns,
    dev: { ul0: `${u}u0`, ul1: `${u}u1` },
    port: { a: `${u}a`, b: `${u}b`, c: `${u}c`, host: `${u}x` },
    config: undefined as unknown as Config,
  };
  try {
    for (const n of Object.values(ns)) nsSetup(n);
    sh(["ip", "netns", "exec", ns.rack, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"]);
    // The rack stops using a sled link whose carrier is gone (as a real router would).
    for (const k of ["all", "default"]) {
      sh(["ip", "netns", "exec", ns.rack, "sysctl", "-qw"].concat(
        `net.ipv6.conf.${k}.ignore_routes_with_linkdown=1`,
      ));
    }
    sh(["ip", "-n", ns.rack, "addr", "add", `${REMOTE}/128`, "dev", "lo"]);
    addUnderlay(b, 0);
    addUnderlay(b, 1);
  } catch (e) {
    dropFaultBed(b);
    throw e;
  }
  const zone = (k: "a" | "b" | "c", z: string, last: string) => ({
    name: b.port[k],
    kind: "system",
    zone: z,
    mac: `a8:40:25:00:01:${last}`,
    addresses: [`${ADDR[k]}/64`],
  });
  b.config = Config.parse({
    platform: "linux",
    sled: { underlayAddress: ADDR.gz, underlayPrefix: "fd00::/16", hostInterface: b.port.host },
    underlay: {
      links: [
        { name: "ul0", device: b.dev.ul0, linkLocal: "fe80::1:1" },
        { name: "ul1", device: b.dev.ul1, linkLocal: "fe80::1:2" },
      ],
      routes: [{
        prefix: "fd00:2::/64",
        nextHops: [{ link: "ul0", via: "fe80::ff" }, { link: "ul1", via: "fe80::ff" }],
      }],
    },
    ports: [
      { name: b.port.host, kind: "host", mac: "a8:40:25:00:00:01", addresses: ["fd00:1::1/64"] },
      zone("a", ns.za, "0a"),
      zone("b", ns.zb, "0b"),
      zone("c", ns.zc, "0c"),
    ],
  });
  return b;
}

/** Removes every namespace of the bed (their links go with them). */
export function dropFaultBed(b: FaultBed): void {
  for (const n of Object.values(b.ns)) delNetns(n);
}

/** Re-creates a zone namespace that a test deleted. */
export function readdZone(ns: string): void {
  nsSetup(ns);
}

/** One counter's value by name and one label (0 when absent). */
export function counter(dp: AdminDatapath, name: string, label: string, value: string): number {
  const s = dp.counters().find((c: CounterSample) => c.name === name && c.labels[label] === value);
  return s?.value ?? 0;
}

/** Fetches a fresh counter snapshot from the worker when the datapath has one. */
export async function refresh(dp: AdminDatapath): Promise<void> {
  await (dp as { refresh?(): Promise<void> }).refresh?.();
}

/** Polls `cond` every 100 ms until true or `ms` passes; returns the last result. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 3000): Promise<boolean> {
  const end = performance.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}
