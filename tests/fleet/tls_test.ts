// TLS to etcd with client certificate authentication, against a real etcd member whose
// certificates openssl makes here: the fleet config's PEM files reach the member (a write, a read
// and a watch, each checked with etcdctl as the oracle); a wrong CA, a missing client certificate
// and an unreadable file each fail with a message that says what to fix.

import assert from "node:assert/strict";
import { FleetConfig } from "../../lib/config/fleet.ts";
import { etcdClient } from "../../lib/fleet/agent.ts";
import type { WatchEvent } from "../../lib/fleet/etcd_watch.ts";
import { EtcdCluster, haveEtcd } from "./etcd.ts";

const OPENSSL = "/usr/bin/openssl";
function haveOpenssl(): boolean {
  try {
    Deno.statSync(OPENSSL);
    return true;
  } catch {
    return false;
  }
}

const why = !haveEtcd()
  ? "etcd not installed (tests/setup.sh installs etcd-server)"
  : !haveOpenssl()
  ? "openssl not installed (tests/setup.sh installs it)"
  : null;
if (why) console.warn(`SKIP fleet TLS: ${why}`);

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const o = await new Deno.Command(OPENSSL, { args, cwd: dir, stderr: "piped" }).output();
  assert.ok(o.success, `openssl ${args.join(" ")}: ${new TextDecoder().decode(o.stderr)}`);
}

/** Two CAs (ca, other); a member pair (IP SAN 127.0.0.1) and a client pair signed by `ca`. */
async function makeCerts(dir: string): Promise<void> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  for (const ca of ["ca", "other"]) {
    await openssl(
      dir,
      ...["req", "-x509", ...ec, "-days", "1", "-subj", `/CN=${ca}`],
      ...["-keyout", `${ca}.key`, "-out", `${ca}.pem`],
    );
  }
  await Deno.writeTextFile(
    `${dir}/member.ext`,
    "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n",
  );
  await Deno.writeTextFile(`${dir}/client.ext`, "extendedKeyUsage=clientAuth\n");
  for (const n of ["member", "client"]) {
    await openssl(
      dir,
      "req",
      ...ec,
      "-subj",
      `/CN=${n}`,
      "-keyout",
      `${n}.key`,
      "-out",
      `${n}.csr`,
    );
    await openssl(
      dir,
      ...["x509", "-req", "-in", `${n}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key"],
      ...["-CAcreateserial", "-days", "1", "-extfile", `${n}.ext`, "-out", `${n}.pem`],
    );
  }
}

/** The etcd client of a fleet config with these TLS files. */
function client(endpoints: string[], tls: Record<string, string>) {
  return etcdClient(
    FleetConfig.parse({ etcd: { endpoints, dialTimeoutMs: 3000, tls }, sledId: "s1" }),
  );
}

Deno.test({
  name: "fleet TLS: client certificate auth against a real etcd; wrong CA, no client cert",
  ignore: why !== null && !Deno.env.get("CI"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "xdeno-fleet-tls-" });
    let etcd: EtcdCluster | null = null;
    try {
      await makeCerts(dir);
      const f = (n: string) => `${dir}/${n}`;
      etcd = await EtcdCluster.start({
        n: 1,
        tls: { ca: f("ca.pem"), cert: f("member.pem"), key: f("member.key") },
      });
      const eps = etcd.endpoints;
      assert.match(eps[0], /^https:/);

      const good = await client(eps, {
        ca: f("ca.pem"),
        cert: f("client.pem"),
        key: f("client.key"),
      });
      try {
        await good.put("/xdeno/t/a", "from xdeno");
        assert.equal(
          (await etcd.ctl("get", "/xdeno/t/a", "--print-value-only")).trim(),
          "from xdeno",
        );
        await etcd.ctl("put", "/xdeno/t/b", "from etcdctl");
        const r = await good.range("/xdeno/t/", { end: "/xdeno/t0" });
        assert.deepEqual(r.kvs.map((kv) => [kv.key, kv.value]), [
          ["/xdeno/t/a", "from xdeno"],
          ["/xdeno/t/b", "from etcdctl"],
        ]);
        // The watch stream over TLS.
        const got: WatchEvent[] = [];
        const w = good.watch("/xdeno/t/", "/xdeno/t0", r.revision + 1, {
          events: (evs) => got.push(...evs),
          state: () => {},
          compacted: () => {},
        });
        await etcd.ctl("del", "/xdeno/t/a");
        const t0 = Date.now();
        while (got.length === 0 && Date.now() - t0 < 10000) {
          await new Promise((res) => setTimeout(res, 50));
        }
        w.cancel();
        assert.deepEqual(got.map((e) => [e.type, e.kv.key]), [["delete", "/xdeno/t/a"]]);
      } finally {
        good.close();
      }

      const fails = async (tls: Record<string, string>, re: RegExp) => {
        const c = await client(eps, tls);
        try {
          await assert.rejects(c.range("/xdeno/t/b"), re);
        } finally {
          c.close();
        }
      };
      await fails(
        { ca: f("other.pem"), cert: f("client.pem"), key: f("client.key") },
        /certificate is not trusted \(UnknownIssuer\): it is not signed by the configured CA \(tls\.ca\)/,
      );
      await fails({ ca: f("ca.pem") }, /client certificate|tls\.cert and tls\.key/);
      await assert.rejects(
        client(eps, { ca: f("missing.pem") }),
        /^Error: fleet\.etcd\.tls\.ca: cannot read .*missing\.pem/,
      );
    } finally {
      await etcd?.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
