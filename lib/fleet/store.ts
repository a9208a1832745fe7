// The last known fleet state on disk (state dir, fleet.json): the fleet entries in effect, the
// etcd revision they reflect and this sled's lease. A sled restarted while etcd is unreachable
// loads it and forwards at once; on reconnect it resumes watching from that revision.

import type { Change } from "../config/resources.ts";

/** What is persisted. */
export interface FleetSnapshot {
  sledId: string;
  /** Revision of the last applied etcd event (0: never synced). */
  revision: number;
  /** The lease our published entries were under (revoked on restart). */
  leaseId: string | null;
  /** etcd key → the change its entry made. */
  entries: [string, Change][];
}

const FILE = "fleet.json";
const FORMAT = 1;

/** Reads and writes fleet.json in a state directory (atomic rename, fsync). */
export class FleetStore {
  private seq = 0;
  constructor(readonly dir: string) {}

  /** Path of the file. */
  get path(): string {
    return `${this.dir}/${FILE}`;
  }

  /** The persisted snapshot of `sledId`, or null (absent, another sled's, or unreadable). */
  async load(sledId: string): Promise<FleetSnapshot | null> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
    const doc = JSON.parse(text) as FleetSnapshot & { format: number };
    if (doc.format !== FORMAT || doc.sledId !== sledId || !Array.isArray(doc.entries)) return null;
    return doc;
  }

  /** Writes the snapshot atomically; resolves once it is durable. */
  async save(s: FleetSnapshot): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.dir}/.${FILE}.${Deno.pid}.${this.seq++}`;
    await Deno.writeTextFile(tmp, JSON.stringify({ format: FORMAT, ...s }), { mode: 0o600 });
    const f = await Deno.open(tmp, { read: true, write: true });
    try {
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, this.path);
  }
}
