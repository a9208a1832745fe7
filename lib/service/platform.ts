// Chooses the datapath for a platform: the real switch (lib/runtime) on linux and memory. The
// runtime is imported lazily so `check-config` and the CLI never load FFI code.

import type { AdminDatapath } from "../contract/datapath.ts";
import type { Config } from "../config/schema.ts";
import { type RuntimeDatapath, ServiceDatapath } from "./switch_datapath.ts";

/** How `createDatapath` runs the switch. */
export interface DatapathOptions {
  /** Packet loop in a Worker (default: when the worker module is present beside us). */
  worker?: boolean;
}

/**
 * The worker is a separate module: lib/runtime/worker.ts from source, or the `worker.ts`
 * bundled beside dist/xdeno.js (tools/make_run.sh). Without it the loop runs in-process.
 */
export function workerAvailable(): boolean {
  return ["../runtime/worker.ts", "./worker.ts"].some((rel) => {
    try {
      const u = new URL(rel, import.meta.url);
      return u.protocol === "file:" && Deno.statSync(u).isFile;
    } catch {
      return false;
    }
  });
}

/** Builds the datapath named by `cfg.platform`. */
export async function createDatapath(
  cfg: Config,
  opts: DatapathOptions = {},
): Promise<AdminDatapath> {
  if (cfg.platform === "illumos") {
    throw new Error("platform illumos: no datapath on this host (use linux or memory)");
  }
  const worker = opts.worker ?? workerAvailable();
  const { startRuntime } = await import("../runtime/mod.ts");
  const inner = await startRuntime(cfg, {
    worker,
    workers: cfg.datapath.workers,
    busyPollUs: cfg.datapath.busyPollUs,
  }) as RuntimeDatapath;
  return new ServiceDatapath(inner, worker ? "worker" : "in-process");
}
