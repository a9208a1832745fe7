// Chooses the datapath for a platform. Only `memory` exists until the switch is wired in
// (phase 2); the others are lazy so `check-config` and the CLI never load FFI code.

import type { AdminDatapath } from "../admin/datapath.ts";
import { MemoryDatapath } from "../admin/datapath.ts";
import type { Config } from "../config/schema.ts";

/** Builds the datapath named by `cfg.platform`. */
export function createDatapath(cfg: Config): Promise<AdminDatapath> {
  if (cfg.platform === "memory") return Promise.resolve(new MemoryDatapath());
  return Promise.reject(
    new Error(
      `platform ${cfg.platform}: the switch datapath is not wired into the service yet (use --platform memory)`,
    ),
  );
}
