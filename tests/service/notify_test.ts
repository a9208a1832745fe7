// sd_notify: the service tells a (python3 stand-in for) systemd's notification socket when it
// is ready, reloading and stopping, on a socket path and on an abstract name.

import assert from "node:assert/strict";
import { BASE_YAML, spawnService, tempFile } from "./helpers.ts";
import { notifyReceiver } from "./notify.ts";

Deno.test({
  name:
    "Type=notify: READY=1 once the API answers, RELOADING=1 + MONOTONIC_USEC on SIGHUP, STOPPING=1",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "xdeno-notify-" });
    const rx = await notifyReceiver(`${dir}/notify.sock`);
    const cfg = await tempFile(BASE_YAML);
    const s = await spawnService(cfg, `${dir}/state`, [], undefined, {
      NOTIFY_SOCKET: rx.address,
    });
    try {
      const ready = await rx.waitFor(/^READY=1/);
      assert.equal(rx.messages.indexOf(ready), 0, "READY=1 is the first notification");
      assert.match(ready, /\nSTATUS=serving on 127\.0\.0\.1:\d+$/);
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200);

      s.child.kill("SIGHUP");
      const reloading = await rx.waitFor(/^RELOADING=1/);
      const i = rx.messages.indexOf(reloading);
      const usec = Number(/\nMONOTONIC_USEC=(\d+)$/.exec(reloading)?.[1]);
      // The same clock as the receiver's: after it bound, no later than the datagram arrived.
      assert.ok(usec > rx.boundUsec && usec <= rx.arrivals[i], `${usec} ${rx.boundUsec}`);
      await rx.waitFor(/^READY=1/, i + 1);
      await s.waitLog(/^reload: /);

      s.child.kill("SIGTERM");
      assert.equal((await s.child.status).code, 0);
      await rx.waitFor(/^STOPPING=1$/);
    } finally {
      try {
        s.child.kill("SIGKILL");
      } catch { /* exited */ }
      await rx.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "Type=notify: an abstract NOTIFY_SOCKET (@name) gets READY=1",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const rx = await notifyReceiver(`@xdeno-test-${crypto.randomUUID()}`);
    const dir = await Deno.makeTempDir({ prefix: "xdeno-notify-" });
    const s = await spawnService(await tempFile(BASE_YAML), dir, [], undefined, {
      NOTIFY_SOCKET: rx.address,
    });
    try {
      await rx.waitFor(/^READY=1\n/);
      s.child.kill("SIGTERM");
      assert.equal((await s.child.status).code, 0);
    } finally {
      await rx.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
