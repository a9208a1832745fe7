// Test helpers: a real admin server on an ephemeral loopback port over a MemoryDatapath.

import { adminApp, type AdminOptions } from "../../lib/admin/app.ts";
import type { AdminDatapath } from "../../lib/contract/datapath.ts";
import { Control } from "../../lib/admin/control.ts";
import { MemoryDatapath } from "../../lib/admin/datapath.ts";
import { stateFromConfig } from "../../lib/config/resources.ts";
import { parseConfigText } from "../../lib/config/load.ts";
import { StateStore } from "../../lib/service/state.ts";

/** A minimal valid config with one instance port `opte0` and one system port `dns0`. */
export const BASE_YAML = `
platform: memory
sled: { underlayAddress: "fd00:1::1", underlayPrefix: "fd00::/16" }
underlay:
  links: [{ name: ul0 }, { name: ul1 }]
  routes: [{ prefix: "fd00::/16", nextHops: [{ link: ul0, via: "fe80::1" }] }]
ports:
  - { name: dns0, kind: system, zone: dns, mac: "a8:40:25:00:00:10", addresses: ["fd00:1::10/64"] }
  - name: opte0
    kind: instance
    mac: "a8:40:25:f0:00:01"
    overlay: { vni: 10, ipv4: 10.0.0.5/24 }
    firewall: [{ direction: in, priority: 100, action: allow, protocol: tcp, ports: "22" }]
mappings:
  v2p: [{ vni: 10, ip: 10.0.0.6, mac: "a8:40:25:f0:00:02", underlay: "fd00:2::1" }]
`;

// Response bodies are arbitrary JSON; the tests check their shape field by field.
// deno-lint-ignore no-explicit-any
type Json = any;

/** A running admin server and what it wraps. */
export interface Harness<D extends AdminDatapath = MemoryDatapath> {
  url: string;
  ctl: Control;
  dp: D;
  dir: string;
  call(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Json }>;
  close(): Promise<void>;
}

/** Starts a server (token optional) with BASE_YAML as config. */
export function startHarness(
  token: string | null = null,
  maxBodyBytes = 65536,
): Promise<Harness> {
  return startHarnessWith(new MemoryDatapath(), { token, maxBodyBytes });
}

/** Starts a server over `dp` with admin options `opts` (defaults as startHarness). */
export async function startHarnessWith<D extends AdminDatapath>(
  dp: D,
  opts: Partial<AdminOptions> = {},
  yaml = BASE_YAML,
): Promise<Harness<D>> {
  const r = parseConfigText(yaml);
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  const dir = await Deno.makeTempDir({ prefix: "xdeno-admin-" });
  const store = new StateStore(dir);
  const ctl = new Control(stateFromConfig(r.config), await store.load(), dp, store);
  await ctl.start();
  const token = opts.token ?? null;
  const app = adminApp(ctl, { token, maxBodyBytes: 65536, version: "test", ...opts });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, app.fetch);
  const url = `http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`;
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return {
    url,
    ctl,
    dp,
    dir,
    async call(method, path, body, headers) {
      const res = await fetch(url + path, {
        method,
        headers: {
          ...auth,
          ...(body !== undefined ? { "content-type": "application/json" } : {}),
          ...headers,
        },
        body: body === undefined
          ? undefined
          : typeof body === "string"
          ? body
          : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch { /* text */ }
      return { status: res.status, body: parsed };
    },
    async close() {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
