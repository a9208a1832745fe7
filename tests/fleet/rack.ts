// A rack of sleds in network namespaces, each running `xdeno run --config` in fleet mode against
// a 3-member etcd cluster (root). Layout (all names carry a unique prefix `u`):
//   u-et          etcd: 3 members on loopback ports, also listening on 10.99.0.254 (bridge br0)
//   u-gK          sled K's "global zone": xdeno runs here; veth to br0 (10.99.0.K) for etcd,
//                 underlay veth uK to the rack router, admin API on its own loopback
//   u-rk          the rack router: fe80::ff on every sled link, fd00:K::/64 via fe80::K:1
//   u-vN          instances' namespaces (their TAPs are created by xdeno and moved here)
// The test process talks to each sled's admin API with curl inside the sled's namespace.

import { addNetns, delNetns, sh, uniq } from "../link/netns.ts";
import { type Service, spawnService } from "../service/helpers.ts";
import { EtcdCluster } from "./etcd.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const ETCD_HOST = "10.99.0.254";

/** An instance port spec as the admin API takes it. */
export function instance(name: string, zone: string, ip: string, mac: string) {
  return { name, kind: "instance", zone, mac, overlay: { vni: 10, ipv4: `${ip}/22` } };
}

/** One sled of the rack. */
export interface Sled {
  n: number;
  gz: string;
  config: string;
  stateDir: string;
  svc: Service | null;
}

/** A built rack; `down()` removes everything. */
export class Rack {
  readonly sleds: Sled[] = [];
  private readonly vms = new Set<string>();
  private constructor(readonly u: string, readonly etcd: EtcdCluster, readonly ttl: number) {}

  /** Namespaces, links and the etcd cluster for `n` sleds (no xdeno running yet). */
  static async build(n = 3, ttl = 3): Promise<Rack> {
    const u = uniq();
    const et = addNetns(`${u}-et`), rk = addNetns(`${u}-rk`);
    let etcd: EtcdCluster | null = null;
    try {
      sh(["ip", "-n", et, "link", "add", "br0", "type", "bridge"]);
      sh(["ip", "-n", et, "addr", "add", `${ETCD_HOST}/24`, "dev", "br0"]);
      sh(["ip", "-n", et, "link", "set", "br0", "up"]);
      sh(["ip", "netns", "exec", rk, "sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"]);
      sh(["ip", "netns", "exec", rk, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0"]);
      sh(["ip", "netns", "exec", rk, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0"]);
      for (let k = 1; k <= n; k++) {
        const gz = addNetns(`${u}-g${k}`);
        for (const s of ["all", "default"]) {
          sh(["ip", "netns", "exec", gz, "sysctl", "-qw", `net.ipv6.conf.${s}.accept_dad=0`]);
        }
        sh(["ip", "link", "add", `${u}e${k}`, "netns", et, "type", "veth", "peer", `${u}m${k}`]
          .concat(["netns", gz]));
        sh(["ip", "-n", et, "link", "set", `${u}e${k}`, "master", "br0", "up"]);
        sh(["ip", "-n", gz, "addr", "add", `10.99.0.${k}/24`, "dev", `${u}m${k}`]);
        sh(["ip", "-n", gz, "link", "set", `${u}m${k}`, "up"]);
        const ul = `${u}u${k}`, rl = `${u}r${k}`;
        sh(["ip", "link", "add", ul, "netns", gz, "mtu", "9000", "type", "veth", "peer", rl]
          .concat(["netns", rk, "mtu", "9000"]));
        sh(["ip", "netns", "exec", gz, "sysctl", "-qw", `net.ipv6.conf.${ul}.disable_ipv6=1`]);
        sh(["ip", "-n", gz, "link", "set", ul, "up"]);
        sh(["ip", "-n", rk, "link", "set", rl, "up"]);
        sh(["ip", "-n", rk, "addr", "add", "fe80::ff/64", "dev", rl, "nodad"]);
        sh(["ip", "-n", rk, "-6", "route", "add", `fd00:${k}::/64`, "via", `fe80::${k}:1`]
          .concat(["dev", rl]));
      }
      etcd = await EtcdCluster.start({ host: ETCD_HOST, netns: et });
      const rack = new Rack(u, etcd, ttl);
      for (let k = 1; k <= n; k++) {
        const stateDir = await Deno.makeTempDir({ prefix: `xdeno-fleet-s${k}-` });
        rack.sleds.push({
          n: k,
          gz: `${u}-g${k}`,
          config: `${stateDir}/sled.yaml`,
          stateDir,
          svc: null,
        });
      }
      return rack;
    } catch (e) {
      await etcd?.stop();
      for (const ns of [et, rk]) delNetns(ns);
      for (let k = 1; k <= n; k++) delNetns(`${u}-g${k}`);
      throw e;
    }
  }

  /** A namespace for an instance (created once, removed by `down`). */
  vm(name: string): string {
    const ns = `${this.u}-${name}`;
    if (!this.vms.has(ns)) {
      addNetns(ns);
      this.vms.add(ns);
    }
    return ns;
  }

  /** Writes sled K's config (its ports as given) and starts `xdeno run` in its namespace. */
  async start(k: number, ports: unknown[] = []): Promise<Sled> {
    const s = this.sleds[k - 1];
    const cfg = {
      platform: "linux",
      stateDir: s.stateDir,
      sled: { underlayAddress: `fd00:${k}::1`, underlayPrefix: "fd00::/16" },
      underlay: {
        links: [{ name: "ul0", device: `${this.u}u${k}`, linkLocal: `fe80::${k}:1` }],
        routes: [{ prefix: "fd00::/16", nextHops: [{ link: "ul0", via: "fe80::ff" }] }],
      },
      ports,
      fleet: {
        etcd: { endpoints: this.etcd.endpoints, prefix: "/xdeno", dialTimeoutMs: 1000 },
        sledId: `sled${k}`,
        leaseTtlSeconds: this.ttl,
      },
    };
    // Ports only the first time: later starts keep the file (the API's changes are persisted).
    try {
      await Deno.stat(s.config);
    } catch {
      await Deno.writeTextFile(s.config, JSON.stringify(cfg, null, 1));
    }
    s.svc = await spawnService(
      s.config,
      s.stateDir,
      ["--platform", "linux"],
      [
        "ip",
        "netns",
        "exec",
        s.gz,
        Deno.execPath(),
        "run",
        "-A",
        MAIN,
      ],
      {},
      60000,
    ); // a loaded 2-core machine starts 3 sleds + etcd in ~3 s each, or much more
    return s;
  }

  /** Stops sled K's xdeno with `sig` and waits for it. */
  async stop(k: number, sig: Deno.Signal = "SIGTERM"): Promise<void> {
    const s = this.sleds[k - 1];
    if (!s.svc) return;
    try {
      s.svc.child.kill(sig);
    } catch { /* gone */ }
    await s.svc.child.status;
    await s.svc.child.stderr.cancel().catch(() => {});
    s.svc = null;
  }

  /** Calls sled K's admin API (curl inside its namespace); the parsed JSON body. */
  async api(k: number, method: string, path: string, body?: unknown): Promise<unknown> {
    const s = this.sleds[k - 1];
    if (!s.svc) throw new Error(`sled ${k} is not running`);
    const args = ["netns", "exec", s.gz, "curl", "-s", "-X", method, `${s.svc.url}${path}`];
    if (body !== undefined) {
      args.push("-H", "content-type: application/json", "-d", JSON.stringify(body));
    }
    const r = await new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" }).output();
    const text = new TextDecoder().decode(r.stdout);
    if (!r.success) throw new Error(`${method} ${path} on sled ${k}: ${text}`);
    return text ? JSON.parse(text) : null;
  }

  /** Sled K's V2P entries as `ip → underlay (source)`. */
  async v2p(k: number): Promise<Map<string, { underlay: string; source: string }>> {
    const rows = await this.api(k, "GET", "/v1/v2p") as {
      ip: string;
      underlay: string;
      source: string;
    }[];
    return new Map(rows.map((r) => [r.ip, { underlay: r.underlay, source: r.source }]));
  }

  /** Polls `check` every 100 ms until it is true or `ms` pass; the elapsed ms, or throws. */
  async until(what: string, check: () => Promise<boolean>, ms = 15000): Promise<number> {
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      if (await check().catch(() => false)) return performance.now() - t0;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out after ${ms} ms waiting for: ${what}`);
  }

  /** Stops every sled, the etcd cluster, and removes every namespace and temp dir. */
  async down(): Promise<void> {
    for (const s of this.sleds) await this.stop(s.n, "SIGKILL").catch(() => {});
    await this.etcd.stop();
    for (const ns of [...this.vms, `${this.u}-et`, `${this.u}-rk`]) delNetns(ns);
    for (const s of this.sleds) {
      delNetns(s.gz);
      await Deno.remove(s.stateDir, { recursive: true }).catch(() => {});
    }
  }
}
