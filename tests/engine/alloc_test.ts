import assert from "node:assert/strict";

Deno.test("the fast path allocates nothing per packet (heap growth with GC held off)", async () => {
  const script = new URL("./alloc_check.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--min-semi-space-size=256,--max-semi-space-size=256", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const r = JSON.parse(text.trim().split("\n").at(-1)!) as Record<string, number>;
  // One 16-byte object per packet would show as >= 16; allow a little for timers and the loop.
  // "warm" is the first measured phase (it includes JIT code allocations) and is not judged.
  for (const k of ["encap", "decap", "tcp"]) assert.ok(r[k] < 0.5, `${k}: ${r[k]} bytes/packet`);
});
