// What one new connection costs the VPC port in allocations (flow_alloc_probe.ts, in a child with
// 64 MiB semi-spaces): the outer header and the compiled plan are shared per destination, so the
// heap objects a connection makes stay a small constant.
import assert from "node:assert/strict";
import { runAllocProbe } from "../alloc_probe.ts";

const probe = new URL("./flow_alloc_probe.ts", import.meta.url).pathname;

Deno.test("a new overlay connection allocates a bounded heap", async () => {
  const r = await runAllocProbe<{ conns: number; heap: number }>(probe);
  // SYN out, SYN-ACK in, ACK, RST: ≈1.8 KB of entries, pairs and TCP state now; 4.0-4.4 KB when
  // every flow built, parsed and compiled its own header and plan. The bound sits between.
  assert.ok(r.heap > 0, "a scavenge ran during the probe: the measurement is void");
  assert.ok(r.heap / r.conns < 2800, `heap bytes per connection: ${r.heap / r.conns}`);
});
