// Persisted runtime state: the API's overrides of the config, written as one JSON snapshot
// per change with write-temp + fsync + rename (+ fsync of the directory), so after a crash the
// file is either the previous or the next snapshot, never a mix.

import type { Change } from "../config/resources.ts";
import { KINDS } from "../config/resources.ts";
import { overrideKey, type Overrides, type OverrideStore } from "../contract/overrides.ts";

const FILE = "state.json";
const FORMAT = 1;

/** Reads and writes the overrides snapshot in a state directory. */
export class StateStore implements OverrideStore {
  private seq = 0;
  constructor(readonly dir: string) {}

  /** Path of the snapshot file. */
  get path(): string {
    return `${this.dir}/${FILE}`;
  }

  /** Loads the snapshot; an absent file is an empty state, a corrupt one an error. */
  async load(): Promise<Overrides> {
    // Temp files of writes cut short by a crash; never renamed, so never acknowledged.
    try {
      for await (const e of Deno.readDir(this.dir)) {
        if (e.name.startsWith(`.${FILE}.`)) {
          await Deno.remove(`${this.dir}/${e.name}`).catch(() => {});
        }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    let text: string;
    try {
      text = await Deno.readTextFile(this.path);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return new Map();
      throw e;
    }
    const doc = JSON.parse(text) as { format: number; changes: Change[] };
    if (doc.format !== FORMAT || !Array.isArray(doc.changes)) {
      throw new Error(`${this.path}: unknown state format ${doc.format}`);
    }
    const out: Overrides = new Map();
    for (const c of doc.changes) {
      if (!(KINDS as readonly string[]).includes(c.kind)) {
        throw new Error(`${this.path}: unknown kind ${c.kind}`);
      }
      out.set(overrideKey(c.kind, c.key), c);
    }
    return out;
  }

  /** Writes the snapshot atomically and durably; resolves once it is on disk. */
  async save(o: Overrides): Promise<void> {
    await Deno.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.dir}/.${FILE}.${Deno.pid}.${this.seq++}`;
    const data = new TextEncoder().encode(
      JSON.stringify({ format: FORMAT, changes: [...o.values()] }),
    );
    const f = await Deno.open(tmp, { write: true, create: true, truncate: true, mode: 0o600 });
    try {
      let off = 0;
      while (off < data.length) off += await f.write(data.subarray(off));
      await f.sync();
    } finally {
      f.close();
    }
    await Deno.rename(tmp, this.path);
    // The rename is durable only once the directory entry is.
    const d = await Deno.open(this.dir, { read: true });
    try {
      await d.sync();
    } finally {
      d.close();
    }
  }
}
