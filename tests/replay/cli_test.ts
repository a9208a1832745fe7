// `xdeno replay` as a user runs it: bad inputs name the file, block or step and field, exit 2
// and write nothing; the same inputs give byte-identical outputs; a pcap from `xdeno capture`
// replays as NAME=FILE. Inputs come from tests/scenarios (scapy, via pcapng_gen.py).

import assert from "node:assert/strict";
import { lacks } from "../tools.ts";
import { pcapFile } from "../../lib/packet/pcap.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SCEN = `${ROOT}tests/scenarios`;
const PY = "/usr/bin/python3";
const dec = new TextDecoder();

const NO_SCAPY = lacks("replay CLI", "scapy");

async function replay(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}main.ts`, "replay", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: o.code, stdout: dec.decode(o.stdout), stderr: dec.decode(o.stderr) };
}

async function gen(scenario: string, out: string): Promise<void> {
  const o = await new Deno.Command(PY, {
    args: [`${SCEN}/pcapng_gen.py`, `${SCEN}/${scenario}`, out],
    stderr: "piped",
  }).output();
  assert.ok(o.success, dec.decode(o.stderr));
}

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name:
    "replay: unknown interface, not pcapng, truncated block, bad steps: exit 2, named, nothing written",
  ignore: NO_SCAPY,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "xdeno-replay-" });
    try {
      const cfg = `${SCEN}/guest_same_sled/config.yaml`, out = `${dir}/out.pcapng`;
      await gen("guest_same_sled", `${dir}/in.pcapng`);
      const good = await Deno.readFile(`${dir}/in.pcapng`);

      // An interface named after nothing in the config.
      const renamed = good.slice();
      const at = renamed.findIndex((_, i) => dec.decode(renamed.subarray(i, i + 4)) === "vm-b");
      renamed.set(new TextEncoder().encode("vm-z"), at);
      await Deno.writeFile(`${dir}/renamed.pcapng`, renamed);
      let r = await replay(["--config", cfg, `${dir}/renamed.pcapng`, "-o", out]);
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        /renamed\.pcapng: pcapng\.idb\[1\]\.if_name: "vm-z" is neither a port nor an underlay link/,
      );
      assert.equal(await exists(out), false);

      // A classic pcap given as the capture.
      await Deno.writeFile(`${dir}/old.pcap`, pcapFile([new Uint8Array(60)]));
      r = await replay(["--config", cfg, `${dir}/old.pcap`, "-o", out]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /old\.pcap: pcapng\.shb \(not a pcapng file\): malformed/);

      // The last block cut short.
      await Deno.writeFile(`${dir}/cut.pcapng`, good.subarray(0, good.length - 10));
      r = await replay(["--config", cfg, `${dir}/cut.pcapng`, "-o", out]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /cut\.pcapng: pcapng\.epb: truncated \(block at byte \d+\)/);

      // Steps: a bad method in the second step, an unknown field.
      await Deno.writeFile(
        `${dir}/steps.yaml`,
        new TextEncoder().encode(
          "- { at: 0, method: GET, path: /v1/ports }\n- { at: 1, method: PATCH, path: /v1/ports }\n",
        ),
      );
      r = await replay([
        "--config",
        cfg,
        `${dir}/in.pcapng`,
        "--steps",
        `${dir}/steps.yaml`,
        "-o",
        out,
      ]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /steps\.yaml: steps\[1\]\.method: /);
      await Deno.writeFile(
        `${dir}/steps.yaml`,
        new TextEncoder().encode("- { at: 0, method: GET, path: /v1/ports, when: 3 }\n"),
      );
      r = await replay(["--config", cfg, `${dir}/in.pcapng`, "--steps", `${dir}/steps.yaml`]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /steps\.yaml: steps\[0\]\.when: unknown field/);
      assert.equal(await exists(out), false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "replay: the same capture and steps give byte-identical outputs",
  ignore: NO_SCAPY,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "xdeno-replay-" });
    try {
      await gen("firewall_live_flow", `${dir}/in.pcapng`);
      const args = (n: number) => [
        "--config",
        `${SCEN}/firewall_live_flow/config.yaml`,
        `${dir}/in.pcapng`,
        "--steps",
        `${SCEN}/firewall_live_flow/steps.yaml`,
        "-o",
        `${dir}/out${n}.pcapng`,
        "--json",
      ];
      const [a, b] = [await replay(args(1)), await replay(args(2))];
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.ok(a.stdout.length > 1000);
      assert.equal(a.stdout, b.stdout);
      assert.deepEqual(
        await Deno.readFile(`${dir}/out1.pcapng`),
        await Deno.readFile(`${dir}/out2.pcapng`),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "replay: a pcap from xdeno capture replays as NAME=FILE; times count from its first frame",
  ignore: NO_SCAPY,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "xdeno-replay-" });
    try {
      // scapy's ARP request for the gateway, written as a classic pcap (two copies 1 µs apart).
      const o = await new Deno.Command(PY, {
        args: [
          "-c",
          `from scapy.all import Ether, ARP
import sys
sys.stdout.write(bytes(Ether(src="a8:40:25:f0:00:0a", dst="ff:ff:ff:ff:ff:ff")/ARP(op=1, hwsrc="a8:40:25:f0:00:0a", psrc="10.0.0.5", pdst="10.0.0.1")).hex())`,
        ],
        stdout: "piped",
      }).output();
      const arp = Uint8Array.from(dec.decode(o.stdout).match(/../g)!.map((h) => parseInt(h, 16)));
      await Deno.writeFile(`${dir}/vm-a.pcap`, pcapFile([arp, arp]));
      const r = await replay([
        "--config",
        `${SCEN}/gateway_arp/config.yaml`,
        `vm-a=${dir}/vm-a.pcap`,
        "--json",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const recs = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.deepEqual(recs.map((x) => [x.frame, x.time, x.ingress, x.drop]), [
        [1, 0, "vm-a", null],
        [2, 0.000001, "vm-a", null],
      ]);
      // The reply: an ARP (0x0806) reply (opcode 2) to vm-a's MAC.
      const reply = recs[0].outputs[0];
      assert.equal(reply.egress, "vm-a");
      assert.equal(reply.bytes.slice(0, 12), "a84025f0000a");
      assert.equal(reply.bytes.slice(24, 28), "0806");
      assert.equal(reply.bytes.slice(40, 44), "0002");

      const bad = await replay([
        "--config",
        `${SCEN}/gateway_arp/config.yaml`,
        `vm-q=${dir}/vm-a.pcap`,
      ]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /vm-q=.*vm-a\.pcap: "vm-q" is neither a port nor an underlay link/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

const HAVE_TSHARK = await (async () => {
  try {
    return (await new Deno.Command("tshark", { args: ["-v"], stdout: "null" }).output()).success;
  } catch {
    return false;
  }
})();
if (!HAVE_TSHARK && Deno.env.get("CI")) throw new Error("replay cli_test: tshark missing");
if (!HAVE_TSHARK) console.warn("replay cli_test: SKIPPING timer check: no tshark");

Deno.test({
  name:
    "replay: with no packets, a step 10 s in still runs 10 s of neighbour timers on capture time",
  ignore: !HAVE_TSHARK,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "xdeno-replay-" });
    try {
      // An empty section: a section header block only (little-endian, no interfaces).
      const shb = new Uint8Array(28);
      const dv = new DataView(shb.buffer);
      dv.setUint32(0, 0x0a0d0d0a, true);
      dv.setUint32(4, 28, true);
      dv.setUint32(8, 0x1a2b3c4d, true);
      dv.setUint16(12, 1, true);
      dv.setBigInt64(16, -1n, true);
      dv.setUint32(24, 28, true);
      await Deno.writeFile(`${dir}/empty.pcapng`, shb);
      await Deno.writeTextFile(
        `${dir}/steps.yaml`,
        "- { at: 10, method: GET, path: /v1/underlay/neighbours }\n",
      );
      const r = await replay([
        "--config",
        `${SCEN}/gateway_arp/config.yaml`,
        `${dir}/empty.pcapng`,
        "--steps",
        `${dir}/steps.yaml`,
        "-o",
        `${dir}/out.pcapng`,
        "--json",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const step = JSON.parse(r.stdout);
      assert.equal(step.status, 200);
      const t = await new Deno.Command("tshark", {
        args: [
          "-r",
          `${dir}/out.pcapng`,
          "-T",
          "fields",
          "-e",
          "frame.interface_name",
          "-e",
          "frame.time_relative",
          "-e",
          "icmpv6.type",
          "-e",
          "ipv6.dst",
        ],
        stdout: "piped",
        stderr: "null",
      }).output();
      const rows = dec.decode(t.stdout).trim().split("\n").map((l) => l.split("\t"));
      for (const link of ["ul0", "ul1"]) {
        const ns = rows.filter((x) => x[0] === link);
        assert.ok(ns.every((x) => x[2] === "135"), `only solicitations on ${link}`);
        // First a multicast solicitation at 0 s, then unicast probes at least 250 ms apart
        // (the switch's NUD probe period), on its 20 ms timer, up to 10 s.
        assert.equal(Number(ns[0][1]), 0);
        assert.match(ns[0][3], /^ff02::1:ff/);
        const times = ns.slice(1).map((x) => Number(x[1]));
        assert.ok(times.length >= 30 && times.length <= 40, `${times.length} probes on ${link}`);
        assert.ok(ns.slice(1).every((x) => x[3] === (link === "ul0" ? "fe80::1" : "fe80::2")));
        times.forEach((s, i) => {
          assert.ok(Math.abs(s * 50 - Math.round(s * 50)) < 1e-6, `${s} s is not on a 20 ms tick`);
          if (i > 0) assert.ok(s - times[i - 1] >= 0.25 - 1e-9, `probes ${times[i - 1]} → ${s}`);
        });
        assert.ok(times[times.length - 1] <= 10);
      }
      // The neighbours are reachable at 10 s, with the derived MACs.
      assert.deepEqual(
        step.body.map((n: { mac?: string }) => n.mac).sort(),
        ["02:00:00:00:00:01", "02:00:00:00:00:02"],
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
