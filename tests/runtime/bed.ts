// A throwaway Linux test bed for the runtime (root): a "gz" namespace holding the host port and
// the underlay veth to a "rack" namespace (a Linux router), and two system zones (namespaces)
// whose TAP ports the runtime creates.

import { Config } from "../../lib/config/schema.ts";
import type { AdminDatapath } from "../../lib/contract/datapath.ts";
import { addNetns, delNetns, sh, uniq } from "../link/netns.ts";

/** Names of one test bed. */
export interface Bed {
  u: string;
  ns: { gz: string; za: string; zb: string; rack: string; va?: string; vb?: string };
  config: Config;
}

/** Builds namespaces, the underlay veth and the rack router; returns the sled config. */
export function makeBed(opts: { instances?: boolean } = {}): Bed {
  const u = uniq();
  const ns: Bed["ns"] = { gz: `${u}-gz`, za: `${u}-za`, zb: `${u}-zb`, rack: `${u}-rk` };
  if (opts.instances) Object.assign(ns, { va: `${u}-va`, vb: `${u}-vb` });
  for (const n of Object.values(ns)) {
    addNetns(n);
    sh(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0"]);
    sh(["ip", "netns", "exec", n, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"]);
  }
  const ul = `${u}u0`, rk = `${u}r0`;
  sh([
    ..."ip link add".split(" "),
    ul,
    "netns",
    ns.gz,
    "mtu",
    "9000",
    "type",
    "veth",
    "peer",
    rk,
    "netns",
    ns.rack,
    "mtu",
    "9000",
  ]);
  // The underlay link belongs to xdeno: no kernel IPv6 on it.
  sh(["ip", "netns", "exec", ns.gz, "sysctl", "-qw", `net.ipv6.conf.${ul}.disable_ipv6=1`]);
  sh(["ip", "-n", ns.gz, "link", "set", ul, "up"]);
  sh(["ip", "netns", "exec", ns.rack, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"]);
  sh(["ip", "-n", ns.rack, "link", "set", rk, "up"]);
  sh(["ip", "-n", ns.rack, "addr", "add", "fe80::ff/64", "dev", rk, "nodad"]);
  sh(["ip", "-n", ns.rack, "addr", "add", "fd00:2::10/128", "dev", "lo"]);
  sh(["ip", "-n", ns.rack, "-6", "route", "add", "fd00:1::/64", "via", "fe80::1:1", "dev", rk]);
  const vms = opts.instances
    ? [["a", ns.va!, "172.30.0.10", "a8:40:25:fa:00:0a"], [
      "b",
      ns.vb!,
      "172.30.0.11",
      "a8:40:25:fa:00:0b",
    ]]
    : [];
  const config = Config.parse({
    platform: "linux",
    sled: { underlayAddress: "fd00:1::1", underlayPrefix: "fd00::/16", hostInterface: `${u}x` },
    underlay: {
      links: [{ name: "ul0", device: ul, linkLocal: "fe80::1:1" }],
      routes: [{ prefix: "fd00:2::/64", nextHops: [{ link: "ul0", via: "fe80::ff" }] }],
    },
    ports: [
      { name: `${u}x`, kind: "host", mac: "a8:40:25:00:00:01", addresses: ["fd00:1::1/64"] },
      {
        name: `${u}a`,
        kind: "system",
        zone: ns.za,
        mac: "a8:40:25:00:01:0a",
        addresses: ["fd00:1::10/64"],
      },
      {
        name: `${u}b`,
        kind: "system",
        zone: ns.zb,
        mac: "a8:40:25:00:01:0b",
        addresses: ["fd00:1::11/64"],
      },
      ...vms.map(([k, zone, ip, mac]) => ({
        name: `${u}v${k}`,
        kind: "instance",
        zone,
        mac,
        overlay: { vni: 10, ipv4: `${ip}/22` },
      })),
    ],
    mappings: {
      v2p: vms.map(([, , ip, mac]) => ({ vni: 10, ip, mac, underlay: "fd00:1::1" })),
    },
  });
  return { u, ns, config };
}

/** Configures an instance's guest side as DHCP would: its address, the gateway as router. */
export function plumbGuest(ns: string, dev: string, ip: string): void {
  sh(["ip", "-n", ns, "addr", "add", `${ip}/32`, "dev", dev]);
  sh(["ip", "-n", ns, "route", "add", "172.30.0.1", "dev", dev]);
  sh(["ip", "-n", ns, "route", "add", "default", "via", "172.30.0.1", "dev", dev]);
}

/** Removes every namespace of the bed (their links go with them). */
export function dropBed(b: Bed): void {
  for (const n of Object.values(b.ns)) delNetns(n);
}

/** Pings from namespace `ns` (without blocking the event loop); true when replies came. */
export async function ping(ns: string, dst: string, count = 2): Promise<boolean> {
  const r = await new Deno.Command("ip", {
    args: [
      ..."netns exec".split(" "),
      ns,
      "ping",
      dst.includes(":") ? "-6" : "-4",
      "-c",
      String(count),
      ..."-i 0.2 -W 1".split(" "),
      dst,
    ],
    stdout: "null",
    stderr: "null",
  }).output();
  return r.success;
}

/** Pings until one succeeds (the first may wait for NDP) or `tries` runs fail. */
export async function pingOk(ns: string, dst: string, tries = 5): Promise<boolean> {
  for (let i = 0; i < tries; i++) if (await ping(ns, dst)) return true;
  return false;
}

/** One iperf3 TCP run from `clientNs` to a server on `dst` in `serverNs`; Gbit/s received. */
export async function iperf(
  serverNs: string,
  clientNs: string,
  dst: string,
  secs = 1,
  streams = 1,
): Promise<number> {
  return (await iperfRun(serverNs, clientNs, dst, secs, streams)).gbps;
}

/** The same run: Gbit/s received and the sender's retransmits. */
export async function iperfRun(
  serverNs: string,
  clientNs: string,
  dst: string,
  secs = 1,
  streams = 1,
): Promise<{ gbps: number; retransmits: number }> {
  const server = new Deno.Command("ip", {
    args: ["netns", "exec", serverNs, "iperf3", "-s", "-1", "-B", dst],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await new Promise((r) => setTimeout(r, 300));
  const out = await new Deno.Command("ip", {
    args: [
      ..."netns exec".split(" "),
      clientNs,
      ..."iperf3 --connect-timeout 3000 -J -t".split(" "),
      String(secs),
      "-P",
      String(streams),
      "-c",
      dst,
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout((secs + 10) * 1000),
  }).output().catch((e) => ({
    stdout: new TextEncoder().encode(JSON.stringify({ error: `${e}` })),
  }));
  const j = JSON.parse(new TextDecoder().decode(out.stdout));
  if (j.error) {
    try {
      server.kill();
    } catch { /* already gone */ }
    await server.status;
    throw new Error(j.error);
  }
  await server.status;
  if (Deno.env.get("IPERF_VERBOSE")) {
    console.log(
      `  retransmits ${j.end.sum_sent.retransmits}, sender cpu ${
        j.end.cpu_utilization_percent?.host_total?.toFixed(0)
      }%, receiver cpu ${j.end.cpu_utilization_percent?.remote_total?.toFixed(0)}%`,
    );
  }
  return {
    gbps: j.end.sum_received.bits_per_second / 1e9,
    retransmits: j.end.sum_sent.retransmits as number,
  };
}

/** A switch event counter of a running datapath, by name (summed over its label sets). */
export function switchEvent(dp: AdminDatapath, name: string): number {
  return dp.counters().filter((c) => Object.values(c.labels).includes(name))
    .reduce((n, c) => n + c.value, 0);
}

/**
 * The event counter `name` once it reached `atLeast`, or its value after `waitMs`: the Worker
 * posts its counters from its periodic tick, so right after traffic a loaded machine can still
 * show an older snapshot.
 */
export async function switchEventAtLeast(
  dp: AdminDatapath,
  name: string,
  atLeast: number,
  waitMs = 10_000,
): Promise<number> {
  const end = Date.now() + waitMs;
  let v = switchEvent(dp, name);
  while (v < atLeast && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    v = switchEvent(dp, name);
  }
  return v;
}
