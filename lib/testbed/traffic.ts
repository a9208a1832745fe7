// Small-packet forwarding capacity with trafgen (netsniff-ng): minimum-size UDP frames from one
// core through a TX ring, counted at the receiver's interface. iperf3 -u -l 64 is limited by its
// single sender (≈ 200-260 k pps here), too little to show the capacity of a fast switch.

import { run, sleep } from "./exec.ts";
import { Endpoints } from "./measure.ts";

/** One trafgen run: offered and received frames per second. */
export interface PpsResult {
  /** Requested rate (0 = flat out). */
  offeredPps: number;
  txPps: number;
  rxPps: number;
  lossPct: number;
  frameBytes: number;
}

async function counter(ns: string, dir: "rx" | "tx"): Promise<number> {
  const r = await run(["cat", `/sys/class/net/eth0/statistics/${dir}_packets`], { ns });
  return Number(r.stdout.trim());
}

/** The client's source address and the MAC its first hop answers on, for raw frames to `dst`. */
export async function frameHeader(ep: Endpoints): Promise<string> {
  const v6 = ep.dst.includes(":");
  await run(["ping", v6 ? "-6" : "-4", "-c", "1", "-w", "3", ep.dst], {
    ns: ep.client,
    check: false,
  });
  const route =
    JSON.parse((await run(["ip", "-j", "route", "get", ep.dst], { ns: ep.client })).stdout)[0];
  const hop: string = route.gateway ?? ep.dst;
  const neigh = JSON.parse(
    (await run(["ip", "-j", "neigh", "show", hop, "dev", "eth0"], { ns: ep.client })).stdout,
  )[0];
  if (!neigh?.lladdr) throw new Error(`trafgen: no neighbour entry for ${hop} in ${ep.client}`);
  const sa = (await run(["cat", "/sys/class/net/eth0/address"], { ns: ep.client })).stdout.trim();
  const addrs = JSON.parse(
    (await run(["ip", "-j", "addr", "show", "dev", "eth0"], { ns: ep.client })).stdout,
  )[0]
    .addr_info as { family: string; local: string; scope: string }[];
  const src = addrs.find((a) => a.family === (v6 ? "inet6" : "inet") && a.scope === "global")
    ?.local;
  if (!src) throw new Error(`trafgen: ${ep.client} has no global source address`);
  const eth = `eth(da=${neigh.lladdr}, sa=${sa})`;
  // Minimum frames: 60 bytes for IPv4 (64 with FCS), 62 for IPv6 (no room to pad down).
  return v6
    ? `{ ${eth}, ipv6(sa=${src}, da=${ep.dst}, hl=64), udp(sp=9, dp=9) }`
    : `{ ${eth}, ipv4(saddr=${src}, daddr=${ep.dst}, ttl=64), udp(sp=9, dp=9), fill(0x41, 18) }`;
}

/** Sends for `seconds` at `pps` (0 = flat out; -b pacing is bursty) and counts what arrived. */
export async function trafgenRun(
  ep: Endpoints,
  seconds: number,
  pps: number,
  cfg?: string,
): Promise<PpsResult> {
  const packet = cfg ?? await frameHeader(ep);
  const rx0 = await counter(ep.server, "rx"), tx0 = await counter(ep.client, "tx");
  const rate = pps > 0 ? ["-b", `${Math.round(pps)}pps`] : [];
  const argv = `timeout -s INT ${seconds} trafgen -o eth0 -P 1 -q --no-sock-mem -n 0`.split(" ");
  const r = await run([...argv, ...rate, packet], {
    ns: ep.client,
    check: false,
    timeoutMs: (seconds + 10) * 1000,
  });
  // timeout(1) exits 124 when it stopped trafgen, which is the normal end.
  if (r.code !== 124 && r.code !== 0) {
    throw new Error(`trafgen in ${ep.client}: ${(r.stderr || r.stdout).trim()}`);
  }
  await sleep(200); // let the switch drain its queues
  const rx = (await counter(ep.server, "rx")) - rx0, tx = (await counter(ep.client, "tx")) - tx0;
  return {
    offeredPps: pps,
    txPps: tx / seconds,
    rxPps: rx / seconds,
    lossPct: tx > 0 ? Math.max(0, (100 * (tx - rx)) / tx) : 100,
    frameBytes: ep.dst.includes(":") ? 62 : 60,
  };
}

/**
 * Forwarding capacity: trafgen flat out from one core for `seconds`, frames received per second
 * (with the loss at that overload). Not a < 1 % loss figure: trafgen's TX ring flushes in bursts
 * (also when rate-limited with -b), which small switch buffers drop even at 20 kpps, and its paced
 * mode (-t) tops out near 50 kpps. The < 1 % loss search uses iperf3 (`udpSearch`).
 */
export async function ppsCapacity(ep: Endpoints, seconds: number): Promise<PpsResult> {
  return await trafgenRun(ep, seconds, 0);
}
