import assert from "node:assert/strict";
import { BASE_YAML, spawnService, tempFile } from "./helpers.ts";

interface Sent {
  kind: "v2p" | "port";
  body: Record<string, unknown>;
}

const hex = (n: number) => n.toString(16).padStart(2, "0");

function request(i: number): Sent {
  if (i % 5 === 4) {
    // A port with a firewall rule: two changes that must survive together or not at all.
    return {
      kind: "port",
      body: {
        name: `p${i}`,
        kind: "instance",
        mac: `a8:40:25:aa:${hex(i >> 8)}:${hex(i & 255)}`,
        overlay: { vni: 20, ipv4: `10.9.${i >> 8}.${i & 255}/16` },
        firewall: [{ direction: "in", priority: i % 1000, action: "deny" }],
      },
    };
  }
  return {
    kind: "v2p",
    body: {
      vni: 10,
      ip: `10.1.${i >> 8}.${i & 255}`,
      mac: `a8:40:25:bb:${hex(i >> 8)}:${hex(i & 255)}`,
      underlay: `fd00:5::${i.toString(16)}`,
    },
  };
}

Deno.test("kill -9 during a burst of API changes: every acknowledged change survives, none half", async () => {
  const cfg = await tempFile(BASE_YAML);
  const dir = await Deno.makeTempDir({ prefix: "xdeno-crash-" });
  const acked: Sent[] = [];
  const sent: Sent[] = [];
  let next = 0;
  for (let round = 0; round < 3; round++) {
    const s = await spawnService(cfg, dir);
    let killed = false;
    const worker = async () => {
      while (!killed) {
        const req = request(next++);
        sent.push(req);
        try {
          const res = await fetch(req.kind === "v2p" ? `${s.url}/v1/v2p` : `${s.url}/v1/ports`, {
            method: req.kind === "v2p" ? "PUT" : "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(req.body),
          });
          const ok = res.ok;
          await res.body?.cancel();
          if (ok) acked.push(req);
          else throw new Error(`refused: ${res.status}`);
        } catch (e) {
          if (!killed) throw e;
          return;
        }
        if (acked.length >= (round + 1) * 60 && !killed) {
          killed = true;
          s.child.kill("SIGKILL");
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const st = await s.child.status;
    assert.equal(st.signal, "SIGKILL");
  }

  const s = await spawnService(cfg, dir);
  try {
    const v2p = await (await fetch(`${s.url}/v1/v2p`)).json() as Record<string, unknown>[];
    const ports = await (await fetch(`${s.url}/v1/ports`)).json() as Record<string, unknown>[];
    const byIp = new Map(v2p.map((m) => [m.ip as string, m]));
    const portNames = new Set(ports.map((p) => p.name as string));
    for (const a of acked) {
      if (a.kind === "v2p") {
        assert.deepEqual(
          byIp.get(a.body.ip as string),
          { ...a.body, source: "api" },
          `acked v2p ${a.body.ip}`,
        );
      } else assert.ok(portNames.has(a.body.name as string), `acked port ${a.body.name}`);
    }
    // Nothing invented, nothing half-applied: every state entry is config or a sent request, whole.
    const sentByKey = new Map(sent.map((r) => [String(r.body.ip ?? r.body.name), r]));
    for (const m of v2p) {
      if (m.ip === "10.0.0.6") continue;
      assert.deepEqual(m, { ...sentByKey.get(m.ip as string)?.body, source: "api" });
    }
    for (const p of ports) {
      if (p.name === "dns0" || p.name === "opte0") continue;
      const req = sentByKey.get(p.name as string)!;
      assert.equal(p.mac, req.body.mac);
      const fw = await (await fetch(`${s.url}/v1/ports/${p.name}/firewall`)).json();
      assert.deepEqual(fw, [{
        id: 0,
        protocol: "any",
        host: "any",
        ...(req.body.firewall as object[])[0],
      }]);
    }
    const serving = await s.waitLog(/serving on/);
    console.log(
      `acked ${acked.length} of ${sent.length} sent; restored ${
        (serving.properties as { overrides: number }).overrides
      } overrides`,
    );
    assert.ok(acked.length >= 180);
    assert.equal((serving.properties as { overrides: number }).overrides >= acked.length, true);
    for (const f of Deno.readDirSync(dir)) {
      assert.ok(f.name === "state.json" || f.name.startsWith(".state.json."), f.name);
    }
  } finally {
    s.child.kill("SIGTERM");
    await s.child.status;
  }
});
