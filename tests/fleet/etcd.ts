// A throwaway 3-member etcd cluster for the fleet tests and benchmark: each member its own data
// dir in a temp dir and its own ports, optionally inside a network namespace (listening on its
// loopback and on `host`); `stop()` kills every member and removes the data dirs.

/** True when /usr/bin/etcd exists (tests/setup.sh installs etcd-server). */
export function haveEtcd(): boolean {
  try {
    Deno.statSync("/usr/bin/etcd");
    return true;
  } catch {
    return false;
  }
}

/** One member. */
export interface Member {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  child: Deno.ChildProcess | null;
}

/** PEM files of the members' TLS: server pair, and the CA whose client certificates they accept. */
export interface MemberTls {
  ca: string;
  cert: string;
  key: string;
}

/** A running cluster. */
export class EtcdCluster {
  private constructor(
    readonly dir: string,
    readonly host: string,
    readonly netns: string | null,
    readonly members: Member[],
    readonly tls: MemberTls | null = null,
  ) {}

  private get scheme(): string {
    return this.tls ? "https" : "http";
  }

  /** Client URLs of every member on `host`. */
  get endpoints(): string[] {
    return this.members.map((m) => `${this.scheme}://${this.host}:${m.clientPort}`);
  }

  /** Starts `n` members on ports from `basePort` (client k: base+2k, peer: base+2k+1). */
  static async start(
    opts: {
      host?: string;
      netns?: string | null;
      n?: number;
      basePort?: number;
      /** Client URLs over TLS with client certificate authentication. */
      tls?: MemberTls;
    } = {},
  ): Promise<EtcdCluster> {
    const host = opts.host ?? "127.0.0.1", n = opts.n ?? 3;
    const base = opts.basePort ?? 20000 + 2 * Math.floor(Math.random() * 10000);
    const dir = await Deno.makeTempDir({ prefix: "xdeno-etcd-" });
    const members = Array.from({ length: n }, (_, k) => ({
      name: `m${k}`,
      clientPort: base + 2 * k,
      peerPort: base + 2 * k + 1,
      dataDir: `${dir}/m${k}`,
      child: null,
    }));
    const c = new EtcdCluster(dir, host, opts.netns ?? null, members, opts.tls ?? null);
    for (const m of members) c.startMember(m, "new");
    await c.waitHealthy();
    return c;
  }

  private cmd(args: string[]): [string, string[]] {
    return this.netns ? ["ip", ["netns", "exec", this.netns, ...args]] : [args[0], args.slice(1)];
  }

  /** Starts (or restarts, `state: "existing"`) one member. */
  startMember(m: Member, state: "new" | "existing" = "existing"): void {
    const peers = this.members.map((p) => `${p.name}=http://127.0.0.1:${p.peerPort}`).join(",");
    const clientUrls = [...new Set(["127.0.0.1", this.host])]
      .map((h) => `${this.scheme}://${h}:${m.clientPort}`).join(",");
    const t = this.tls;
    const tls = t
      ? [`--cert-file=${t.cert}`, `--key-file=${t.key}`, `--trusted-ca-file=${t.ca}`]
        .concat("--client-cert-auth")
      : [];
    const [cmd, args] = this.cmd([
      "/usr/bin/etcd",
      `--name=${m.name}`,
      `--data-dir=${m.dataDir}`,
      `--listen-client-urls=${clientUrls}`,
      `--advertise-client-urls=${this.scheme}://${this.host}:${m.clientPort}`,
      ...tls,
      `--listen-peer-urls=http://127.0.0.1:${m.peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${m.peerPort}`,
      `--initial-cluster=${peers}`,
      `--initial-cluster-state=${state}`,
      "--initial-cluster-token=xdeno-test",
      // Fast elections: the tests kill leaders on a loaded machine.
      "--heartbeat-interval=100",
      "--election-timeout=1000",
      "--log-level=error",
    ]);
    m.child = new Deno.Command(cmd, { args, stdout: "null", stderr: "null", stdin: "null" })
      .spawn();
  }

  /** Runs etcdctl against the cluster; returns stdout (throws on failure). */
  async ctl(...args: string[]): Promise<string> {
    const [cmd, a] = this.cmd([
      "/usr/bin/etcdctl",
      `--endpoints=${this.members.filter((m) => m.child).map((m) => `127.0.0.1:${m.clientPort}`)}`,
      ...(this.tls
        ? [`--cacert=${this.tls.ca}`, `--cert=${this.tls.cert}`, `--key=${this.tls.key}`]
        : []),
      "--dial-timeout=2s",
      "--command-timeout=5s",
      ...args,
    ]);
    const r = await new Deno.Command(cmd, {
      args: a,
      env: { ETCDCTL_API: "3" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    if (!r.success) throw new Error(`etcdctl ${args.join(" ")}: ${dec.decode(r.stderr)}`);
    return dec.decode(r.stdout);
  }

  /**
   * Waits until every running member answers (endpoint health). A readiness wait, not a bound:
   * with the whole suite on two cores, three members' first election and WAL fsyncs took more
   * than 20 s once in CI.
   */
  async waitHealthy(ms = 60000): Promise<void> {
    const t0 = Date.now();
    let last = "";
    while (Date.now() - t0 < ms) {
      try {
        await this.ctl("endpoint", "health");
        return;
      } catch (e) {
        last = (e as Error).message;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`etcd cluster not healthy in ${ms} ms: ${last}`);
  }

  /** The member that is leader now. */
  async leader(): Promise<Member> {
    const st = JSON.parse(await this.ctl("endpoint", "status", "-w", "json")) as {
      Endpoint: string;
      Status: { header: { member_id: number }; leader: number };
    }[];
    const lead = st.find((s) => s.Status.header.member_id === s.Status.leader);
    if (!lead) throw new Error("no leader");
    return this.members.find((m) => lead.Endpoint.endsWith(`:${m.clientPort}`))!;
  }

  /** SIGKILLs one member. */
  async kill(m: Member): Promise<void> {
    if (!m.child) return;
    try {
      m.child.kill("SIGKILL");
    } catch { /* gone */ }
    await m.child.status;
    m.child = null;
  }

  /** Process ids of the running members (for /proc readings). */
  pids(): number[] {
    return this.members.flatMap((m) => (m.child ? [m.child.pid] : []));
  }

  /** Kills every member and removes the data dirs. */
  async stop(): Promise<void> {
    for (const m of this.members) await this.kill(m);
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** Polls `f` every 50 ms until it is true (a throw counts as false); throws after `ms`. */
export async function until(
  what: string,
  f: () => boolean | Promise<boolean>,
  ms = 15000,
): Promise<void> {
  const t0 = Date.now();
  while (!(await Promise.resolve().then(f).catch(() => false))) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
