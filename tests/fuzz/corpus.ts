// The fuzz corpus: one JSON file per interesting frame under tests/fuzz/corpus/. Failures the
// fuzzer finds are written here (named after a hash of the bytes) so the regression test
// replays them forever; entries for bugs in someone else's module carry `ignore` and a reason.

import { fromHex, toHex } from "../../lib/packet/bytes.ts";

/** One corpus file. */
export interface CorpusEntry {
  name: string;
  hex: string;
  /** What makes the frame interesting, or the failure it produced when found. */
  note?: string;
  /** Set while the bug it exposes is open; the reason names the owner's module. */
  ignore?: boolean;
  reason?: string;
  /** Where the fuzzer found it: replay with `deno task fuzz --seed S --replay I`. */
  seed?: number;
  frame?: number;
  /** Set for a whole-switch case: the side of the fuzz sled it enters from (see sled.ts). */
  side?: string;
}

/** The corpus directory next to this file. */
export const CORPUS_DIR = new URL("./corpus/", import.meta.url);

/** FNV-1a of the bytes: a stable file name for a frame. */
export function frameHash(b: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** Every corpus entry with its file name, sorted by name. */
export function loadCorpus(dir: URL = CORPUS_DIR): [string, CorpusEntry, Uint8Array][] {
  const out: [string, CorpusEntry, Uint8Array][] = [];
  for (const f of Deno.readDirSync(dir)) {
    if (!f.isFile || !f.name.endsWith(".json")) continue;
    const e = JSON.parse(Deno.readTextFileSync(new URL(f.name, dir))) as CorpusEntry;
    const bytes = fromHex(e.hex);
    if (bytes === null) throw new Error(`${f.name}: hex is not valid`);
    out.push([f.name, e, bytes]);
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

/** Writes `bytes` as a corpus file `<prefix>-<hash>.json` unless it exists; returns its name. */
export function saveEntry(
  prefix: string,
  bytes: Uint8Array,
  entry: Omit<CorpusEntry, "hex">,
  dir: URL = CORPUS_DIR,
): string {
  const name = `${prefix}-${frameHash(bytes)}.json`;
  const url = new URL(name, dir);
  try {
    Deno.statSync(url);
    return name;
  } catch {
    // Not there yet.
  }
  Deno.writeTextFileSync(url, JSON.stringify({ ...entry, hex: toHex(bytes) }, null, 2) + "\n");
  return name;
}
