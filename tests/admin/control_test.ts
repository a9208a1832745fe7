import assert from "node:assert/strict";
import { Control, ControlError } from "../../lib/admin/control.ts";
import { DatapathRejected } from "../../lib/contract/datapath.ts";
import { MemoryDatapath } from "../../lib/admin/datapath.ts";
import { constantTimeEqual, readTokenFile } from "../../lib/admin/auth.ts";
import { type Change, emptyState } from "../../lib/config/resources.ts";
import { StateStore } from "../../lib/service/state.ts";

/** A datapath that records every apply and refuses firewall tables with priority 13. */
class FussyDatapath extends MemoryDatapath {
  log: string[] = [];
  override async apply(c: Change): Promise<void> {
    if (c.kind === "firewall" && c.value?.some((r) => r.priority === 13)) {
      throw new DatapathRejected("firewall[0].priority", "13 is unlucky");
    }
    await super.apply(c);
    this.log.push(`${c.value === null ? "-" : "+"}${c.kind}:${c.key}`);
  }
}

const port = (name: string, mac: string) => ({
  name,
  kind: "system" as const,
  mac,
  addresses: [],
  mtu: 1500,
});

Deno.test("a refused change rolls back the ones before it; nothing persisted or acknowledged", async () => {
  const dir = await Deno.makeTempDir();
  const dp = new FussyDatapath();
  const ctl = new Control(emptyState(), new Map(), dp, new StateStore(dir));
  await assert.rejects(
    ctl.mutate(() => ({
      changes: [
        { kind: "port", key: "a", value: port("a", "a8:40:25:00:00:01") },
        {
          kind: "firewall",
          key: "a",
          value: [{
            id: 0,
            direction: "in",
            priority: 13,
            action: "deny",
            protocol: "any",
            host: "any",
          }],
        },
      ],
      result: null,
    })),
    (e) => e instanceof ControlError && e.status === 409 && e.field === "firewall[0].priority",
  );
  assert.deepEqual(dp.log, ["+port:a", "-port:a"]);
  assert.equal(dp.ports.size, 0);
  assert.equal(ctl.state.port.size, 0);
  assert.equal(ctl.generation, 0);
  await assert.rejects(Deno.stat(`${dir}/state.json`), Deno.errors.NotFound);
});

Deno.test("a failed persist undoes the datapath change and reports 500", async () => {
  const file = await Deno.makeTempFile();
  const dp = new FussyDatapath();
  const ctl = new Control(emptyState(), new Map(), dp, new StateStore(`${file}/sub`));
  await assert.rejects(
    ctl.mutate(() => ({
      changes: [{
        kind: "m2p",
        key: "239.1.1.1",
        value: { group: "239.1.1.1", underlay: "ff04::1" },
      }],
      result: 1,
    })),
    (e) => e instanceof ControlError && e.status === 500 && e.field === "state",
  );
  assert.deepEqual(dp.log, ["+m2p:239.1.1.1", "-m2p:239.1.1.1"]);
  assert.equal(ctl.overrides.size, 0);
  assert.equal(ctl.state.m2p.size, 0);
});

Deno.test("mutations are serialised: concurrent adds each see the previous one", async () => {
  const dp = new FussyDatapath();
  const ctl = new Control(emptyState(), new Map(), dp, null);
  const ids = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    ctl.mutate((s) => {
      const n = s.v2p.size;
      return {
        changes: [{
          kind: "v2p",
          key: `10/10.0.0.${i}`,
          value: { vni: 10, ip: `10.0.0.${i}`, mac: "a8:40:25:00:00:01", underlay: "fd00::1" },
        }],
        result: n,
      };
    })));
  assert.deepEqual(ids, Array.from({ length: 20 }, (_, i) => i));
  assert.equal(ctl.generation, 20);
});

Deno.test("state store: round trip, temp files of a crashed write are swept, corrupt file is an error", async () => {
  const dir = await Deno.makeTempDir();
  const st = new StateStore(dir);
  const o = new Map([[
    "v2p\u000010/10.0.0.1",
    { kind: "v2p", key: "10/10.0.0.1", value: null } as Change,
  ]]);
  await st.save(o);
  await Deno.writeTextFile(`${dir}/.state.json.999.0`, '{"format":1,"chan');
  assert.deepEqual(await st.load(), o);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["state.json"]);
  assert.equal((await Deno.stat(`${dir}/state.json`)).mode! & 0o777, 0o600);
  await Deno.writeTextFile(`${dir}/state.json`, '{"format":9,"changes":[]}');
  await assert.rejects(st.load(), /unknown state format 9/);
});

Deno.test("auth: constant-time compare and token file rules", async () => {
  const e = new TextEncoder();
  assert.equal(constantTimeEqual(e.encode("abcdef"), e.encode("abcdef")), true);
  assert.equal(constantTimeEqual(e.encode("abcdeg"), e.encode("abcdef")), false);
  assert.equal(constantTimeEqual(e.encode("abc"), e.encode("abcdef")), false);
  assert.equal(constantTimeEqual(e.encode(""), e.encode("a")), false);
  const f = await Deno.makeTempFile();
  await Deno.writeTextFile(f, "0123456789abcdefXYZ\n");
  await Deno.chmod(f, 0o600);
  assert.equal(await readTokenFile(f), "0123456789abcdefXYZ");
  await Deno.chmod(f, 0o640);
  await assert.rejects(readTokenFile(f), /accessible by group\/others \(mode 640\)/);
  await Deno.chmod(f, 0o600);
  await Deno.writeTextFile(f, "short");
  await assert.rejects(readTokenFile(f), /at least 16/);
});
