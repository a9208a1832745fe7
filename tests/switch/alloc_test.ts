import assert from "node:assert/strict";

const PATHS = [
  "zone→zone",
  "zone→underlay",
  "underlay→zone",
  "overlay out",
  "overlay in",
  "overlay loopback",
];
const probe = new URL("./alloc_probe.ts", import.meta.url).pathname;

const CASES = [
  ...PATHS.map((p) => [p, ""]),
  ["zone→zone", "vnet"],
  ["zone→underlay", "vnet"],
  ["overlay out", "vnet"],
  ["overlay tso", "vnet"],
  ["overlay gro", "vnet"],
];

for (const [path, mode] of CASES) {
  Deno.test(`the ${path}${mode ? ` (${mode})` : ""} path allocates nothing per frame (160,000 frames)`, async () => {
    // 64 MiB semi-spaces: no scavenge during the run, so heap growth = bytes allocated.
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--v8-flags=--min-semi-space-size=64,--max-semi-space-size=64",
        probe,
        path,
        mode,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
    assert.deepEqual(r.drops, {});
    // The clock read per poll costs a boxed number (~20 bytes per batch of 32); one 8-byte
    // allocation per frame would be 256 bytes per batch.
    const perPoll = r.grew / (r.frames / 32);
    assert.ok(perPoll < 64, `${path}: ${perPoll.toFixed(1)} bytes allocated per batch of 32`);
  });
}
