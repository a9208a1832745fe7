// The replay engine: the real switch (runtime, ports, pipelines, admin app — what `xdeno run`
// builds) on the memory platform in this process, driven by a capture and a list of API calls,
// with a clock that only moves when the inputs say so. Between inputs the clock advances one
// switch timer period at a time, so neighbour probes, flow expiry and TCP timers fire when they
// would have; the rack answers every neighbour solicitation at once (rack.ts).

import { type AdminApp, adminApp } from "../admin/app.ts";
import { Control } from "../admin/control.ts";
import { stateFromConfig } from "../config/resources.ts";
import type { Config } from "../config/schema.ts";
import { toHex } from "../packet/bytes.ts";
import { MemoryPlatform } from "../runtime/platform.ts";
import { SwitchDatapath } from "../runtime/runtime.ts";
import { type RuntimeDatapath, ServiceDatapath } from "../service/switch_datapath.ts";
import { DROP_REASONS } from "../switch/counters.ts";
import type { Switch } from "../switch/switch.ts";
import type { InputPacket, ReplayInput, ReplayStep } from "./input.ts";
import { answerSolicitation } from "./rack.ts";
import { ReplayTracer, type TraceLayer } from "./trace.ts";

/** The switch's timer period (SwitchConfig.tickMs default): the clock's step between inputs. */
const TICK_MS = 20;
/** MTU of the simulated underlay wires (the rack's jumbo frames). */
const UNDERLAY_MTU = 9000;

/** A frame the switch emitted. */
export interface Emitted {
  egress: string;
  /** Nanoseconds since the first input packet. */
  t: bigint;
  data: Uint8Array;
}

/** The --json record of one input packet. */
export interface PacketRecord {
  frame: number;
  time: number;
  ingress: string;
  outputs: { egress: string; bytes: string }[];
  drop: string | null;
  trace: TraceLayer[];
}

/** The --json record of one step. */
export interface StepRecord {
  step: number;
  time: number;
  method: string;
  path: string;
  status: number;
  body: unknown;
}

/** A sled built from a config, replaying inputs against a virtual clock. */
export class Replay {
  /** Every frame emitted so far, in emission order. */
  readonly emitted: Emitted[] = [];
  private ms = 0;
  private readonly sw: Switch;
  private readonly tracer: ReplayTracer;

  private constructor(
    private readonly platform: MemoryPlatform,
    private readonly dp: ServiceDatapath,
    readonly app: AdminApp,
    sled: Config["sled"],
  ) {
    this.sw = (dp.inner as unknown as SwitchDatapath).sw;
    this.tracer = new ReplayTracer(dp, this.sw, sled);
  }

  /** Whether packet records carry a trace (false: `trace` is [], replay runs faster). */
  tracing = true;

  /**
   * Builds the sled of `cfg` at t = 0 and lets it settle (neighbours resolved). `linkMacs`: the
   * MACs underlay links take (those the capture shows; the rest derive from their names).
   */
  static async create(
    cfg: Config,
    version: string,
    linkMacs: ReadonlyMap<string, Uint8Array> = new Map(),
  ): Promise<Replay> {
    const platform = new MemoryPlatform({
      underlayMtu: UNDERLAY_MTU,
      underlayMac: (name) => linkMacs.get(name),
    });
    let r: Replay | null = null;
    const inner = new SwitchDatapath(cfg, platform, { clock: () => r?.ms ?? 0 });
    const dp = new ServiceDatapath(inner as unknown as RuntimeDatapath, "in-process");
    try {
      const ctl = new Control(stateFromConfig(cfg), new Map(), dp, null);
      await ctl.start();
      // No rate limit: a steps file may read tables as often as it likes.
      const app = adminApp(ctl, { token: null, maxBodyBytes: cfg.admin.maxBodyBytes, version });
      r = new Replay(platform, dp, app, cfg.sled);
    } catch (e) {
      await dp.close().catch(() => {});
      throw e;
    }
    r.cycle();
    return r;
  }

  /** Runs every step and packet in time order (steps first at equal times); records each. */
  async run(
    input: ReplayInput,
    steps: ReplayStep[],
    record: (r: PacketRecord | StepRecord) => void,
  ): Promise<void> {
    let s = 0;
    for (const p of input.packets) {
      while (s < steps.length && BigInt(Math.round(steps[s].at * 1e9)) <= p.t) {
        record(await this.step(steps[s++]));
      }
      record(await this.packet(p));
    }
    while (s < steps.length) record(await this.step(steps[s++]));
  }

  /**
   * Moves the clock to `t` (ns), running the switch's timers on the way and at `t` itself, so
   * what the timers send is not taken for the output of the input that follows.
   */
  private advance(t: bigint): void {
    const target = Number(t) / 1e6;
    while (this.ms + TICK_MS < target) {
      this.ms += TICK_MS;
      this.cycle();
    }
    if (target > this.ms) this.ms = target;
    this.cycle();
  }

  /** One input packet through the live switch. */
  async packet(p: InputPacket): Promise<PacketRecord> {
    this.advance(p.t);
    const trace = this.tracing ? await this.tracer.layers(p.ingress, p.data) : [];
    const before = this.dropCounts();
    const peer = this.platform.peer(p.ingress.name);
    const accepted = peer?.inject(p.data) ?? false;
    const out = this.cycle();
    let drop = this.dropsSince(before);
    if (!peer) drop ??= `no ${p.ingress.kind} ${p.ingress.name} (removed)`;
    else if (!accepted) drop ??= `ingress: ${p.ingress.name} refused the frame (down or over MTU)`;
    return {
      frame: p.frame,
      time: seconds(p.t),
      ingress: p.ingress.name,
      outputs: out.map((e) => ({ egress: e.egress, bytes: toHex(e.data) })),
      drop,
      trace,
    };
  }

  /** One admin API call made in process. */
  async step(st: ReplayStep): Promise<StepRecord> {
    const t = BigInt(Math.round(st.at * 1e9));
    this.advance(t);
    const hasBody = st.body !== undefined;
    const res = await this.app.request(st.path, {
      method: st.method,
      headers: hasBody ? { "content-type": "application/json" } : {},
      body: hasBody ? JSON.stringify(st.body) : undefined,
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch { /* not JSON (e.g. /metrics): kept as text */ }
    this.cycle();
    return {
      step: st.step,
      time: seconds(t),
      method: st.method,
      path: st.path,
      status: res.status,
      body,
    };
  }

  /**
   * Polls the switch until it settles, collecting what it emits (ports first, then underlay
   * links: the order its queues flush in) and answering its neighbour solicitations.
   */
  private cycle(): Emitted[] {
    const out: Emitted[] = [];
    const t = BigInt(Math.round(this.ms * 1e6));
    for (let round = 0; round < 8; round++) {
      this.sw.poll();
      let answered = false;
      const take = (name: string, rack: boolean) => {
        const peer = this.platform.peer(name);
        for (const data of peer?.take() ?? []) {
          out.push({ egress: name, t, data });
          const na = rack ? answerSolicitation(data) : null;
          if (na) answered = peer!.inject(na) || answered;
        }
      };
      for (const p of this.sw.ports) take(p.name, false);
      for (const u of this.sw.underlay) take(u.link.name, true);
      if (!answered) break;
    }
    this.emitted.push(...out);
    return out;
  }

  private dropCounts(): { sw: Float64Array; vpc: Map<string, number> } {
    return { sw: this.sw.counters.drops.slice(), vpc: new Map(this.sw.ov.reasons) };
  }

  /** Names of the drop counters that moved since `before`, or null. */
  private dropsSince(before: { sw: Float64Array; vpc: Map<string, number> }): string | null {
    const why: string[] = [];
    for (const [reason, n] of this.sw.ov.reasons) {
      if (n > (before.vpc.get(reason) ?? 0)) why.push(`vpc: ${reason}`);
    }
    const d = this.sw.counters.drops;
    DROP_REASONS.forEach((r, i) => {
      // "vpc" is the switch's total of the pipeline reasons listed above.
      if (d[i] > before.sw[i] && !(r === "vpc" && why.length > 0)) why.push(r);
    });
    return why.length ? why.join(", ") : null;
  }

  /** Stops the switch. */
  close(): Promise<void> {
    return this.dp.close();
  }
}

function seconds(t: bigint): number {
  return Number(t) / 1e9;
}
