// The one reconciler: every configuration and API change that touches switch state reaches the
// switch as a typed SwitchCommand through `Switch.apply` (the path `submit` takes between
// batches), never as a direct method call; removals of what is not there are tolerated only where
// the resource model asks for it.

import assert from "node:assert/strict";
import { SwitchDatapath } from "../../lib/runtime/mod.ts";
import { MemoryPlatform } from "../../lib/runtime/platform.ts";
import type { SwitchCommand } from "../../lib/switch/switch.ts";
import { initialChanges, sledConfig, VA, ZA } from "./fixture.ts";

/** A datapath whose switch records every command it is given (and still applies it). */
function recording(): { dp: SwitchDatapath; ops: string[] } {
  const dp = new SwitchDatapath(sledConfig(), new MemoryPlatform());
  const ops: string[] = [];
  // Direct mutators must not be used by the runtime: they fail unless `apply` runs them.
  const apply = dp.sw.apply.bind(dp.sw);
  let inApply = false;
  dp.sw.apply = (cmd: SwitchCommand) => {
    ops.push(cmd.op);
    inApply = true;
    try {
      apply(cmd);
    } finally {
      inApply = false;
    }
  };
  const mutators = [
    "addPort",
    "removePort",
    "setPaused",
    "setRoute",
    "removeRoute",
    "setM2p",
    "clearM2p",
    "subscribe",
    "unsubscribe",
    "setMcastForwarding",
  ] as const;
  for (const m of mutators) {
    const f = (dp.sw[m] as (...a: unknown[]) => unknown).bind(dp.sw);
    (dp.sw as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
      if (!inApply) throw new Error(`direct call of Switch.${m}`);
      return f(...a);
    };
  }
  return { dp, ops };
}

Deno.test("reconciler: config changes reach the switch as typed commands only", async () => {
  const { dp, ops } = recording();
  try {
    for (const c of initialChanges(sledConfig())) dp.applyNow(c);
    assert.ok(ops.includes("addPort") && ops.includes("setRoute"), ops.join(" "));
    assert.equal(ops.filter((o) => o === "addPort").length, dp.sw.ports.length);
    ops.length = 0;
    await dp.setPortState(ZA.name, "paused");
    assert.equal(dp.sw.port(ZA.name)!.paused, true);
    // A changed spec recreates the port (remove, add) and keeps it paused.
    dp.applyNow({
      kind: "port",
      key: ZA.name,
      value: {
        name: ZA.name,
        kind: "system",
        mac: ZA.mac,
        addresses: ["fd00:1::10/64"],
        mtu: 1400,
      },
    });
    assert.deepEqual(ops, ["setPaused", "removePort", "addPort", "setPaused"]);
    assert.equal(dp.sw.port(ZA.name)!.paused, true);
    assert.equal(dp.sw.port(ZA.name)!.mtu, 1400);
    ops.length = 0;
    dp.applyNow({
      kind: "m2p",
      key: "ff0e::77",
      value: { group: "ff0e::77", underlay: "ff04::77" },
    });
    dp.applyNow({ kind: "subscription", key: VA.name, value: ["ff0e::77"] });
    dp.applyNow({ kind: "subscription", key: VA.name, value: null });
    dp.applyNow({ kind: "m2p", key: "ff0e::77", value: null });
    dp.applyNow({ kind: "route", key: "fd00:2::/64", value: null });
    // Removing what is already gone is not an error for resources.
    dp.applyNow({ kind: "route", key: "fd00:2::/64", value: null });
    assert.deepEqual(ops, [
      "setM2p",
      "subscribe",
      "unsubscribe",
      "clearM2p",
      "removeRoute",
      "removeRoute",
    ]);
    assert.deepEqual(dp.sw.describeRoutes(), []);
  } finally {
    await dp.close();
  }
});

Deno.test("switch commands: removals refuse what is not there unless ifPresent", async () => {
  const { dp } = recording();
  assert.throws(() => dp.sw.apply({ op: "removeRoute", prefix: "fd00:9::/64" }), /no such route/);
  dp.sw.apply({ op: "removeRoute", prefix: "fd00:9::/64", ifPresent: true });
  assert.throws(() => dp.sw.apply({ op: "clearM2p", group: "ff0e::9" }), /no such group/);
  dp.sw.apply({ op: "clearM2p", group: "ff0e::9", ifPresent: true });
  assert.throws(() => dp.sw.apply({ op: "setPaused", name: "nope", paused: true }), /no such port/);
  await dp.close();
});
