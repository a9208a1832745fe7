// The datapath runs in a Worker doing blocking poll on FFI links while the main thread keeps
// serving HTTP; a SharedArrayBuffer flag (not terminate()) stops it and the link is released.
import assert from "node:assert/strict";
import type { EchoStart } from "./echo_worker.ts";
import { withVeth } from "./conformance.ts";
import { isRoot, sh, stillOpen } from "./netns.ts";

Deno.test({
  name: "worker datapath: zone pings through a Worker's packet link while HTTP stays responsive",
  ignore: !isRoot("worker datapath"),
  async fn() {
    let target = "";
    await withVeth(async (nsA, nsB, a, b) => {
      sh(["ip", "-n", nsB, "addr", "add", "10.79.0.2/24", "dev", b]);
      sh(["ip", "-n", nsB, "addr", "add", "fd00:79::2/64", "dev", b, "nodad"]);
      const stop = new SharedArrayBuffer(4);
      const w = new Worker(new URL("./echo_worker.ts", import.meta.url), { type: "module" });
      const inbox: Record<string, unknown>[] = [];
      let wake = () => {};
      w.onmessage = (e) => {
        inbox.push(e.data);
        wake();
      };
      const next = async () => {
        while (!inbox.length) await new Promise<void>((r) => wake = r);
        return inbox.shift()!;
      };
      const start: EchoStart = {
        netns: nsA,
        ifname: a,
        mac: [0xa8, 0x40, 0x25, 0, 0, 2],
        ip4: "10.79.0.1",
        ip6: "fd00:79::1",
        stop,
      };
      w.postMessage(start);
      assert.deepEqual(await next(), { ready: true });
      const server = Deno.serve(
        { port: 0, hostname: "127.0.0.1", onListen() {} },
        () => new Response("ok"),
      );
      try {
        const ping = new Deno.Command("ip", {
          args: [
            "netns",
            "exec",
            nsB,
            "sh",
            "-c",
            "ping -c 5 -i 0.1 -W 2 10.79.0.1 && ping -c 5 -i 0.1 -W 2 fd00:79::1",
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
        const lat: number[] = [];
        let done = false;
        ping.finally(() => done = true);
        while (!done) {
          const t = performance.now();
          const r = await fetch(`http://127.0.0.1:${server.addr.port}/`);
          assert.equal(await r.text(), "ok");
          lat.push(performance.now() - t);
        }
        const r = await ping;
        assert.ok(r.success, new TextDecoder().decode(r.stdout));
        lat.sort((x, y) => x - y);
        assert.ok(lat.length > 10, `HTTP answered ${lat.length} times during the pings`);
        assert.ok(lat[Math.floor(lat.length * 0.99)] < 200, `HTTP p99 ${lat.at(-1)} ms`);
      } finally {
        Atomics.store(new Int32Array(stop), 0, 1);
        await server.shutdown();
      }
      const end = (await next()) as {
        stats: { rxFrames: number; txFrames: number };
        loops: number;
        target: string;
      };
      target = end.target;
      assert.match(target, /^socket:\[\d+\]$/);
      w.terminate();
      assert.ok(end.stats.txFrames >= 12, `worker answered ${end.stats.txFrames} frames`);
    });
    assert.deepEqual(stillOpen([target]), [], "the worker's socket was closed, its ring unmapped");
  },
});
