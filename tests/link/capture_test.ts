// The pcap tap on a Link: frames in both directions land in a pcap that our reader and tshark
// both read back byte for byte; direction filters and frame budgets hold.
import assert from "node:assert/strict";
import { CaptureLink } from "../../lib/link/capture.ts";
import { FrameBatch } from "../../lib/link/link.ts";
import { memoryPair } from "../../lib/link/memory.ts";
import { PcapWriter, readPcap } from "../../lib/packet/pcap.ts";
import { fill } from "./conformance.ts";
import { lacks } from "../tools.ts";

function sink(): { chunks: Uint8Array[]; bytes(): Uint8Array } {
  const chunks: Uint8Array[] = [];
  return {
    chunks,
    bytes() {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let o = 0;
      for (const c of chunks) {
        out.set(c, o);
        o += c.length;
      }
      return out;
    },
  };
}

function frames(pcap: Uint8Array): Uint8Array[] {
  const r = readPcap(pcap);
  if (!Array.isArray(r)) throw new Error(`pcap unreadable: ${JSON.stringify(r)}`);
  return r.map((x) => x.data);
}

Deno.test("capture: rx and tx frames are written in order, exactly; untapped traffic is not", () => {
  const [a, b] = memoryPair({ name: "a" }, { name: "b" });
  const cap = new CaptureLink(a);
  const out = new FrameBatch(5, 2048), inb = new FrameBatch(8, 2048);
  fill(out, 5, b.mac, a.mac, 1);
  cap.send(out, 1); // before any tap: not captured
  const all = sink(), rxOnly = sink();
  const detachAll = cap.tap(new PcapWriter((c) => all.chunks.push(c)));
  cap.tap(new PcapWriter((c) => rxOnly.chunks.push(c)), { direction: "rx" });
  assert.equal(cap.send(out, 3), 3);
  fill(out, 2, a.mac, b.mac, 7);
  assert.equal(b.send(out, 2), 2);
  assert.equal(cap.recv(inb), 2);
  assert.ok(cap.sendFrame(out.bufs[0], out.offs[0], out.lens[0]));
  detachAll();
  detachAll();
  cap.sendFrame(out.bufs[0], out.offs[0], out.lens[0]); // after detach: not captured
  const got = frames(all.bytes());
  assert.equal(got.length, 6);
  const expectRx = [0, 1].map((i) => out.bufs[i].slice(out.offs[i], out.offs[i] + out.lens[i]));
  assert.deepEqual(got.slice(3, 5), expectRx);
  assert.deepEqual(got[5], expectRx[0]);
  assert.deepEqual(frames(rxOnly.bytes()), expectRx);
  assert.equal(cap.tapCount, 1);
  cap.close();
  assert.equal(cap.tapCount, 0);
});

Deno.test("capture: a frame budget detaches the tap and reports done once", () => {
  const [a, b] = memoryPair({ name: "a" }, { name: "b" });
  const cap = new CaptureLink(a);
  const out = new FrameBatch(10, 2048);
  fill(out, 10, b.mac, a.mac, 3);
  let done = 0;
  const s = sink();
  const w = new PcapWriter((c) => s.chunks.push(c));
  cap.tap(w, { maxFrames: 4, direction: "tx", onDone: () => done++ });
  cap.send(out, 10);
  assert.equal(w.frames, 4);
  assert.equal(done, 1);
  assert.equal(cap.tapCount, 0);
  assert.equal(b.recv(new FrameBatch(16, 2048)), 10, "all frames still sent");
});

Deno.test({
  name: "capture: tshark reads the tap's pcap",
  ignore: lacks("capture read by tshark", "tshark"),
  fn() {
    const [a, b] = memoryPair({ name: "a" }, { name: "b" });
    const cap = new CaptureLink(a);
    const s = sink();
    cap.tap(new PcapWriter((c) => s.chunks.push(c)));
    const out = new FrameBatch(3, 2048);
    fill(out, 3, b.mac, a.mac, 5);
    cap.send(out, 3);
    const file = Deno.makeTempFileSync({ prefix: "xdt-cap-", suffix: ".pcap" });
    try {
      Deno.writeFileSync(file, s.bytes());
      const r = new Deno.Command("tshark", {
        args: ["-r", file, "-T", "fields", "-e", "frame.len", "-e", "eth.src", "-e", "eth.type"],
        stdout: "piped",
        stderr: "piped",
      }).outputSync();
      assert.ok(r.success, new TextDecoder().decode(r.stderr));
      const mac = [...a.mac].map((x) => x.toString(16).padStart(2, "0")).join(":");
      assert.deepEqual(new TextDecoder().decode(r.stdout).trim().split("\n"), [
        `60\t${mac}\t0x88b5`,
        `160\t${mac}\t0x88b5`,
        `260\t${mac}\t0x88b5`,
      ]);
    } finally {
      Deno.removeSync(file);
    }
  },
});
