// Measurements between two namespaces with real tools: iperf3 (TCP, UDP 64 B), ping (latency),
// a small C probe (new TCP connections/s) and /proc (CPU time of the switch processes).

import { run, sleep, spawn, waitFor } from "./exec.ts";
import { stateDir } from "./plan.ts";

/** Where a measurement runs: client and server namespaces, the server's address. */
export interface Endpoints {
  client: string;
  server: string;
  dst: string;
}

/** TCP throughput figures from iperf3. */
export interface TcpResult {
  gbps: number;
  bytes: number;
  retransmits: number;
  seconds: number;
  /** Throughput of the last one-second interval (a stalled transfer shows 0 here). */
  lastIntervalGbps: number;
}

/** UDP figures from iperf3 (receiver side). */
export interface UdpResult {
  offeredPps: number;
  txPps: number;
  rxPps: number;
  lossPct: number;
}

/** Round-trip latency in milliseconds. */
export interface LatencyResult {
  sent: number;
  received: number;
  medianMs: number;
  p99Ms: number;
}

const IPERF_PORT = 5201;

/** Reads the TCP figures of an `iperf3 -J` report. */
export function parseIperfTcp(json: string): TcpResult {
  const j = JSON.parse(json);
  if (j.error) throw new Error(`iperf3: ${j.error}`);
  const r = j.end.sum_received, s = j.end.sum_sent;
  return {
    gbps: r.bits_per_second / 1e9,
    bytes: r.bytes,
    retransmits: s.retransmits ?? 0,
    seconds: r.seconds,
    lastIntervalGbps: (j.intervals?.at(-1)?.sum?.bits_per_second ?? NaN) / 1e9,
  };
}

/** Reads the UDP figures of an `iperf3 -u -J` report (loss as seen by the server). */
export function parseIperfUdp(json: string, offeredPps: number): UdpResult {
  const j = JSON.parse(json);
  if (j.error) throw new Error(`iperf3: ${j.error}`);
  const sum = j.end.sum_received ?? j.end.sum;
  const sent = j.end.sum_sent ?? j.end.sum;
  const packets: number = sum.packets, lost: number = sum.lost_packets;
  const secs: number = sum.seconds || 1;
  return {
    offeredPps,
    txPps: (sent.packets ?? packets) / (sent.seconds || secs),
    rxPps: (packets - lost) / secs,
    lossPct: packets > 0 ? (100 * lost) / packets : 100,
  };
}

/** Median and p99 of the `time=` values in ping's output. */
export function parsePing(out: string): LatencyResult {
  const times = [...out.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1])).sort((a, b) =>
    a - b
  );
  const sent = Number(out.match(/(\d+) packets transmitted/)?.[1] ?? 0);
  const q = (p: number) =>
    times.length ? times[Math.min(times.length - 1, Math.floor(p * times.length))] : NaN;
  const median = times.length % 2 === 1
    ? times[(times.length - 1) / 2]
    : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
  return { sent, received: times.length, medianMs: times.length ? median : NaN, p99Ms: q(0.99) };
}

export async function listening(ns: string, port: number): Promise<boolean> {
  const r = await run(["ss", "-Hltn", `sport = :${port}`], { ns, check: false });
  return r.stdout.trim() !== "";
}

/** Runs `client` against a fresh one-shot iperf3 server in `ep.server`. */
async function iperf(ep: Endpoints, clientArgs: string[], seconds: number): Promise<string> {
  const srv = spawn(["iperf3", "-s", "-1", "-p", `${IPERF_PORT}`], ep.server);
  try {
    if (!await waitFor(() => listening(ep.server, IPERF_PORT), 5000, 20)) {
      throw new Error(`iperf3 server in ${ep.server} did not start`);
    }
    const r = await run(
      ["iperf3", "-c", ep.dst, "-p", `${IPERF_PORT}`, "-J", "-t", `${seconds}`, ...clientArgs],
      { ns: ep.client, check: false, timeoutMs: (seconds + 15) * 1000 },
    );
    if (!r.stdout.trim().startsWith("{")) {
      const killed = r.code === 137 ? ", killed: no result in time (stalled path?)" : "";
      throw new Error(`iperf3 client exit ${r.code}${killed}: ${(r.stderr || r.stdout).trim()}`);
    }
    return r.stdout;
  } finally {
    await srv.stop("SIGTERM", 1000);
  }
}

/** TCP throughput with `streams` parallel streams for `seconds`. */
export async function tcpThroughput(
  ep: Endpoints,
  seconds: number,
  streams = 1,
): Promise<TcpResult> {
  return parseIperfTcp(await iperf(ep, ["-P", `${streams}`], seconds));
}

/** One UDP run of 64-byte datagrams offered at `pps` (0 = as fast as the sender can). */
export async function udpRun(ep: Endpoints, seconds: number, pps: number): Promise<UdpResult> {
  const bps = pps === 0 ? "0" : `${Math.round(pps * 64 * 8)}`;
  return parseIperfUdp(await iperf(ep, ["-u", "-l", "64", "-b", bps], seconds), pps);
}

/**
 * Highest received pps with < 1 % loss: first flat out; if that loses more, offer what got
 * through and step down (×0.8) or up (×1.15) for `trials` more runs. Returns the best passing run
 * (or the last run when none passed).
 */
export async function udpSearch(ep: Endpoints, seconds: number, trials = 3): Promise<UdpResult> {
  let r = await udpRun(ep, seconds, 0);
  if (r.lossPct < 1) return r;
  let best: UdpResult | undefined, last = r;
  let rate = r.rxPps;
  for (let i = 0; i < trials; i++) {
    r = await udpRun(ep, seconds, Math.max(1000, Math.round(rate)));
    last = r;
    if (r.lossPct < 1) {
      if (!best || r.rxPps > best.rxPps) best = r;
      rate *= 1.15;
    } else rate *= 0.8;
  }
  return best ?? last;
}

/** ping -c `count` -i 0.001: median and p99 round trip. */
export async function latency(ep: Endpoints, count: number): Promise<LatencyResult> {
  const fam = ep.dst.includes(":") ? "-6" : "-4";
  const r = await run(
    ["ping", fam, "-c", `${count}`, "-i", "0.001", "-W", "1", "-s", "56", ep.dst],
    { ns: ep.client, check: false, timeoutMs: count * 20 + 10000 },
  );
  return parsePing(r.stdout);
}

const probeBins = new Map<string, Promise<string>>();

/**
 * Builds the C probe `lib/testbed/<name>.c` (gcc), cached by a hash of its source and the
 * header the probes share (`probe.h`).
 */
export function probeBinary(name: string): Promise<string> {
  let p = probeBins.get(name);
  if (p) return p;
  p = (async () => {
    const src = new URL(`./${name}.c`, import.meta.url).pathname;
    const header = await Deno.readFile(new URL("./probe.h", import.meta.url));
    const text = new Uint8Array([...await Deno.readFile(src), ...header]);
    const h = new Uint8Array(await crypto.subtle.digest("SHA-256", text));
    const tag = Array.from(h.slice(0, 6), (b) => b.toString(16).padStart(2, "0")).join("");
    const dir = `${stateDir("bin")}`;
    const bin = `${dir}/${name}-${tag}`;
    if (await Deno.stat(bin).then(() => true, () => false)) return bin;
    await Deno.mkdir(dir, { recursive: true });
    // Build under a private name, then rename: parallel runs never execute a half-written file.
    const tmp = `${bin}.${Deno.pid}`;
    await run(["gcc", "-O2", "-o", tmp, src]);
    await Deno.rename(tmp, bin);
    return bin;
  })();
  probeBins.set(name, p);
  return p;
}

/** Builds the C connection-rate probe (gcc), cached by a hash of its source. */
export function connRateBinary(): Promise<string> {
  return probeBinary("conn_rate");
}

/** New TCP connections per second (connect, 1 byte each way, RST) over `seconds`. */
export async function connRate(ep: Endpoints, seconds: number, parallel = 4): Promise<number> {
  const bin = await connRateBinary();
  const port = 5301;
  const srv = spawn([bin, "server", `${port}`], ep.server);
  try {
    if (!await waitFor(() => listening(ep.server, port), 5000, 20)) {
      throw new Error(`conn_rate server in ${ep.server} did not start`);
    }
    const r = await run([bin, "client", ep.dst, `${port}`, `${seconds}`, `${parallel}`], {
      ns: ep.client,
      timeoutMs: (seconds + 15) * 1000,
    });
    const j = JSON.parse(r.stdout) as { conns: number; errors: number; seconds: number };
    return j.conns / j.seconds;
  } finally {
    await srv.stop("SIGKILL", 500);
  }
}

/** Clock ticks per second of /proc times (USER_HZ, 100 on Linux). */
export const CLK_TCK = 100;

/** CPU seconds (user + system, all threads) used so far by `pids`; gone pids count 0. */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
    } catch { /* gone */ }
  }
  return ticks / CLK_TCK;
}

/** Busy CPU seconds of the whole machine so far (all cores, from /proc/stat). */
export function machineBusySeconds(): number {
  const line = Deno.readTextFileSync("/proc/stat").split("\n")[0];
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = v[3] + (v[4] ?? 0);
  return (v.reduce((a, b) => a + b, 0) - idle) / CLK_TCK;
}

/** Waits briefly so sockets from the previous measurement are gone before the next. */
export function settle(): Promise<void> {
  return sleep(200);
}
