// The datapath Worker: owns every link and the switch, loops on blocking poll with a short
// timeout (the loop yields to the event loop when the admin thread rang its doorbell, or every
// few ms without one: that is when requests are applied — always between two batches), and
// pushes status snapshots back periodically.

/// <reference lib="deno.worker" />

import { DatapathRejected } from "../contract/datapath.ts";
import type { Change } from "../config/resources.ts";
import { linuxPlatform, MemoryPlatform, type Platform } from "./platform.ts";
import { RuntimeInspector } from "./inspect.ts";
import { type NeighbourRow, NeighbourShare, QueueHandoff, Replica } from "./queues.ts";
import type {
  ApplyResult,
  CaptureAck,
  NeighbourRelay,
  Snapshot,
  WireError,
  WorkerInit,
  WorkerMessage,
  WorkerRequest,
} from "./protocol.ts";
import { SwitchDatapath } from "./runtime.ts";
import { setBusyPollUs } from "../link/spin.ts";
import { optionalEnv } from "../contract/env.ts";
import type { BellWatch } from "./doorbell.ts";

let dp: SwitchDatapath | null = null;
let mem: MemoryPlatform | null = null;
let ins: RuntimeInspector | null = null;
let handoff: QueueHandoff | null = null;
let replica: Replica | null = null;
let neighbours: NeighbourShare | null = null;
let bell: BellWatch | null = null;

const post = (m: WorkerMessage) => self.postMessage(m);

function snapshot(): Snapshot {
  return { ports: dp!.allPortStatus(), counters: dp!.counters() };
}

function wireError(e: unknown): WireError {
  if (e instanceof DatapathRejected) return { field: e.field, reason: e.reason };
  return { field: "datapath", reason: e instanceof Error ? e.message : String(e) };
}

async function init(m: WorkerInit): Promise<void> {
  let platform: Platform;
  if (m.platform === "memory") platform = mem = new MemoryPlatform();
  else {
    let share;
    if (m.share) {
      const { libc } = await import("../../ffi/libc.ts");
      handoff = new QueueHandoff((fd) => libc.close(fd));
      share = { ...m.share, handoff };
    }
    platform = await linuxPlatform({ offload: m.offload, rx: m.rx, gzNetns: m.gzNetns, share });
  }
  // Linux links carry virtio-net headers (offload or not): the switch carries partial
  // checksums and super-frames, and hands GSO frames to every TAP.
  const vnet = m.platform === "linux";
  dp = new SwitchDatapath(m.config, platform, { ...m.tuning, vnet });
  ins = new RuntimeInspector(dp);
  if (m.share && m.share.index > 0) replica = new Replica(dp);
  setBusyPollUs(m.busyPollUs ?? 0);
  if (m.bell !== undefined) {
    const { BellWatch } = await import("./doorbell.ts");
    bell = new BellWatch(m.bell);
  }
  const flag = new Int32Array(m.stop);
  const safetyMs = Number(optionalEnv("XDENO_TURN_SAFETY_MS") ?? 250);
  dp.start(
    {
      get stopped() {
        return Atomics.load(flag, 0) !== 0;
      },
    },
    m.idleMs,
    bell ?? undefined,
    safetyMs,
  ).catch((e) => post({ t: "initError", message: `packet loop failed: ${e}` }));
  if (m.share) relayNeighbours(dp);
  postSnapshots(dp, m.snapshotMs);
  post({ t: "ready" });
}

/**
 * Posts a snapshot every `ms` from the switch's timer tick: with a doorbell the loop seldom
 * lets the event loop run, so a setInterval would fire late.
 */
function postSnapshots(d: SwitchDatapath, ms: number): void {
  let last = -Infinity;
  d.sw.onTick(() => {
    if (d.sw.now - last < ms) return;
    last = d.sw.now;
    post({ t: "snap", snap: snapshot() });
  });
}

/**
 * Several workers: posts the underlay neighbours this switch confirmed whenever that set changes
 * (checked on the switch's timer tick) and every 200 ms, well within a neighbour's 900 ms
 * lifetime without confirmation (lib/switch/neighbor.ts), for the other workers to adopt.
 */
function relayNeighbours(d: SwitchDatapath): void {
  const share = neighbours = new NeighbourShare(d.sw);
  let last = "";
  let lastAt = 0;
  d.sw.onTick(() => {
    const rows = share.own();
    const sig = rows.map((r) => `${r.link}/${r.addr}/${r.mac}`).join(" ");
    const now = d.sw.now;
    if (sig === last && now - lastAt < 200) return;
    last = sig;
    lastAt = now;
    if (rows.length > 0) post({ t: "neigh", rows });
  });
}

/** Applies each change; one result per change (null: applied). */
function applyAll(d: SwitchDatapath, changes: Change[]): ApplyResult[] {
  return changes.map((c) => {
    try {
      d.applyNow(c);
      return null;
    } catch (e) {
      return wireError(e);
    }
  });
}

async function handle(r: WorkerRequest): Promise<unknown> {
  const d = dp!;
  switch (r.op) {
    case "apply":
      return applyAll(d, r.changes);
    case "dumpFlows":
      return await d.dumpFlows(r.port, r.table);
    case "clearFlows":
      return await d.clearFlows(r.port, r.table, r.layer);
    case "snapshot":
      return null;
    case "setPortState":
      return await d.setPortState(r.port, r.state);
    case "inject": {
      const peer = mem?.peer(r.link);
      if (!peer) throw new DatapathRejected("link", `no memory link ${r.link}`);
      return r.frames.filter((f) => peer.inject(f)).length;
    }
    case "take": {
      const peer = mem?.peer(r.link);
      if (!peer) throw new DatapathRejected("link", `no memory link ${r.link}`);
      return peer.take();
    }
    case "describe":
      return {
        ports: d.sw.describePorts(),
        routes: d.sw.describeRoutes(),
        counters: d.sw.counters.toJSON(),
        lastError: d.sw.lastError,
        captures: ins!.tapCount,
      };
    case "trace":
      return ins!.trace(r.port, r.direction, r.frame);
    case "neighbours":
      return ins!.neighbours();
    case "underlayLinks":
      return ins!.underlayLinks();
    case "tapStart":
      return ins!.tapStart(r.tap, r.spec, (tap, chunk) => {
        const buffers = [chunk.data.buffer as ArrayBuffer, chunk.meta.buffer as ArrayBuffer];
        self.postMessage({ t: "cap", tap, chunk } satisfies WorkerMessage, { transfer: buffers });
      });
    case "tapStop":
      return ins!.tapStop(r.tap);
    case "release":
      return replica!.release(r.changes);
    case "applyShare":
      // Worker 0 of several: the devices it made travel back with the results.
      return { results: applyAll(d, r.changes), created: handoff?.take() ?? {} };
    case "replay":
      handoff?.give(r.fds);
      return replica!.replay(r.changes, r.results, r.created);
    case "close":
      ins!.close();
      await d.close();
      return null;
  }
}

type Incoming = WorkerInit | WorkerRequest | CaptureAck | NeighbourRelay;

self.onmessage = async (ev: MessageEvent<Incoming>) => {
  const m = ev.data;
  if (m.t !== "init") bell?.dispatched();
  if (m.t === "capAck") return ins?.tapAck(m.tap);
  if (m.t === "neigh") return neighbours?.adopt(m.rows as NeighbourRow[]);
  if (m.t === "init") {
    try {
      await init(m);
    } catch (e) {
      post({ t: "initError", message: e instanceof Error ? e.message : String(e) });
    }
    return;
  }
  try {
    const value = await handle(m);
    const snap = m.op === "close" ? undefined : snapshot();
    post({ t: "res", id: m.id, ok: true, value, snap });
    if (m.op === "close") self.close();
  } catch (e) {
    post({ t: "res", id: m.id, ok: false, error: wireError(e) });
  }
};
