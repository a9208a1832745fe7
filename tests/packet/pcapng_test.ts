// pcapng: files written by scapy, editcap and tests/scenarios/pcapng_gen.py (both byte orders)
// read back with their interfaces, times and bytes; what PcapngWriter writes is read by tshark;
// malformed files come back as errors naming the block. Skips loudly without the tools.

import assert from "node:assert/strict";
import { lacks } from "../tools.ts";
import { PcapngWriter, readPcapngFile } from "../../lib/packet/pcapng.ts";
import { concatBytes } from "../../lib/packet/bytes.ts";
import { isParseError, type ParseError } from "../../lib/packet/error.ts";
import { pcapFile } from "../../lib/packet/pcap.ts";
import { toHex } from "../../lib/packet/bytes.ts";

const PY = "/usr/bin/python3";
const dec = new TextDecoder();

const NO_TSHARK = lacks("pcapng tshark checks", "tshark");
const NO_SCAPY = lacks("pcapng scapy checks", "scapy");

async function run(cmd: string, args: string[]): Promise<string> {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  assert.ok(o.success, `${cmd} ${args.join(" ")}: ${dec.decode(o.stderr)}`);
  return dec.decode(o.stdout);
}

Deno.test({
  name: "pcapng: reads scapy's file (one unnamed interface, µs stamps) frame for frame",
  ignore: NO_SCAPY,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const out = await run(PY, [
        "-c",
        `
from scapy.all import Ether, IP, UDP, Raw
from scapy.utils import PcapNgWriter
import binascii
w = PcapNgWriter("${dir}/s.pcapng")
for i, t in enumerate([1700000000.25, 1700000001.5]):
    p = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")/IP(dst="10.0.0.%d" % (i + 1))/UDP()/Raw(b"x" * (i + 1))
    p.time = t
    w.write(p)
    print(binascii.hexlify(bytes(p)).decode())
w.close()
`,
      ]);
      const want = out.trim().split("\n");
      const f = readPcapngFile(await Deno.readFile(`${dir}/s.pcapng`));
      assert.ok(!isParseError(f), isParseError(f) ? JSON.stringify(f) : "");
      assert.equal(f.interfaces.length, 1);
      assert.equal(f.interfaces[0].name, null);
      assert.equal(f.interfaces[0].linkType, 1);
      assert.deepEqual(f.packets.map((p) => toHex(p.data)), want);
      assert.deepEqual(f.packets.map((p) => p.timeNs), [
        1700000000250000000n,
        1700000001500000000n,
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "pcapng: little- and big-endian files of several named interfaces read the same",
  ignore: NO_SCAPY,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const scen = new URL("../scenarios/guest_same_sled", import.meta.url).pathname;
      const gen = new URL("../scenarios/pcapng_gen.py", import.meta.url).pathname;
      await run(PY, [gen, scen, `${dir}/le.pcapng`]);
      await run(PY, [gen, scen, `${dir}/be.pcapng`, "big"]);
      const le = readPcapngFile(await Deno.readFile(`${dir}/le.pcapng`));
      const be = readPcapngFile(await Deno.readFile(`${dir}/be.pcapng`));
      assert.ok(!isParseError(le) && !isParseError(be));
      assert.deepEqual(le.interfaces.map((i) => i.name), ["vm-a", "vm-b"]);
      assert.deepEqual(be, le);
      // packets.py: vm-a at 0 s, vm-b at 0.1 s after 1_700_000_000 s.
      assert.deepEqual(le.packets.map((p) => [p.iface, p.timeNs]), [
        [0, 1_700_000_000_000_000_000n],
        [1, 1_700_000_000_100_000_000n],
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "pcapng: editcap's conversion of a pcap reads back (its if_tsresol and options)",
  ignore: NO_TSHARK,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const frames = [new Uint8Array(60).fill(7), new Uint8Array(64).fill(9)];
      await Deno.writeFile(`${dir}/a.pcap`, pcapFile(frames));
      await run("editcap", ["-F", "pcapng", `${dir}/a.pcap`, `${dir}/a.pcapng`]);
      const f = readPcapngFile(await Deno.readFile(`${dir}/a.pcapng`));
      assert.ok(!isParseError(f), isParseError(f) ? JSON.stringify(f) : "");
      assert.deepEqual(f.packets.map((p) => p.data), frames);
      // pcapFile stamps frame k at 1 s + k µs.
      assert.deepEqual(f.packets.map((p) => p.timeNs), [1_000_000_000n, 1_000_001_000n]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "pcapng: tshark reads PcapngWriter's interfaces, nanosecond times and frames",
  ignore: NO_TSHARK,
  fn: async () => {
    const chunks: Uint8Array[] = [];
    const w = new PcapngWriter((c) => chunks.push(c));
    const a = Uint8Array.from({ length: 61 }, (_, i) => i);
    w.writePacket("vm-a", 1_700_000_000_123_456_789n, a);
    w.writePacket("underlay0", 1_700_000_001_000_000_001n, a.subarray(0, 42));
    w.writePacket("vm-a", 1_700_000_002_000_000_000n, a.subarray(0, 14));
    const file = await Deno.makeTempFile({ suffix: ".pcapng" });
    try {
      await Deno.writeFile(file, concatBytes(chunks));
      const out = await run("tshark", [
        "-r",
        file,
        "-T",
        "fields",
        "-e",
        "frame.interface_name",
        "-e",
        "frame.time_epoch",
        "-e",
        "frame.len",
      ]);
      assert.deepEqual(out.trim().split("\n").map((l) => l.split("\t")), [
        ["vm-a", "1700000000.123456789", "61"],
        ["underlay0", "1700000001.000000001", "42"],
        ["vm-a", "1700000002.000000000", "14"],
      ]);
    } finally {
      await Deno.remove(file);
    }
  },
});

function err(b: Uint8Array): ParseError {
  const f = readPcapngFile(b);
  assert.ok(isParseError(f), "expected an error");
  return f;
}

/** A minimal valid file: SHB, IDB "p0", one EPB of 14 bytes. */
function sample(): Uint8Array {
  const chunks: Uint8Array[] = [];
  const w = new PcapngWriter((c) => chunks.push(c));
  w.writePacket("p0", 5n, new Uint8Array(14));
  return concatBytes(chunks);
}

Deno.test("pcapng: malformed files are errors naming the block, never exceptions", () => {
  const good = sample();
  assert.ok(!isParseError(readPcapngFile(good)));
  assert.deepEqual(err(pcapFile([new Uint8Array(14)])), {
    kind: "malformed",
    at: "pcapng.shb (not a pcapng file)",
    offset: 0,
  });
  const cut = err(good.subarray(0, good.length - 6));
  assert.equal(cut.kind, "truncated");
  assert.equal(cut.at, "pcapng.epb");
  // The EPB's trailing length disagrees with its leading one.
  const bad = good.slice();
  bad[bad.length - 4] ^= 0x10;
  assert.equal(err(bad).at, "pcapng.epb.trailing_block_total_length");
  // Interface id 3 names no IDB.
  const noIf = good.slice();
  const epb = good.length - 48;
  noIf[epb + 8] = 3;
  assert.match(err(noIf).at, /^pcapng\.epb\[0\]\.interface_id/);
  // A simple packet block has no interface time: refused.
  const spb = good.slice();
  spb[epb] = 3;
  assert.equal(err(spb).kind, "unsupported");
  // An if_tsresol option of the wrong length.
  const ts = good.slice();
  const opt = good.indexOf(9, 28 + 16 + 4); // option code 9 after if_name
  ts[opt + 2] = 2;
  assert.equal(err(ts).at, "pcapng.idb[0].if_tsresol");
});
