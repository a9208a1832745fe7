// Entry point for `xdeno run`: builds the datapath a config describes, in a Worker by default
// (the packet loop blocks in poll(2); the admin API stays on the main thread), or in-process.

import type { AdminDatapath } from "../contract/datapath.ts";
import type { Config } from "../config/schema.ts";
import { linuxPlatform, MemoryPlatform } from "./platform.ts";
import { WorkerDatapath } from "./remote.ts";
import { MultiWorkerDatapath } from "./workers.ts";
import { type RuntimeConfig, SwitchDatapath, type SwitchTuning } from "./runtime.ts";
import { InvalidField } from "../contract/field_error.ts";
import { setBusyPollUs } from "../link/spin.ts";

export { MultiWorkerDatapath, SwitchDatapath, WorkerDatapath };
export type { RuntimeConfig, SwitchTuning };

/** How to run the datapath. */
export interface StartOptions {
  /** Run the datapath in a Worker (default true). */
  worker?: boolean;
  /** Checksum offload / TSO: virtio-net headers on TAP ports and packet sockets (default true). */
  offload?: boolean;
  /** Packet-socket receive mode ("ring" by default). */
  rx?: "ring" | "mmsg";
  tuning?: SwitchTuning;
  /** Linux: namespace standing in for the global zone (default: the process's own). */
  gzNetns?: string | null;
  /** Worker mode: period of status/counter snapshots, ms (250). */
  snapshotMs?: number;
  /** Longest blocking wait of the packet loop when idle, ms (10). */
  idleMs?: number;
  /** Datapath workers, one per TAP queue (default 1; more need `worker` and Linux). */
  workers?: number;
  /** Cap of the packet loop's adaptive busy polling, µs (config `datapath.busyPollUs`; 0: off). */
  busyPollUs?: number;
}

/**
 * Starts the datapath of `config` (platform, sled, underlay links, boundary services) with no
 * ports yet: the admin control plane applies the config's resources as Changes.
 */
export async function startRuntime(
  config: Pick<Config, "platform"> & RuntimeConfig,
  opts: StartOptions = {},
): Promise<AdminDatapath & { describe?(): Promise<Record<string, unknown>> }> {
  if (config.platform === "illumos") {
    throw new InvalidField("platform", "illumos is not supported yet");
  }
  const rc: RuntimeConfig = {
    sled: config.sled,
    underlay: config.underlay,
    boundaryServices: config.boundaryServices,
  };
  const offload = opts.offload ?? true;
  const tuning = opts.tuning ?? {};
  const workers = opts.workers ?? 1;
  if (workers > 1 && (config.platform !== "linux" || opts.worker === false)) {
    throw new InvalidField(
      "datapath.workers",
      "several workers need platform linux and the Worker mode (set workers: 1)",
    );
  }
  if (opts.worker ?? true) {
    const init = {
      config: rc,
      platform: config.platform,
      offload,
      rx: opts.rx,
      gzNetns: opts.gzNetns,
      tuning,
      snapshotMs: opts.snapshotMs ?? 250,
      idleMs: opts.idleMs ?? 10,
      busyPollUs: opts.busyPollUs ?? 0,
    };
    if (workers > 1) return await MultiWorkerDatapath.start(init, workers);
    return await WorkerDatapath.start(init);
  }
  const platform = config.platform === "memory"
    ? new MemoryPlatform()
    : await linuxPlatform({ offload, rx: opts.rx, gzNetns: opts.gzNetns });
  const vnet = config.platform === "linux" && offload;
  const dp = new SwitchDatapath(rc, platform, { ...tuning, vnet });
  setBusyPollUs(opts.busyPollUs ?? 0);
  dp.start(undefined, opts.idleMs ?? 10);
  return dp;
}
