import assert from "node:assert/strict";

// A million flows, each in a child Deno (the parallel test runner's heap would blur RSS): every
// flow must be installed and served from the UFT, within 1 GiB of resident memory.
async function scale(proto: "udp" | "tcp"): Promise<Record<string, number>> {
  const script = new URL("./scale_check.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script, "1000000", proto],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!;
  console.log(text);
  return JSON.parse(text);
}

for (const proto of ["udp", "tcp"] as const) {
  Deno.test(`1M ${proto} flows: all installed and hit, RSS within 1 GiB`, async () => {
    const r = await scale(proto);
    assert.equal(r.uft, 1_000_000);
    assert.equal(r.lftPairs, 1_000_000);
    assert.equal(r.tcp, proto === "tcp" ? 1_000_000 : 0);
    assert.equal(r.sampledHits, r.sampled);
    assert.ok(r.rssAfterMiB <= 1024, `RSS ${r.rssAfterMiB} MiB for 1M flows`);
    // The setup rate is printed with the line above, not asserted: performance is measured by
    // tests/bench/scale_bench.ts, not by a timed test on a shared CPU.
    assert.ok(r.flowsPerSec > 0, `${r.flowsPerSec} new flows/s`);
  });
}
