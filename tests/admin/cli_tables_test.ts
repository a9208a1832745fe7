// Every table verb of the CLI against a running service on the memory platform (the real switch,
// with flows in its tables): each row has one cell per header, aligned under it, and the values
// sit in the column that names them.

import assert from "node:assert/strict";
import { buildFrame } from "../../lib/packet/build.ts";
import type { SwitchDatapath } from "../../lib/runtime/runtime.ts";
import type { ServiceDatapath } from "../../lib/service/switch_datapath.ts";
import { GW, startSled } from "../service/sled.ts";
import type { Harness } from "./helpers.ts";
import { readTable, xdeno } from "./cli_helpers.ts";

/** Sends frames from a port's client into the in-process switch; waits until `port`'s TCP
 * flow reached `state`. */
async function send(h: Harness<ServiceDatapath>, port: string, f: Uint8Array, state: string) {
  const mem = (h.dp.inner as unknown as SwitchDatapath).links as unknown as {
    peer(n: string): { inject(f: Uint8Array): boolean };
  };
  assert.ok(mem.peer(port).inject(f));
  for (let i = 0; i < 500; i++) {
    const flows = (await h.call("GET", `/v1/ports/${port}/flows/tcp`)).body;
    if (flows.some((x: { state: string }) => x.state === state)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`${port}'s TCP flow never reached ${state}`);
}

const A = { mac: "a8:40:25:fa:00:0a", ip: "172.30.0.10", port: 40000 };
const B = { mac: "a8:40:25:fa:00:0b", ip: "172.30.0.11", port: 80 };
/** A TCP segment of the A↔B connection, from `from` to the other side. */
const tcp = (from: typeof A, flags: string) => {
  const to = from === A ? B : A;
  return buildFrame([
    { type: "ethernet", src: from.mac, dst: GW },
    { type: "ipv4", src: from.ip, dst: to.ip, ttl: 64 },
    { type: "tcp", srcPort: from.port, dstPort: to.port, flags },
  ]);
};

Deno.test({
  name: "CLI table verbs: one cell per header, each value in its column",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { dp, h } = await startSled(false);
    try {
      await h.call("POST", "/v1/ports/vm-a/firewall", {
        direction: "out",
        priority: 5,
        action: "deny",
        protocol: "udp",
        ports: "9",
      });
      const added = await h.call("POST", "/v1/ports/vm-a/routes", {
        destination: "192.0.2.0/24",
        target: { kind: "ip", ip: "172.30.0.1" },
        class: "custom",
      });
      assert.equal(added.status, 201, JSON.stringify(added.body));
      // A whole handshake, so the flows outlive a slow CLI (a half-open flow expires in 5 s).
      await send(h, "vm-a", tcp(A, "S"), "SYN_SENT");
      await send(h, "vm-b", tcp(B, "SA"), "SYN_RCVD");
      await send(h, "vm-a", tcp(A, "A"), "ESTABLISHED");

      let r = await xdeno(h.url, "list-layers", "vm-a");
      assert.equal(r.code, 0, r.err);
      const layers = readTable(r.out);
      assert.deepEqual(layers.map((l) => l.NAME), [
        "gateway",
        "firewall",
        "router",
        "nat",
        "overlay",
      ]);
      const fw = layers.find((l) => l.NAME === "firewall")!;
      assert.equal(fw["DEF IN"], "deny");
      assert.equal(fw["DEF OUT"], "statefulAllow");
      assert.equal(fw.FLOWS, "1");
      assert.ok(!r.out.includes("[object Object]"));
      assert.deepEqual(readTable((await xdeno(h.url, "list-layers", "-p", "vm-a")).out), layers);

      r = await xdeno(h.url, "dump-uft");
      assert.equal(r.code, 0, r.err);
      const uft = readTable(r.out);
      assert.ok(uft.length >= 1, r.out);
      const out = uft.find((u) => u.PORT === "vm-a" && u.DIR === "out")!;
      assert.ok(out, r.out);
      assert.match(out.FLOW, /172\.30\.0\.10:40000/);
      assert.equal(out.TCP, "ESTABLISHED");
      assert.match(out.HITS, /^\d+$/);
      assert.equal(readTable((await xdeno(h.url, "dump-uft", "-p", "vm-a")).out).length >= 1, true);

      r = await xdeno(h.url, "dump-tcp-flows", "vm-a");
      const tcpRows = readTable(r.out);
      assert.equal(tcpRows.length, 1, r.out);
      assert.equal(tcpRows[0].DIR, "out", "the guest opened it");
      assert.equal(tcpRows[0].STATE, "ESTABLISHED");
      assert.match(tcpRows[0].FLOW, /172\.30\.0\.10:40000.*172\.30\.0\.11:80/);
      // On vm-b's side the remote end opened the connection.
      r = await xdeno(h.url, "dump-tcp-flows", "vm-b");
      assert.equal(readTable(r.out)[0].DIR, "in", r.out);

      r = await xdeno(h.url, "dump-lft", "vm-a", "firewall");
      assert.equal(r.code, 0, r.err);
      const lft = readTable(r.out);
      assert.equal(lft.length, 1, r.out);
      assert.equal(lft[0].LAYER, "firewall");
      assert.match(lft[0]["OUT FLOW"], /172\.30\.0\.10:40000/);

      r = await xdeno(h.url, "dump-layer", "vm-a", "firewall");
      assert.equal(r.code, 0, r.err);
      const sections = r.out.split(/\n(?=Inbound Rules|Outbound Rules|Flows)/);
      assert.match(sections[0], /^Port vm-a - Layer firewall/);
      const body = (s: string) => s.split("\n").slice(2).join("\n");
      const inRules = readTable(body(sections[1]));
      assert.equal(inRules.at(-1)!.ID, "DEF");
      assert.equal(inRules.at(-1)!.ACTION, "deny");
      const outRules = readTable(body(sections[2]));
      const deny = outRules.find((x) => x.PRI === "5")!;
      assert.ok(deny, sections[2]);
      const listed = readTable((await xdeno(h.url, "list-fw-rules", "vm-a")).out);
      assert.equal(deny.ID, listed.find((x) => x.PRI === "5")!.ID, "ids as list-fw-rules shows");
      assert.match(deny.PREDICATES, /ip\.proto=17/);
      assert.match(deny.PREDICATES, /l4\.dst=9/);
      assert.equal(deny.ACTION, "deny");
      assert.equal(outRules.at(-1)!.ACTION, "statefulAllow");
      const flows = readTable(body(sections[3]));
      assert.equal(flows.length, 1);
      assert.match(flows[0]["OUT FLOW"], /172\.30\.0\.10:40000/);
      r = await xdeno(h.url, "dump-layer", "vm-a", "firewall", "--json");
      assert.equal(JSON.parse(r.out).layer, "firewall");

      r = await xdeno(h.url, "clear-lft", "vm-a", "firewall");
      assert.equal(r.code, 0, r.err);
      assert.equal((await xdeno(h.url, "dump-lft", "vm-a", "firewall")).out, "(no flows)\n");

      for (
        const set of [
          "set-v2b 198.51.100.0/24 fd00:99::1 fd00:99::2 --vni 10",
          "set-m2p 239.1.1.1 ff04::1:1",
          "set-mcast-fwd ff04::1:1 fd00:2::1=underlay",
        ]
      ) {
        r = await xdeno(h.url, ...set.split(" "));
        assert.equal(r.code, 0, `${set}: ${r.err}`);
      }
      // Each listing, and where one of its values must sit.
      const expect: [string, string, string][] = [
        ["list-ports", "NAME", "vm-a"],
        ["list-fw-rules vm-a", "PRI", "5"],
        ["dump-v2p", "UNDERLAY", "fd00:1::1"],
        ["dump-v2b", "ENDPOINTS", "fd00:99::1,fd00:99::2"],
        ["dump-m2p", "UNDERLAY", "ff04::1:1"],
        ["dump-mcast-fwd", "NEXT HOPS", "fd00:2::1=underlay"],
        ["list-router-entries vm-a", "TARGET", "ip4=172.30.0.1"],
        ["list-underlay-routes", "NEXT HOPS", "fe80::ff%ul0"],
        ["list-underlay-links", "LINK", "ul0"],
      ];
      for (const [verb, column, value] of expect) {
        r = await xdeno(h.url, ...verb.split(" "));
        assert.equal(r.code, 0, `${verb}: ${r.err}`);
        const rows = readTable(r.out);
        assert.ok(
          rows.some((x) => x[column] === value),
          `${verb}: no ${column} ${value} in\n${r.out}`,
        );
      }
    } finally {
      await h.close();
      await dp.close();
    }
  },
});

const IN_RULE = ["--direction", "in", "--priority", "1", "--action", "allow"];

Deno.test("CLI usage errors: extra arguments, unknown options, bad ids, a refused token", async () => {
  const { startHarness } = await import("./helpers.ts");
  const h = await startHarness("s3cret");
  try {
    let r = await xdeno(h.url, "list-fw-rules", "opte0", "extra");
    assert.equal(r.code, 2);
    assert.match(r.err, /^xdeno list-fw-rules: unexpected argument "extra" \(takes at most 1\)/);
    r = await xdeno(h.url, "capture", "opte0", "--json");
    assert.equal(r.code, 2);
    assert.match(r.err, /--json: capture writes a pcap/);
    r = await xdeno(h.url, "list-ports", "--bogus");
    assert.equal(r.code, 2);
    assert.match(r.err, /^xdeno list-ports: unknown option --bogus\n/);
    assert.ok(!r.err.includes("after '--'"), r.err);
    r = await xdeno(h.url, "list-ports");
    assert.equal(r.code, 1);
    assert.match(r.err, /401.*--token-file FILE or XDENO_TOKEN_FILE/);
    r = await xdeno(h.url, "list-ports", "--token-file", "/nonexistent/token");
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /token file \/nonexistent\/token \(--token-file or XDENO_TOKEN_FILE\): not found/,
    );
    const tok = await Deno.makeTempFile();
    await Deno.writeTextFile(tok, "s3cret\n");
    r = await xdeno(h.url, "rm-fw-rule", "-p", "opte0", "abc", "--token-file", tok);
    assert.equal(r.code, 1);
    assert.match(r.err, /id: .*is not a rule id/);
    assert.ok(!r.err.includes("NaN"), r.err);
    const addIn = (flag: string, value: string) =>
      xdeno(h.url, "add-fw-rule", "opte0", ...IN_RULE, flag, value, "--token-file", tok);
    r = await addIn("--host", "10.0.0.0/40");
    assert.equal(r.code, 1);
    assert.match(r.err, /host: "10\.0\.0\.0\/40" is not a host/);
    r = await addIn("--ports", "22-abc");
    assert.equal(r.code, 1);
    assert.match(r.err, /ports: .*is not a list of ports and ranges/);
    assert.ok(!r.err.includes("65535"), r.err);
    await Deno.remove(tok);
  } finally {
    await h.close();
  }
});
