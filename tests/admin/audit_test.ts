// The audit trail: a line per mutating request, after it is answered, naming the client, the
// token by a fingerprint of its hash (computed here by sha256sum), the request and its status.

import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { startHarness } from "./helpers.ts";

const TOKEN = "audit-test-token-0123456789";

Deno.test("audit: who, what and result of each mutating request; reads are not logged", async () => {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { mem: (r) => records.push(r) },
    loggers: [
      { category: ["xdeno", "audit"], lowestLevel: "info", sinks: ["mem"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
  const h = await startHarness(TOKEN);
  try {
    const sum = await new Deno.Command("sha256sum", { stdin: "piped", stdout: "piped" }).spawn();
    const w = sum.stdin.getWriter();
    await w.write(new TextEncoder().encode(TOKEN));
    await w.close();
    const id = `sha256:${new TextDecoder().decode((await sum.output()).stdout).slice(0, 12)}`;

    const m2p = { group: "239.1.1.1", underlay: "ff04::1" };
    assert.equal((await h.call("PUT", "/v1/m2p", m2p)).status, 200);
    assert.equal((await h.call("GET", "/v1/m2p")).status, 200);
    assert.equal((await h.call("DELETE", "/v1/ports/nope")).status, 404);
    const anon = await fetch(`${h.url}/v1/m2p`, { method: "PUT", body: JSON.stringify(m2p) });
    await anon.body?.cancel();
    assert.equal(anon.status, 401);

    assert.deepEqual(records.map((r) => r.properties), [
      { client: "127.0.0.1", token: id, method: "PUT", path: "/v1/m2p", status: 200 },
      { client: "127.0.0.1", token: id, method: "DELETE", path: "/v1/ports/nope", status: 404 },
      {
        client: "127.0.0.1",
        token: "unauthenticated",
        method: "PUT",
        path: "/v1/m2p",
        status: 401,
      },
    ]);
    assert.ok(records.every((r) => r.level === "info"));
  } finally {
    await h.close();
    await reset();
  }
});
