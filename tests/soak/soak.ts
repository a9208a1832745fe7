// The load soak (issue 10 "Load"): a sled with full flow tables churned by short-lived flows —
// UDP to random ports, SYN floods that never complete, complete short TCP connections, and
// SNAT flows past the port pool — while a few established TCP connections must keep working.
// Every batch is accounted exactly (frames in = Geneve out + frames to guests + drops), tables
// stay within limits, eviction takes only what the policy allows (dead entries, then
// non-established TCP), and RSS is sampled to show it stays flat.

import { buildFrame, type LayerSpec } from "../../lib/packet/build.ts";
import { rewriteDstPort, rewriteSrcPort } from "../../lib/packet/checksum.ts";
import { type HeaderLevel, PacketMeta } from "../../lib/packet/meta.ts";
import { parseFrame } from "../../lib/packet/parse.ts";
import { u16 } from "../../lib/packet/bytes.ts";
import { GW_MAC, rackNa, SLED, UL } from "../switch/harness.ts";
import { type FuzzSled, fuzzSled, SLED2, VA, VB, VC, VNI } from "../fuzz/sled.ts";
import { tablesBounded } from "../fuzz/pipeline.ts";
import { Rng } from "../fuzz/rng.ts";

/** A frame template whose ports are rewritten (checksums patched) for each flow. */
class Template {
  readonly bytes: Uint8Array;
  readonly level: HeaderLevel;
  private readonly meta = new PacketMeta();

  constructor(layers: LayerSpec[]) {
    this.bytes = buildFrame(layers);
    const e = parseFrame(this.bytes, 0, this.bytes.length, this.meta, true);
    if (e !== null) throw new Error(`soak template does not parse: ${e.at}`);
    this.level = this.meta.flow;
  }

  /** A copy with the flow level's ports set. */
  with(sport: number, dport: number): Uint8Array {
    rewriteSrcPort(this.bytes, this.level, sport);
    rewriteDstPort(this.bytes, this.level, dport);
    return this.bytes.slice();
  }
}

const OUT_E = { type: "ethernet", src: VB.mac, dst: GW_MAC } as const;
const OUT_IP = { type: "ipv4", src: VB.ip, dst: VC.ip } as const;
const IN_INNER_E = { type: "ethernet", src: VC.mac, dst: VB.mac } as const;
const IN_IP = { type: "ipv4", src: VC.ip, dst: VB.ip } as const;

function geneveIn(i: number, inner: LayerSpec[]): LayerSpec[] {
  return [
    { type: "ethernet", src: UL[i].rackMac, dst: UL[i].mac },
    { type: "ipv6", src: SLED2, dst: SLED },
    { type: "udp", srcPort: 50000, checksum: "zero" },
    { type: "geneve", vni: VNI },
    ...inner,
  ];
}

const tcpOut = (flags: string) =>
  new Template([OUT_E, OUT_IP, { type: "tcp", srcPort: 1, dstPort: 2, flags, seq: 100, ack: 1 }]);
const tcpIn = (flags: string) =>
  new Template(geneveIn(0, [IN_INNER_E, IN_IP, { type: "tcp", srcPort: 2, dstPort: 1, flags }]));

/** Soak knobs. */
export interface SoakOptions {
  flows: number;
  seed?: number;
  /** Engine table limits of each instance (small tables fill fast). */
  uftLimit?: number;
  lftLimit?: number;
  /** Virtual milliseconds per batch of frames. */
  msPerBatch?: number;
  /** Check the established connections every this many flows. */
  checkEvery?: number;
  /** Sample memory every this many flows. */
  sampleEvery?: number;
  /** Test of the memory check itself: retain about this many heap bytes per flow. */
  plantLeakBytes?: number;
  log?: (line: string) => void;
}

/** What the soak saw. */
export interface SoakResult {
  flows: number;
  frames: number;
  seconds: number;
  virtualSeconds: number;
  establishedChecks: number;
  failures: string[];
  rssMiB: number[];
  heapMiB: number[];
  drops: Record<string, number>;
  engine: Record<string, unknown>;
}

const ESTABLISHED = [7000, 7001, 7002, 7003];
/** Long-lived UDP flows, refreshed well within their TTL: the policy never evicts them. */
const KEEPALIVE = [6000, 6001];

/** Runs the soak; failures are returned, never thrown. */
export function runSoak(o: SoakOptions): SoakResult {
  const t0 = performance.now();
  const log = o.log ?? (() => {});
  const s: FuzzSled = fuzzSled({ uftLimit: o.uftLimit ?? 2048, lftLimit: o.lftLimit ?? 2048 });
  const ms = o.msPerBatch ?? 20;
  const checkEvery = o.checkEvery ?? 10_000;
  const sampleEvery = o.sampleEvery ?? 50_000;
  const guestB = s.vms[VB.name].guest, guestA = s.vms[VA.name].guest;
  const failures: string[] = [];
  const fail = (why: string) => failures.length < 20 && failures.push(why);
  const rng = new Rng(o.seed ?? 1);
  const T = {
    udp: new Template([OUT_E, OUT_IP, { type: "udp", srcPort: 1, dstPort: 2 }]),
    syn: tcpOut("S"),
    synAck: tcpIn("SA"),
    ack: tcpOut("A"),
    data: tcpOut("PA"),
    dataIn: tcpIn("PA"),
    rst: tcpOut("R"),
    snat: new Template([
      { type: "ethernet", src: VA.mac, dst: GW_MAC },
      { type: "ipv4", src: VA.ip, dst: "8.8.8.8" },
      { type: "udp", srcPort: 1, dstPort: 53 },
    ]),
  };
  const c = s.sw.counters;
  let frames = 0, batchIn = 0, establishedChecks = 0;
  let d0 = 0;
  const sumDrops = () => c.drops.reduce((a, b) => a + b, 0);

  const drain = () => {
    while (s.sw.poll() > 0) { /* until every queue is empty */ }
  };
  /** Takes every output; returns [geneve to the rack, frames to guests, NS to answer]. */
  const collect = () => {
    let geneve = 0, guests = 0;
    const ns: number[] = [];
    s.rack.forEach((r, i) => {
      for (const f of r.take()) {
        if (f[20] === 17 && u16(f, 56) === 6081) geneve++;
        else if (f[20] === 58 && f[54] === 135) ns.push(i);
        else fail(`unexpected frame on ${UL[i].name}`);
      }
    });
    guests += guestA.take().length + guestB.take().length;
    for (const z of Object.values(s.zones)) guests += z.take().length;
    return [geneve, guests, ns] as const;
  };
  const send = (link: typeof guestA, f: Uint8Array) => {
    link.inject(f);
    frames++;
    batchIn++;
  };
  /** Ends an accounting window: frames in must equal frames out plus drops. */
  const settle = (what: string) => {
    drain();
    const [geneve, guests, ns] = collect();
    const dd = sumDrops() - d0;
    if (batchIn !== geneve + guests + dd) {
      fail(`${what}: ${batchIn} frames in, ${geneve} Geneve + ${guests} to guests + ${dd} dropped`);
    }
    // Housekeeping outside the window: keep the rack's next hops resolved.
    for (const i of ns) s.rack[i].inject(rackNa(i));
    drain();
    collect();
    batchIn = 0;
    d0 = sumDrops();
    return [geneve, guests] as const;
  };

  const handshake = (port: number) => {
    send(guestB, T.syn.with(port, 80));
    send(s.rack[0], T.synAck.with(80, port));
    send(guestB, T.ack.with(port, 80));
  };
  for (const p of ESTABLISHED) handshake(p);
  for (const p of KEEPALIVE) send(guestB, T.udp.with(p, p));
  const [g0, to0] = settle("handshakes");
  if (g0 !== 10 || to0 !== 4) fail(`handshakes: ${g0} out, ${to0} in (want 10, 4)`);

  const checkEstablished = () => {
    establishedChecks++;
    for (const p of ESTABLISHED) {
      send(guestB, T.data.with(p, 80));
      send(s.rack[0], T.dataIn.with(80, p));
      const [g, to] = settle(`established ${p}`);
      if (g !== 1 || to !== 1) fail(`established flow ${p} broke: ${g} out, ${to} in`);
    }
    for (const p of KEEPALIVE) {
      send(guestB, T.udp.with(p, p));
      const [g] = settle(`keepalive ${p}`);
      if (g !== 1) fail(`live UDP flow ${p} was dropped with the table full`);
    }
  };

  const rssMiB: number[] = [], heapMiB: number[] = [];
  const gc = (globalThis as { gc?: () => void }).gc;
  const sample = () => {
    // With --v8-flags=--expose-gc the heap figure is what is retained, not garbage in flight.
    gc?.();
    const m = Deno.memoryUsage();
    rssMiB.push(Math.round(m.rss / 1048576));
    heapMiB.push(Math.round(m.heapUsed / 1048576));
  };

  const leaked: number[][] = [];
  const leakWords = Math.ceil((o.plantLeakBytes ?? 0) / 8);
  let flow = 0;
  while (flow < o.flows && failures.length === 0) {
    for (let k = 0; k < 32 && flow < o.flows; k++, flow++) {
      if (leakWords > 0) leaked.push(new Array(leakWords).fill(flow + 0.5));
      const sport = 1024 + rng.int(60000), dport = 1 + rng.int(65000);
      const kind = rng.int(10);
      if (kind < 4) send(guestB, T.udp.with(sport, dport)); // UDP to a random port
      else if (kind < 7) send(guestB, T.syn.with(sport, dport)); // SYN flood, never answered
      else if (kind < 9) {
        // A complete short-lived connection: handshake, then reset.
        send(guestB, T.syn.with(sport, dport));
        send(s.rack[0], T.synAck.with(dport, sport));
        send(guestB, T.ack.with(sport, dport));
        send(guestB, T.rst.with(sport, dport));
      } else send(guestA, T.snat.with(sport, dport)); // SNAT, far more flows than ports
    }
    s.clock.t += ms;
    settle(`churn at flow ${flow}`);
    if (flow % checkEvery < 32) {
      checkEstablished();
      const b = tablesBounded(s);
      if (b !== null) fail(b);
    }
    if (flow % sampleEvery < 32) {
      sample();
      log(`${flow} flows, ${frames} frames, rss ${rssMiB.at(-1)} MiB, heap ${heapMiB.at(-1)} MiB`);
    }
  }
  checkEstablished();
  sample();
  // The switch's `vpc` drops are exactly the pipelines' own drop counts, reason by reason.
  let engineDrops = 0;
  for (const { vpc } of Object.values(s.vms)) {
    for (const n of vpc.port.stats.drops.values()) engineDrops += n;
  }
  if (engineDrops !== c.drop("vpc")) {
    fail(`switch counted ${c.drop("vpc")} VPC drops, the pipelines ${engineDrops}`);
  }
  const layers: Record<string, unknown> = {};
  for (const L of s.vms[VB.name].vpc.port.layers) {
    layers[L.name] = { ...L.stats, lft: L.lft[0].size };
  }
  const e = s.vms[VB.name].vpc.port.stats, ea = s.vms[VA.name].vpc.port.stats;
  return {
    flows: flow,
    frames,
    seconds: (performance.now() - t0) / 1000,
    virtualSeconds: (s.clock.t - 1000) / 1000,
    establishedChecks,
    failures,
    rssMiB,
    heapMiB,
    drops: c.toJSON().drops,
    engine: {
      "vm-b": e.toJSON(),
      "vm-a drops": Object.fromEntries(ea.drops),
      "vm-b layers": layers,
      "vm-b tables": {
        uftOut: s.vms[VB.name].vpc.port.uft[0].size,
        uftIn: s.vms[VB.name].vpc.port.uft[1].size,
        tcp: s.vms[VB.name].vpc.port.tcp.size,
      },
    },
  };
}

/**
 * Null when memory stayed flat once the tables filled: after the first quarter of samples,
 * RSS never rose more than `rssSlackMiB` above its level then, and (when the heap was
 * measured after a GC) neither did the heap beyond `heapSlackMiB`.
 */
export function memoryFlat(r: SoakResult, rssSlackMiB = 16, heapSlackMiB = 4): string | null {
  const warm = Math.max(1, Math.floor(r.rssMiB.length / 4));
  if (r.rssMiB.length < warm + 2) return `only ${r.rssMiB.length} memory samples`;
  const rss0 = r.rssMiB[warm], rssMax = Math.max(...r.rssMiB.slice(warm));
  if (rssMax > rss0 + rssSlackMiB) return `RSS grew from ${rss0} to ${rssMax} MiB`;
  const heap0 = r.heapMiB[warm], heapMax = Math.max(...r.heapMiB.slice(warm));
  if (heapSlackMiB >= 0 && heapMax > heap0 + heapSlackMiB) {
    return `heap grew from ${heap0} to ${heapMax} MiB`;
  }
  return null;
}
