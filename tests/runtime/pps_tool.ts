// Small-packet rate through the runtime (root, issue 9): trafgen sends 64-byte UDP frames from one
// zone at a fixed rate, the other zone's interface rx counter says what arrived. Finds the highest
// rate with < 1 % loss (bisection) and the flat-out delivered rate, for two system zones on one
// sled ("l2": zone → switch → zone) and two instances on two sleds ("geneve": both VPC pipelines
// and Geneve over one veth). Usage:
//   npx deno run -A tests/runtime/pps_tool.ts [path=l2|geneve|both] [seconds=2] [steps=6]
// WORKERS=n runs n datapath workers (l2 only) and FLOWS=n sends n UDP flows (source ports 9…)
// so that the kernel spreads them over the TAP queues. BATCH=n sets the switch's batch size; OFFLOAD=off drops the virtio-net headers; PROFILE=1 runs
// the (first) sled on the main thread so `--cpu-prof` sees its loop:
//   PROFILE=1 npx deno run -A --cpu-prof --cpu-prof-dir=/tmp/prof tests/runtime/pps_tool.ts l2
// The sending TAP pushes back on trafgen (a refused frame is sent again), so a switch that cannot
// keep up shows as delivered pps below the asked rate: a rate passes when < 1 % of its frames are
// lost and >= 99 % of it is delivered.

import { startRuntime } from "../../lib/runtime/mod.ts";
import type { AdminDatapath } from "../../lib/contract/datapath.ts";
import { delNetns, sh, uniq } from "../link/netns.ts";
import { dropBed, makeBed, pingOk, plumbGuest } from "./bed.ts";
import { initialChanges } from "./fixture.ts";
import { twoSleds } from "./sleds.ts";

const path = Deno.args[0] ?? "both";
const secs = Number(Deno.args[1] ?? 2), steps = Number(Deno.args[2] ?? 6);
const profile = Deno.env.get("PROFILE") === "1";
const offload = Deno.env.get("OFFLOAD") !== "off";
// BATCH=n sets the switch's frames per receive/transmit batch (default: the switch's own).
const tuning = Deno.env.get("BATCH") ? { batch: Number(Deno.env.get("BATCH")) } : {};
const workers = Number(Deno.env.get("WORKERS") ?? 1);
const flows = Number(Deno.env.get("FLOWS") ?? 1);

/** One end of the measured path: namespace and interface. */
interface End {
  ns: string;
  dev: string;
}

/** A path under test: where frames leave, where they are counted, the trafgen packet. */
interface PathSpec {
  name: string;
  tx: End;
  rx: End;
  packet: string;
}

function stat(e: End, what: string): number {
  return Number(
    sh(["ip", "netns", "exec", e.ns, "cat", `/sys/class/net/${e.dev}/statistics/${what}`]),
  );
}

/** The MAC `ns` resolved for `ip` (after a ping), as trafgen wants it. */
function neighMac(ns: string, ip: string): string {
  const j = JSON.parse(sh(["ip", "-n", ns, "-j", "neigh", "show", ip]));
  const mac = j.find((n: { lladdr?: string }) => n.lladdr)?.lladdr;
  if (!mac) throw new Error(`${ns}: no neighbour entry for ${ip}`);
  return mac;
}

function devMac(e: End): string {
  return JSON.parse(sh(["ip", "-n", e.ns, "-j", "link", "show", e.dev]))[0].address;
}

/**
 * One trafgen run: `rate` pps (0 = flat out) for about `secs`; frames offered and delivered and
 * the seconds trafgen ran. A count, not a signal, ends the run: SIGINT to trafgen's parent
 * leaves its sending child running.
 */
async function run(
  p: PathSpec,
  rate: number,
): Promise<{ tx: number; rx: number; s: number; qdrop: number }> {
  const conf = await Deno.makeTempFile({ suffix: ".cfg" });
  await Deno.writeTextFile(conf, p.packet);
  const rx0 = stat(p.rx, "rx_packets");
  const txd0 = stat(p.tx, "tx_dropped");
  const n = Math.round((rate > 0 ? rate : 1_500_000) * secs);
  const args = ["netns", "exec", p.tx.ns, "trafgen", "-o", p.tx.dev, "-i", conf, "-P", "1"];
  args.push("-C", "-V", "-n", String(n));
  if (rate > 0) args.push("-b", `${rate}pps`);
  const t0 = performance.now();
  const st = await new Deno.Command("ip", { args, stdout: "null", stderr: "piped" }).output();
  const s = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 300)); // let the switch drain its queues
  await Deno.remove(conf);
  // trafgen sends exactly n: a frame the sending TAP's queue refused (tx_dropped, the switch did
  // not read in time) stays in trafgen's ring and is sent again, so a slow switch shows as a
  // longer run (delivered pps below the asked rate), and loss only as frames never delivered.
  const qdrop = stat(p.tx, "tx_dropped") - txd0;
  const rx = stat(p.rx, "rx_packets") - rx0;
  if (!st.success) throw new Error(`trafgen: ${new TextDecoder().decode(st.stderr).slice(-400)}`);
  return { tx: n, rx, s, qdrop };
}

const k = (n: number) => `${(n / 1000).toFixed(0)}k`;

/** Flat-out rate, then bisection for the highest rate with < 1 % loss. */
async function measure(p: PathSpec): Promise<void> {
  await run(p, 0); // warm-up: the switch's loop reaches its optimised tier
  const flat = await run(p, 0);
  const flatRx = flat.rx / flat.s;
  console.log(
    `${p.name}: flat out offered ${k(flat.tx / flat.s)} pps, delivered ${k(flatRx)} pps ` +
      `(loss ${((1 - flat.rx / Math.max(1, flat.tx)) * 100).toFixed(1)} %, ` +
      `sender queue drops ${flat.qdrop})`,
  );
  let lo = 0, hi = flatRx * 2 + 50_000;
  for (let i = 0; i < steps; i++) {
    const rate = Math.round((lo + hi) / 2);
    const r = await run(p, rate);
    const loss = 1 - r.rx / Math.max(1, r.tx), got = r.rx / r.s;
    console.log(
      `${p.name}: rate ${k(rate)} pps delivered ${k(got)} pps (${r.rx} of ${r.tx}) ` +
        `loss ${(loss * 100).toFixed(2)} % (sender queue drops ${r.qdrop})`,
    );
    if (loss < 0.01 && got >= rate * 0.99) lo = rate;
    else hi = rate;
  }
  console.log(`${p.name}: RESULT <1 % loss ${k(lo)} pps, flat out ${k(flatRx)} pps`);
}

async function l2(): Promise<void> {
  const b = makeBed();
  let dp: AdminDatapath | null = null;
  try {
    dp = await startRuntime(b.config, {
      gzNetns: b.ns.gz,
      worker: !profile,
      offload,
      tuning,
      workers,
    });
    for (const c of initialChanges(b.config)) await dp.apply(c);
    if (!await pingOk(b.ns.za, "fd00:1::11")) throw new Error("no connectivity");
    const tx = { ns: b.ns.za, dev: `${b.u}a` }, rx = { ns: b.ns.zb, dev: `${b.u}b` };
    const da = neighMac(b.ns.za, "fd00:1::11");
    await measure({
      name: `l2 zone→zone (workers ${workers}, flows ${flows})`,
      tx,
      rx,
      // One packet per flow: trafgen sends them in turn.
      packet: Array.from(
        { length: flows },
        (_, i) =>
          `{ eth(da=${da}, sa=${devMac(tx)}), ` +
          `ipv6(sa=fd00:1::10, da=fd00:1::11, hl=64), udp(sp=${9 + i}, dp=9), fill(0x41, 2) }`,
      ).join("\n"),
    });
    printCounters([dp]);
  } finally {
    await dp?.close();
    dropBed(b);
  }
}

async function geneve(): Promise<void> {
  const u = uniq();
  const s = twoSleds(u);
  const dps: AdminDatapath[] = [];
  try {
    for (const i of [0, 1]) {
      const worker = !(profile && i === 0);
      const dp = await startRuntime(s.configs[i], { gzNetns: s.ns[i], worker, offload, tuning });
      dps.push(dp);
      for (const c of initialChanges(s.configs[i])) await dp.apply(c);
    }
    plumbGuest(s.ns[2], `${u}v1`, "172.30.0.10");
    plumbGuest(s.ns[3], `${u}v2`, "172.30.0.11");
    if (!await pingOk(s.ns[2], "172.30.0.11")) throw new Error("no connectivity");
    const tx = { ns: s.ns[2], dev: `${u}v1` }, rx = { ns: s.ns[3], dev: `${u}v2` };
    const da = neighMac(s.ns[2], "172.30.0.1");
    await measure({
      name: "geneve 2 sleds",
      tx,
      rx,
      packet: `{ eth(da=${da}, sa=${devMac(tx)}), ` +
        `ipv4(saddr=172.30.0.10, daddr=172.30.0.11, ttl=64), udp(sp=9, dp=9), fill(0x41, 18) }`,
    });
    printCounters(dps);
  } finally {
    for (const dp of dps) await dp.close();
    for (const n of s.ns) delNetns(n);
  }
}

function printCounters(dps: AdminDatapath[]): void {
  for (const [i, dp] of dps.entries()) {
    const seen = dp.counters().filter((c) => c.value && /drop|switch/.test(c.name));
    console.log(
      `sled ${i + 1}:`,
      seen.map((c) => `${c.name}{${Object.values(c.labels).join("/")}}=${c.value}`).join(" "),
    );
  }
}

if (path === "l2" || path === "both") await l2();
if (path === "geneve" || path === "both") await geneve();
