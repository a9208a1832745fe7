import assert from "node:assert/strict";
import { readPcapFile } from "../../lib/packet/pcap.ts";
import { smallBatch } from "../../lib/link/memory.ts";
import { startHarness } from "./helpers.ts";
import { lacks } from "../tools.ts";

/** A 60-byte Ethernet frame whose payload bytes are all `tag`. */
function frame(tag: number): Uint8Array {
  const f = new Uint8Array(60).fill(tag);
  f.set([0xa8, 0x40, 0x25, 0xf0, 0x00, 0x01, 0xa8, 0x40, 0x25, 0xff, 0x77, 0x77, 0x08, 0x00]);
  return f;
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("capture: a port's frames both ways as a pcap, ending after count", async () => {
  const h = await startHarness();
  try {
    const { link, client } = h.dp.links.get("opte0")!;
    const res = await fetch(`${h.url}/v1/ports/opte0/capture?count=3`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/vnd.tcpdump.pcap");
    const body = res.arrayBuffer();
    await until(() => link.tapCount === 1);
    link.sendFrame(frame(1), 0, 60); // towards the client: direction in
    client.sendFrame(frame(2), 0, 60); // from the client: direction out
    const b = smallBatch(4);
    assert.equal(link.recv(b), 1);
    link.sendFrame(frame(3), 0, 60);
    link.sendFrame(frame(4), 0, 60); // past the count: not captured
    const pcap = readPcapFile(new Uint8Array(await body));
    assert.ok("records" in pcap, JSON.stringify(pcap));
    assert.equal(pcap.linkType, 1);
    assert.deepEqual(
      pcap.records.map((r) => [...r.data]),
      [frame(1), frame(2), frame(3)].map((f) => [...f]),
    );
    assert.equal(link.tapCount, 0);
  } finally {
    await h.close();
  }
});

Deno.test("capture: direction=out sees only the client's frames; seconds ends an idle capture", async () => {
  const h = await startHarness();
  try {
    const { link, client } = h.dp.links.get("opte0")!;
    const res = await fetch(`${h.url}/v1/ports/opte0/capture?direction=out&seconds=0.3`);
    const body = res.arrayBuffer();
    await until(() => link.tapCount === 1);
    link.sendFrame(frame(1), 0, 60);
    client.sendFrame(frame(2), 0, 60);
    link.recv(smallBatch(4));
    const pcap = readPcapFile(new Uint8Array(await body));
    assert.ok("records" in pcap);
    assert.deepEqual(pcap.records.map((r) => r.data[20]), [2]);
    assert.equal(link.tapCount, 0);

    let r = await fetch(`${h.url}/v1/ports/nope/capture`);
    assert.equal(r.status, 404);
    assert.equal((await r.json()).field, "name");
    r = await fetch(`${h.url}/v1/links/ul0/capture?seconds=1`);
    assert.equal(r.status, 404);
    await r.body?.cancel();
    r = await fetch(`${h.url}/v1/ports/opte0/capture?direction=sideways`);
    assert.equal(r.status, 400);
    assert.equal((await r.json()).field, "query.direction");
  } finally {
    await h.close();
  }
});

Deno.test("capture: a client that goes away detaches the tap", async () => {
  const h = await startHarness();
  try {
    const { link } = h.dp.links.get("opte0")!;
    const ac = new AbortController();
    const res = await fetch(`${h.url}/v1/ports/opte0/capture`, { signal: ac.signal });
    const reader = res.body!.getReader();
    const head = await reader.read();
    assert.equal(head.value!.length, 24);
    assert.equal(link.tapCount, 1);
    ac.abort();
    await reader.read().catch(() => {});
    await until(() => link.tapCount === 0);
  } finally {
    await h.close();
  }
});

Deno.test({
  name: "xdeno capture PORT > file: Wireshark-readable pcap on stdout",
  ignore: lacks("xdeno capture read by tshark", "tshark"),
}, async () => {
  const h = await startHarness();
  try {
    const { link } = h.dp.links.get("dns0")!;
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../../main.ts", import.meta.url).pathname,
        "capture",
        "dns0",
        "--count",
        "2",
        "--url",
        h.url,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const out = child.output();
    await until(() => link.tapCount === 1, 10000);
    link.sendFrame(frame(7), 0, 60);
    link.sendFrame(frame(8), 0, 60);
    const o = await out;
    assert.equal(o.code, 0, new TextDecoder().decode(o.stderr));
    const pcap = readPcapFile(o.stdout);
    assert.ok("records" in pcap);
    assert.deepEqual(pcap.records.map((r) => r.data[30]), [7, 8]);
    // Wireshark's own reader agrees: two Ethernet/IPv4 frames.
    const file = await Deno.makeTempFile({ suffix: ".pcap" });
    await Deno.writeFile(file, o.stdout);
    const ts = await new Deno.Command("tshark", {
      args: ["-r", file, "-T", "fields", "-e", "frame.len", "-e", "eth.src", "-e", "eth.type"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(ts.code, 0, new TextDecoder().decode(ts.stderr));
    assert.equal(new TextDecoder().decode(ts.stdout), "60\ta8:40:25:ff:77:77\t0x0800\n".repeat(2));
    await Deno.remove(file);
  } finally {
    await h.close();
  }
});

Deno.test("trace: validated, 501 on a datapath that cannot trace", async () => {
  const h = await startHarness();
  try {
    const hex = [...frame(1)].map((b) => b.toString(16).padStart(2, "0")).join("");
    let r = await h.call("POST", "/v1/trace", { port: "opte0", direction: "out", packet: hex });
    assert.equal(r.status, 501);
    r = await h.call("POST", "/v1/trace", { port: "opte0", direction: "out", packet: "abc" });
    assert.equal(r.status, 400);
    assert.equal(r.body.field, "packet");
    r = await h.call("POST", "/v1/trace", { port: "nope", direction: "in", packet: hex });
    assert.equal(r.status, 404);
  } finally {
    await h.close();
  }
});
