// Run by soak_test.ts as `deno run --v8-flags=--expose-gc soak_child.ts [LEAK_BYTES]`: the short
// soak with every heap sample taken after a full GC (so the heap figure is what is retained),
// optionally with a planted leak of LEAK_BYTES per flow. Prints the result as one JSON line.
import { runSoak } from "./soak.ts";

if (typeof (globalThis as { gc?: unknown }).gc !== "function") {
  throw new Error("soak_child.ts needs --v8-flags=--expose-gc");
}
const leak = Number(Deno.args[0] ?? 0);
const r = runSoak({ flows: 60_000, checkEvery: 5_000, sampleEvery: 5_000, plantLeakBytes: leak });
console.log(JSON.stringify(r));
