// Every directory under tests/scenarios/ is one replay scenario: config.yaml, packets.py (the
// input frames, built with scapy and packed into a pcapng by pcapng_gen.py at test time),
// steps.yaml (admin API calls) and expect.yaml (what must come out). `xdeno replay` runs as a
// subprocess; its output capture is decoded by tshark, and the expectations are field checks on
// tshark's decoding, never on bytes replay produced itself. Skips loudly without tshark/scapy
// (a failure when CI is set).

import assert from "node:assert/strict";
import { lacks } from "../tools.ts";
import { parse as parseYaml } from "yaml";

const HERE = new URL("./", import.meta.url).pathname;
const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const PY = "/usr/bin/python3";
const dec = new TextDecoder();

const MISSING = lacks("replay scenarios", "tshark", "scapy");

/** What expect.yaml says about one input packet. */
interface PacketExpect {
  frame: number;
  /** null: not dropped; a string: the drop reason contains it. Absent: not checked. */
  drop?: string | null;
  /** Each must match some layer decision of the record's trace (subset match). */
  trace?: Record<string, string>[];
  /** Exactly these outputs, in order. */
  outputs?: { egress: string; fields?: Record<string, string | number | null> }[];
}

/** What expect.yaml says about one step. */
interface StepExpect {
  step: number;
  status?: number;
  /** Partial match: objects by key, arrays "contains an element matching each". */
  body?: unknown;
  /** Length of the body when it is an array. */
  count?: number;
  /** Each must match no element of the body (an array). */
  absent?: unknown[];
}

interface Expect {
  /** Write the input big-endian. */
  bigEndian?: boolean;
  packets?: PacketExpect[];
  steps?: StepExpect[];
  /** Frames on each interface over the whole output (exact), e.g. { ul0: 3 }. */
  interfaces?: Record<string, number>;
}

/** One decoded output frame: its interface, raw hex and every field occurrence tshark shows. */
interface Decoded {
  iface: string;
  raw: string;
  fields: Map<string, string[]>;
}

function flatten(node: unknown, out: Map<string, string[]>): void {
  if (Array.isArray(node)) {
    for (const x of node) flatten(x, out);
    return;
  }
  if (node === null || typeof node !== "object") return;
  for (const [k, v] of Object.entries(node)) {
    const vals = Array.isArray(v) ? v : [v];
    for (const x of vals) {
      if (typeof x === "string") {
        if (!out.has(k)) out.set(k, []);
        out.get(k)!.push(x);
      } else flatten(x, out);
    }
  }
}

const CHECKSUMS = ["ip", "tcp", "udp"].flatMap((p) => [
  "-o",
  `${p}.check_checksum:TRUE`,
]);

/** Every checksum tshark verified is good (Geneve's zero UDP checksum over IPv6 is allowed). */
function assertChecksums(name: string, frames: Decoded[]): void {
  frames.forEach((d, i) => {
    for (const [k, vs] of d.fields) {
      if (!k.endsWith("checksum.status")) continue;
      if (k === "udp.checksum.status" && d.fields.has("geneve.vni")) continue;
      assert.ok(!vs.includes("0"), `${name}: output frame ${i + 1} (${d.iface}): bad ${k}`);
    }
  });
}

async function tsharkDecode(file: string): Promise<Decoded[]> {
  const o = await new Deno.Command("tshark", {
    args: ["-r", file, "-T", "json", "-x", "--no-duplicate-keys", ...CHECKSUMS],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(o.success, `tshark failed on ${file}: ${dec.decode(o.stderr)}`);
  const pkts = JSON.parse(dec.decode(o.stdout)) as {
    _source: { layers: Record<string, unknown> };
  }[];
  return pkts.map((p) => {
    const fields = new Map<string, string[]>();
    flatten(p._source.layers, fields);
    const raw = fields.get("frame_raw")?.[0] ?? "";
    return { iface: fields.get("frame.interface_name")?.[0] ?? "", raw, fields };
  });
}

/** `field` is its first occurrence, `field@2` the second (inner headers of a Geneve frame). */
function fieldValue(d: Decoded, key: string): string | undefined {
  const m = /^(.*)@(\d+)$/.exec(key);
  const [name, n] = m ? [m[1], Number(m[2])] : [key, 1];
  return d.fields.get(name)?.[n - 1];
}

function partial(actual: unknown, want: unknown, at: string): void {
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(actual), `${at}: expected an array, got ${JSON.stringify(actual)}`);
    want.forEach((w, i) => {
      const ok = actual.some((a) => {
        try {
          partial(a, w, at);
          return true;
        } catch {
          return false;
        }
      });
      assert.ok(
        ok,
        `${at}[${i}]: no element matches ${JSON.stringify(w)} in ${JSON.stringify(actual)}`,
      );
    });
  } else if (want !== null && typeof want === "object") {
    assert.ok(
      actual !== null && typeof actual === "object",
      `${at}: expected an object, got ${JSON.stringify(actual)}`,
    );
    for (const [k, v] of Object.entries(want)) {
      partial((actual as Record<string, unknown>)[k], v, `${at}.${k}`);
    }
  } else {
    assert.equal(actual, want, `${at}`);
  }
}

/** Runs `xdeno replay` on a scenario; returns its JSON records and output capture path. */
export async function replayScenario(
  dir: string,
  tmp: string,
  big = false,
): Promise<
  { records: Record<string, unknown>[]; out: string; stdout: string; outBytes: Uint8Array }
> {
  const input = `${tmp}/in.pcapng`, out = `${tmp}/out.pcapng`;
  const g = await new Deno.Command(PY, {
    args: [`${HERE}pcapng_gen.py`, dir, input, ...(big ? ["big"] : [])],
    stderr: "piped",
  }).output();
  assert.ok(g.success, `pcapng_gen.py ${dir}: ${dec.decode(g.stderr)}`);
  const args = ["run", "-A", MAIN, "replay", "--config", `${dir}/config.yaml`, input];
  try {
    await Deno.stat(`${dir}/steps.yaml`);
    args.push("--steps", `${dir}/steps.yaml`);
  } catch { /* no steps */ }
  args.push("-o", out, "--json");
  const o = await new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "piped" })
    .output();
  assert.equal(o.code, 0, `replay ${dir}: ${dec.decode(o.stderr)}`);
  const stdout = dec.decode(o.stdout);
  const records = stdout.trim().split("\n").filter((l) => l).map((l) => JSON.parse(l));
  return { records, out, stdout, outBytes: await Deno.readFile(out) };
}

const dirs = [...Deno.readDirSync(HERE)].filter((e) => e.isDirectory).map((e) => e.name).sort();

for (const name of dirs) {
  Deno.test({
    name: `scenario ${name}`,
    ignore: MISSING,
    fn: async () => {
      const dir = `${HERE}${name}`;
      const expect = parseYaml(await Deno.readTextFile(`${dir}/expect.yaml`)) as Expect;
      const tmp = await Deno.makeTempDir({ prefix: `xdeno-scenario-${name}-` });
      try {
        const { records, out } = await replayScenario(dir, tmp, expect.bigEndian);
        const decoded = await tsharkDecode(out);
        assertChecksums(name, decoded);
        const pkt = new Map<number, Record<string, unknown>>();
        const step = new Map<number, Record<string, unknown>>();
        for (const r of records) {
          if ("frame" in r) pkt.set(r.frame as number, r);
          else step.set(r.step as number, r);
        }
        // The JSON outputs are a subsequence of the output capture, in the same order.
        let cursor = 0;
        const located = new Map<number, Decoded[]>();
        for (const r of records) {
          if (!("frame" in r)) continue;
          const outs = r.outputs as { egress: string; bytes: string }[];
          const found: Decoded[] = [];
          for (const o of outs) {
            while (cursor < decoded.length && decoded[cursor].raw !== o.bytes) cursor++;
            assert.ok(cursor < decoded.length, `frame ${r.frame}: output not in ${out}`);
            assert.equal(decoded[cursor].iface, o.egress, `frame ${r.frame}: interface`);
            found.push(decoded[cursor++]);
          }
          located.set(r.frame as number, found);
        }
        for (const e of expect.packets ?? []) {
          const r = pkt.get(e.frame);
          const at = `${name}: frame ${e.frame}`;
          assert.ok(r, `${at}: no record`);
          const ctx = `${at} (record ${JSON.stringify({ ...r, outputs: undefined })})`;
          if (e.drop === null) assert.equal(r.drop, null, `${ctx}: dropped`);
          else if (e.drop !== undefined) {
            assert.ok(String(r.drop).includes(e.drop), `${ctx}: drop ${r.drop} lacks "${e.drop}"`);
          }
          if (e.trace) partial(r.trace, e.trace, `${ctx}.trace`);
          if (e.outputs) {
            const got = located.get(e.frame)!;
            // `ul*` stands for any underlay link: which one ECMP picks is not every scenario's
            // point (the flow hash has its own tests).
            assert.deepEqual(
              got.map((d, i) =>
                e.outputs![i]?.egress.endsWith("*") &&
                  d.iface.startsWith(e.outputs![i].egress.slice(0, -1))
                  ? e.outputs![i].egress
                  : d.iface
              ),
              e.outputs.map((o) => o.egress),
              `${ctx}: egress of outputs`,
            );
            e.outputs.forEach((o, i) => {
              for (const [k, v] of Object.entries(o.fields ?? {})) {
                assert.equal(
                  fieldValue(got[i], k) ?? null,
                  v === null ? null : String(v),
                  `${ctx}: output ${i + 1} (${o.egress}) ${k}`,
                );
              }
            });
          }
        }
        for (const e of expect.steps ?? []) {
          const r = step.get(e.step);
          const at = `${name}: step ${e.step}`;
          assert.ok(r, `${at}: no record`);
          if (e.status !== undefined) {
            assert.equal(r.status, e.status, `${at}: status (body ${JSON.stringify(r.body)})`);
          }
          if (e.body !== undefined) partial(r.body, e.body, `${at}: body`);
          for (const a of e.absent ?? []) {
            const hit: unknown = (r.body as unknown[]).find((x) => {
              try {
                partial(x, a, "");
                return true;
              } catch {
                return false;
              }
            });
            assert.equal(hit, undefined, `${at}: ${JSON.stringify(a)} is still there`);
          }
          if (e.count !== undefined) {
            assert.equal(
              (r.body as unknown[]).length,
              e.count,
              `${at}: count ${JSON.stringify(r.body)}`,
            );
          }
        }
        for (const [iface, n] of Object.entries(expect.interfaces ?? {})) {
          assert.equal(
            decoded.filter((d) => d.iface === iface).length,
            n,
            `${name}: frames on ${iface}`,
          );
        }
      } finally {
        await Deno.remove(tmp, { recursive: true });
      }
    },
  });
}
