// `deno task fuzz [--frames N] [--seconds S] [--seed X] [--replay I] [--export-seeds]`:
// the long fuzz run. Prints throughput and what was exercised; exits 1 on any failure (each
// written to tests/fuzz/corpus/). `--replay I` re-checks random-phase frame I of run X alone.

import { toHex } from "../../lib/packet/bytes.ts";
import { Checker } from "./check.ts";
import { frameAt, runFuzz, seedPool } from "./harness.ts";
import { MAX_FRAME } from "./mutate.ts";
import { Rng } from "./rng.ts";
import { saveEntry } from "./corpus.ts";
import { seedFrames } from "./seeds.ts";
import { PipelineChecker, runPipelineFuzz } from "./pipeline.ts";

function flag(name: string): string | undefined {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}

function num(name: string, dflt: number): number {
  const v = flag(name);
  if (v === undefined) return dflt;
  const n = Number(v.replaceAll("_", ""));
  if (!Number.isFinite(n) || n < 0) {
    console.error(`fuzz: --${name} ${v}: not a non-negative number`);
    Deno.exit(2);
  }
  return n;
}

const seed = num("seed", Date.now() % 0xffffffff);
const generated = num("generated", 256);

if (Deno.args.includes("--export-seeds")) {
  for (const [name, bytes] of seedFrames()) {
    console.log(saveEntry("seed", bytes, { name, note: "seed frame" }));
  }
  for (const side of new PipelineChecker().sides) {
    for (const [name, bytes] of side.seeds) {
      console.log(saveEntry("sled", bytes, { name: `${side.name}: ${name}`, side: side.name }));
    }
  }
  Deno.exit(0);
}

const replay = flag("replay");
if (replay !== undefined) {
  const pool = seedPool(seed, generated);
  const out = new Uint8Array(MAX_FRAME);
  const [len, source] = frameAt(pool, seed, Number(replay), new Rng(), out);
  const r = new Checker(1).check(out, len);
  console.log(`seed=${seed} frame=${replay} source="${source}" len=${len}`);
  console.log(`hex=${toHex(out.subarray(0, len))}`);
  console.log(r ?? "ok");
  Deno.exit(r === null ? 0 : 1);
}

const frames = num("frames", 10_000_000);
const seconds = flag("seconds") === undefined ? undefined : num("seconds", 0);
console.log(`fuzz: seed ${seed}, ${frames} random frames${seconds ? `, at most ${seconds}s` : ""}`);
const r = runFuzz({
  seed,
  frames,
  seconds,
  generated,
  decodeEvery: num("decode-every", 16),
  saveFailures: true,
  log: (l) => console.log(l),
});
const s = r.stats;
console.log(
  [
    `frames checked: ${s.frames} (${r.sweepFrames} sweep + ${r.randomFrames} random)`,
    `time: ${r.seconds.toFixed(1)} s, ${r.framesPerSecond} frames/s`,
    `parsed ok: ${s.parsedOk}, parse errors: ${s.parseErrors}, Geneve: ${s.encap}`,
    `DHCP: ${s.dhcp}, DHCPv6: ${s.dhcpv6}, NDP: ${s.ndp}, decoded to JSON: ${s.decoded}`,
    `failures: ${r.failures.length}`,
  ].join("\n"),
);

const pipelineFrames = num("pipeline-frames", 2_000_000);
console.log(`pipeline: ${pipelineFrames} frames into every port kind and underlay link`);
const p = runPipelineFuzz(seed, pipelineFrames, true);
for (const f of p.failures) console.log(`PIPELINE FAILURE seed=${seed} ${f}`);
console.log(
  [
    `pipeline frames: ${p.frames} in ${p.seconds.toFixed(1)} s (${
      Math.round(p.frames / p.seconds)
    } frames/s), per side ${JSON.stringify(p.perSide)}`,
    `refused by link (over MTU): ${p.refused}, dropped: ${p.dropped}, outcomes: ${p.outcomes}, emitted: ${p.emitted}, checksum-checked: ${p.checksummed}`,
    `drops: ${JSON.stringify(p.drops)}`,
    `events: ${JSON.stringify(p.events)}`,
    `pipeline failures: ${p.failures.length}`,
  ].join("\n"),
);
Deno.exit(r.failures.length + p.failures.length === 0 ? 0 : 1);
