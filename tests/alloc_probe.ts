// Allocation checks run their probe in a child Deno with 64 MiB semi-spaces: no scavenge happens
// during the measured loop, so heap growth is the bytes allocated.

import assert from "node:assert/strict";

/** Runs `probe` (a file path) with `args` in such a child; its last stdout line, parsed as JSON. */
export async function runAllocProbe<T>(probe: string, ...args: string[]): Promise<T> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--min-semi-space-size=64,--max-semi-space-size=64,--expose-gc",
      probe,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}
