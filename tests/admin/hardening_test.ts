import assert from "node:assert/strict";
import { adminApp } from "../../lib/admin/app.ts";
import { bearerMatches, constantTimeEqual } from "../../lib/admin/auth.ts";
import { DatapathRejected } from "../../lib/contract/datapath.ts";
import { MemoryDatapath } from "../../lib/admin/datapath.ts";
import { isExpensive, TokenBuckets } from "../../lib/admin/ratelimit.ts";
import { parseConfigText } from "../../lib/config/load.ts";
import { startHarness, startHarnessWith } from "./helpers.ts";

/** A byte array that counts how often its elements are read. */
function counted(bytes: Uint8Array): { a: Uint8Array; reads: () => number } {
  let n = 0;
  const a = new Proxy(bytes, {
    get(t, k) {
      if (typeof k === "string" && /^\d+$/.test(k)) n++;
      const v = Reflect.get(t, k, t);
      return typeof v === "function" ? v.bind(t) : v;
    },
  });
  return { a, reads: () => n };
}

Deno.test("auth: the compare reads every byte wherever the first difference is", () => {
  const token = new TextEncoder().encode("0123456789abcdef0123456789abcdef");
  const variants = [
    token.slice(),
    token.map((b, i) => i === 0 ? b ^ 1 : b),
    token.map((b, i) => i === token.length - 1 ? b ^ 1 : b),
    token.map((b) => b ^ 0xff),
  ];
  const reads = variants.map((v, i) => {
    const x = counted(v), y = counted(token);
    assert.equal(constantTimeEqual(x.a, y.a), i === 0);
    return [x.reads(), y.reads()];
  });
  for (const r of reads) assert.deepEqual(r, [token.length, token.length]);
  // The bearer check goes through that compare, never a short-circuiting string equality.
  const src = bearerMatches.toString();
  assert.match(src, /constantTimeEqual\(/);
  assert.doesNotMatch(src, /===|!==|==|localeCompare/);
  assert.equal(bearerMatches("Bearer 0123456789abcdef", "0123456789abcdef"), true);
  assert.equal(bearerMatches("Bearer 0123456789abcdeF", "0123456789abcdef"), false);
  assert.equal(bearerMatches("Bearer ", "0123456789abcdef"), false);
  assert.equal(bearerMatches(undefined, "0123456789abcdef"), false);
});

Deno.test("rate limit: token buckets refill at the rate, per client, bounded", () => {
  let now = 0;
  const b = new TokenBuckets({ perSecond: 2, burst: 3 }, () => now);
  assert.deepEqual([b.take("a"), b.take("a"), b.take("a")], [0, 0, 0]);
  assert.equal(b.take("a"), 0.5); // empty: one token in 500 ms
  assert.equal(b.take("b"), 0); // another client has its own bucket
  now = 250;
  assert.equal(b.take("a"), 0.25);
  now = 500;
  assert.equal(b.take("a"), 0);
  assert.equal(b.take("a"), 0.5);
  now = 100_000; // a long pause refills only up to the burst
  assert.deepEqual([b.take("a"), b.take("a"), b.take("a"), b.take("a") > 0], [0, 0, 0, true]);
  for (let i = 0; i < 5000; i++) b.take(`c${i}`);
  assert.ok(b.size <= 4096, `${b.size} buckets`);
  assert.ok(isExpensive("GET", "/v1/ports/opte0/capture"));
  assert.ok(isExpensive("GET", "/v1/links/ul0/capture"));
  assert.ok(isExpensive("POST", "/v1/trace"));
  assert.ok(isExpensive("GET", "/v1/ports/opte0/flows/uft"));
  assert.ok(isExpensive("GET", "/v1/ports/opte0/layers/firewall"));
  assert.ok(!isExpensive("DELETE", "/v1/ports/opte0/flows/uft"));
  assert.ok(!isExpensive("GET", "/v1/ports"));
  assert.ok(!isExpensive("GET", "/v1/ports/opte0/firewall"));
});

Deno.test("rate limit: 429 with Retry-After on expensive endpoints only, per client address", async () => {
  const h = await startHarnessWith(new MemoryDatapath(), {
    rateLimit: { perSecond: 0.5, burst: 2 },
  });
  try {
    const trace = { port: "opte0", direction: "out", packet: "00".repeat(60) };
    let r = await h.call("POST", "/v1/trace", trace);
    assert.equal(r.status, 501);
    r = await h.call("GET", "/v1/ports/opte0/flows/uft");
    assert.equal(r.status, 501);
    const res = await fetch(`${h.url}/v1/trace`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(trace),
    });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "2");
    assert.deepEqual(await res.json(), { error: "rate limited: retry in 2 s" });
    // Cheap reads and changes are not limited.
    for (let i = 0; i < 20; i++) assert.equal((await h.call("GET", "/v1/ports")).status, 200);
    r = await h.call("PUT", "/v1/v2p", {
      vni: 10,
      ip: "10.0.0.8",
      mac: "a8:40:25:f0:00:08",
      underlay: "fd00:2::8",
    });
    assert.equal(r.status, 200);
  } finally {
    await h.close();
  }
  // Buckets are per client address (Deno.serve's remoteAddr reaches the app as its env).
  const h2 = await startHarness();
  try {
    const app = adminApp(h2.ctl, {
      token: null,
      maxBodyBytes: 65536,
      version: "t",
      rateLimit: { perSecond: 1, burst: 1 },
    });
    const ask = (ip: string) =>
      app.fetch(new Request("http://x/v1/ports/opte0/layers"), {
        remoteAddr: { hostname: ip, port: 1, transport: "tcp" },
      });
    assert.equal((await ask("192.0.2.1")).status, 501);
    assert.equal((await ask("192.0.2.1")).status, 429);
    assert.equal((await ask("192.0.2.2")).status, 501);
  } finally {
    await h2.close();
  }
});

/** A datapath whose inspection paths fail the way a bug would. */
class BrokenDatapath extends MemoryDatapath {
  dumpFlows(): Promise<Record<string, unknown>[]> {
    const e = new Error("secret internal detail");
    e.stack = "Error: secret internal detail\n    at dumpFlows (file:///srv/xdeno/lib/x.ts:1:1)";
    return Promise.reject(e);
  }
  listLayers(): Record<string, unknown>[] {
    return (null as unknown as { rows: Record<string, unknown>[] }).rows;
  }
  clearFlows(): Promise<number> {
    return Promise.reject(new DatapathRejected("port", "no VPC pipeline on opte0"));
  }
}

Deno.test("internal errors answer 500 with a fixed message: no stack, no detail", async () => {
  const h = await startHarnessWith(new BrokenDatapath());
  try {
    for (const path of ["/v1/ports/opte0/flows/uft", "/v1/ports/opte0/layers"]) {
      const res = await fetch(h.url + path);
      const text = await res.text();
      assert.equal(res.status, 500, path);
      assert.equal(text, '{"error":"internal error (see the service log)"}');
      assert.doesNotMatch(text, /secret|\bat\b|file:|TypeError|null/);
    }
    // A datapath refusal is the client's problem: 409 naming the field.
    const r = await h.call("DELETE", "/v1/ports/opte0/flows/uft");
    assert.equal(r.status, 409);
    assert.deepEqual(r.body, { error: "no VPC pipeline on opte0", field: "port" });
  } finally {
    await h.close();
  }
});

Deno.test("loopback by default; body limit answers 413 and changes nothing", async () => {
  const r = parseConfigText(
    'platform: memory\nsled: { underlayAddress: "fd00:1::1", ' +
      'underlayPrefix: "fd00::/16" }\n',
  );
  assert.ok(r.ok);
  assert.equal(r.config.admin.listen, "127.0.0.1:7070");
  assert.deepEqual(r.config.admin.rateLimit, { perSecond: 5, burst: 20 });
  const h = await startHarness(null, 2048);
  try {
    const before = JSON.stringify([...h.ctl.state.v2p]);
    const res = await h.call("PUT", "/v1/v2p", {
      vni: 10,
      ip: "10.0.0.9",
      mac: "a8:40:25:f0:00:09",
      underlay: "fd00:2::9",
      pad: "x".repeat(4096),
    });
    assert.equal(res.status, 413);
    assert.deepEqual(res.body, { error: "request body over 2048 bytes" });
    assert.equal(JSON.stringify([...h.ctl.state.v2p]), before);
  } finally {
    await h.close();
  }
});
