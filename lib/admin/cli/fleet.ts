// `xdeno fleet status`: the fleet agent's connection, revision, published entries and conflicts
// (GET /v1/fleet). `renderFleetStatus` is the text form, for any verb that shows fleet state.

import type { Row, Verb } from "./common.ts";

/** The fleet status as lines of text. */
export function renderFleetStatus(s: Row): string {
  if (!s.enabled) return "fleet mode is off (no `fleet:` in the config)";
  const lines = [
    `sled       ${s.sledId}`,
    `etcd       ${(s.endpoints as string[]).join(", ")} (prefix ${s.prefix})`,
    `state      ${s.state}${
      s.state === "degraded" ? ` for ${Math.round(Number(s.degradedForMs) / 100) / 10} s` : ""
    }`,
    `revision   ${s.revision} (newest seen ${s.headRevision})`,
    `lease      ${s.lease ?? "-"} (ttl ${s.leaseTtlSeconds} s)`,
    `entries    ${s.entries} in effect, ${(s.published as string[]).length} published`,
    `sleds      ${(s.sleds as string[]).join(", ") || "-"}`,
  ];
  for (const c of s.conflicts as Row[]) lines.push(`conflict   ${c.what} held by ${c.holder}`);
  for (const [k, why] of Object.entries(s.shadowed as Row)) lines.push(`shadowed   ${k}: ${why}`);
  const c = s.counters as Row;
  lines.push(
    `counters   ${Object.entries(c).map(([k, v]) => `${k}=${v}`).join(" ")}`,
  );
  return lines.join("\n");
}

/** Fleet verbs. */
export const FLEET_VERBS: Record<string, Verb> = {
  fleet: {
    summary: "fleet status: etcd connection, revision, published entries, conflicts",
    usage: "fleet status",
    args: 1,
    async run(c, [what]) {
      if (what !== "status") throw new Error(`fleet: unknown subcommand ${what} (expected status)`);
      const s = (await c.call("GET", "/v1/fleet")) as Row;
      return { data: s, table: () => renderFleetStatus(s) };
    },
  },
};
