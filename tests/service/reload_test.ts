// SIGHUP reload tells what it did: each resource changed, each one API state pins, each field
// that needs a restart; the log level changes at run time; a reload whose config clashes with
// API state is refused naming both ports. API mutations leave an audit line.

import assert from "node:assert/strict";
import { BASE_YAML, spawnService, tempFile } from "./helpers.ts";
import { notifyReceiver } from "./notify.ts";

const msg = (r: Record<string, unknown>) => String(r.message);

Deno.test({
  name: "reload: logs changed, pinned and restart-only items; log level at run time; audit trail",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "xdeno-reload-" });
    const rx = await notifyReceiver(`${dir}/notify.sock`);
    const v1 = `${BASE_YAML}log: { level: info }\n`;
    const cfg = await tempFile(v1);
    const s = await spawnService(cfg, `${dir}/state`, [], undefined, {
      NOTIFY_SOCKET: rx.address,
    });
    const call = async (method: string, path: string, body: unknown) => {
      const r = await fetch(`${s.url}${path}`, {
        method,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      await r.body?.cancel();
      return r.status;
    };
    /** SIGHUP with `text` as the config; resolves once the service says it is ready again. */
    const reload = async (text: string) => {
      await Deno.writeTextFile(cfg, text);
      const from = rx.messages.length;
      s.child.kill("SIGHUP");
      const i = rx.messages.indexOf(await rx.waitFor(/^RELOADING=1/, from));
      await rx.waitFor(/^READY=1/, i + 1);
    };
    const audits = () => s.logs.filter((r) => r.logger === "xdeno.audit");
    try {
      await rx.waitFor(/^READY=1/);
      const rules = [{ direction: "in", priority: 100, action: "allow", protocol: "udp" }];
      assert.equal(await call("PUT", "/v1/ports/opte0/firewall", rules), 200);
      const audit = await s.waitLog(/^audit: /);
      assert.equal(audit.level, "INFO");
      assert.deepEqual(audit.properties, {
        client: "127.0.0.1",
        token: "none",
        method: "PUT",
        path: "/v1/ports/opte0/firewall",
        status: 200,
      });
      const fw = await (await fetch(`${s.url}/v1/ports/opte0/firewall`)).json();
      assert.deepEqual(fw.map((r: { source: string }) => r.source), ["api"]);

      const v2 = v1
        .replace(
          'priority: 100, action: allow, protocol: tcp, ports: "22"',
          'priority: 200, action: allow, protocol: tcp, ports: "22"',
        )
        .replace('addresses: ["fd00:1::10/64"] }', 'addresses: ["fd00:1::10/64"], mtu: 9000 }')
        .replace(
          "  v2p: [",
          '  v2p: [{ vni: 10, ip: 10.0.0.9, mac: "a8:40:25:f0:00:09", underlay: "fd00:2::9" }, ',
        )
        .replace('underlayAddress: "fd00:1::1"', 'underlayAddress: "fd00:1::2"')
        .replace("log: { level: info }", "log: { level: warning }\nadmin: { maxBodyBytes: 4096 }");
      await reload(v2);
      const reloadLines = s.logs.filter((r) => msg(r).startsWith("reload: "));
      assert.deepEqual(
        reloadLines.map((r) => `${r.level} ${msg(r).replace(/;.*/, "")}`),
        [
          "WARN reload: admin.maxBodyBytes changed",
          "WARN reload: sled.underlayAddress changed",
          'INFO reload: changed port "dns0"',
          'INFO reload: added v2p "10/10.0.0.9"',
          'WARN reload: kept firewall "opte0" as the API set it: state.json pins it, the config\'s edit is not applied',
          "INFO reload: applied 2 changes",
          'INFO reload: log "json at info" → "json at warning"',
        ],
      );
      assert.match(msg(reloadLines[5]), /1 pinned by API state; 2 need a restart$/);
      const fw2 = await (await fetch(`${s.url}/v1/ports/opte0/firewall`)).json();
      assert.deepEqual(fw2.map((r: { priority: number }) => r.priority), [100]);

      // At warning, an API change leaves no (info) audit line; back at info it does.
      const n = audits().length;
      assert.equal(await call("PUT", "/v1/m2p", { group: "239.1.1.1", underlay: "ff04::1" }), 200);
      await reload(v2.replace("log: { level: warning }", "log: { level: info }"));
      assert.equal(audits().length, n);
      assert.equal(await call("PUT", "/v1/m2p", { group: "239.1.1.2", underlay: "ff04::2" }), 200);
      await s.waitLog(/^audit: .*"\/v1\/m2p"/);
      assert.equal(audits().length, n + 1);

      // An API port and a config port on one (VNI, address): the reload is refused, naming both.
      const port = { name: "opte8", kind: "instance", mac: "a8:40:25:f0:00:08" };
      const status = await call("POST", "/v1/ports", {
        ...port,
        overlay: { vni: 10, ipv4: "10.0.0.8/24" },
      });
      assert.equal(status, 201);
      await reload(
        v2.replace("log: { level: warning }", "log: { level: info }").replace(
          "mappings:",
          `  - { name: opte7, kind: instance, mac: "a8:40:25:f0:00:07", overlay: { vni: 10, ipv4: 10.0.0.8/24 } }\nmappings:`,
        ),
      );
      const refused = await s.waitLog(/^reload: refused/);
      assert.equal(refused.level, "ERROR");
      assert.match(
        msg(refused),
        /ports\.opte8\.overlay\.ipv4: VNI 10 address 10\.0\.0\.8 is already used by ports\.opte7\.overlay\.ipv4/,
      );
      const ports = await (await fetch(`${s.url}/v1/ports`)).json();
      assert.deepEqual(
        ports.map((p: { name: string; source: string }) => `${p.name} ${p.source}`),
        ["dns0 config", "opte0 config", "opte8 api"],
      );
    } finally {
      s.child.kill("SIGTERM");
      await s.child.status;
      await rx.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
