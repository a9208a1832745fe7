// tshark as an independent checker: frames go into a pcap, tshark dissects them with checksum
// validation on, and every expert note of warning level or above counts as a problem, except
// the zero UDP checksum over IPv6 that RFC 6935/6936 allow for tunnels (Geneve).

import assert from "node:assert/strict";
import { pcapFile } from "../../lib/packet/pcap.ts";
import { lacks } from "../tools.ts";

/** True when tshark can be run here (its checks are ignored steps, with the reason, if not). */
export const haveTshark: boolean = !lacks("tshark checks", "tshark");

const PREFS = [
  "-o",
  "ip.check_checksum:TRUE",
  "-o",
  "tcp.check_checksum:TRUE",
  "-o",
  "udp.check_checksum:TRUE",
  // Scenario frames reuse sequence numbers on purpose; TCP stream analysis is not the check.
  "-o",
  "tcp.analyze_sequence_numbers:FALSE",
];

async function run(frames: Uint8Array[], extra: string[]): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "xdeno-vpc-", suffix: ".pcap" });
  try {
    await Deno.writeFile(path, pcapFile(frames));
    const out = await new Deno.Command("tshark", {
      args: ["-n", "-r", path, ...PREFS, ...extra],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(out.stderr).trim();
    if (!out.success) throw new Error(`tshark failed: ${err}`);
    return new TextDecoder().decode(out.stdout);
  } finally {
    await Deno.remove(path);
  }
}

/** One expert note tshark raised for a frame (1-based frame number like tshark). */
export interface TsharkProblem {
  frame: number;
  severity: string;
  message: string;
}

/** Expert notes of warning level or worse, allowing only Geneve's zero UDP checksum. */
export async function tsharkProblems(frames: Uint8Array[]): Promise<TsharkProblem[]> {
  const text = await run(frames, [
    "-T",
    "fields",
    "-E",
    "separator=\t",
    "-E",
    "occurrence=a",
    "-E",
    "aggregator=|",
    "-e",
    "frame.number",
    "-e",
    "_ws.expert.severity",
    "-e",
    "_ws.expert.message",
    "-e",
    "_ws.malformed",
    "-e",
    "udp.port",
  ]);
  const problems: TsharkProblem[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    const [num, sev = "", msg = "", malformed = "", ports = ""] = line.split("\t");
    const geneve = ports.split(/[|,]/).includes("6081");
    const sevs = sev.split("|"), msgs = msg.split("|");
    for (let i = 0; i < msgs.length; i++) {
      if (!msgs[i]) continue;
      // Severity values: 2097152 chat, 4194304 note, 6291456 warn, 8388608 error.
      const s = Number(sevs[i] ?? 0);
      if (s < 6291456) continue;
      // A reset is a TCP event tshark flags at warning level, not a defect of the frame.
      if (msgs[i] === "Connection reset (RST)") continue;
      // RFC 6935/6936: a tunnel (Geneve) may send a zero UDP checksum over IPv6.
      if (geneve && /^Illegal checksum value \(0\)$/.test(msgs[i])) continue;
      problems.push({ frame: Number(num), severity: sevs[i], message: msgs[i] });
    }
    if (malformed) problems.push({ frame: Number(num), severity: "error", message: "malformed" });
  }
  return problems;
}

/** Field values per frame: rows[i][j] is field j of frame i+1 (`|`-joined when repeated). */
export async function tsharkFields(frames: Uint8Array[], fields: string[]): Promise<string[][]> {
  const args = ["-T", "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"];
  for (const f of fields) args.push("-e", f);
  const text = await run(frames, args);
  return text.split("\n").filter((l) => l.length > 0).map((l) => l.split("\t"));
}

/** Runs `fn` as a step of `t` that needs tshark: an ignored step when tshark is missing. */
export async function tsharkStep(
  t: Deno.TestContext,
  name: string,
  fn: () => Promise<void>,
): Promise<void> {
  await t.step({ name: `tshark: ${name}`, ignore: !haveTshark, fn });
}

/** Asserts, as a step of `t`, that tshark finds no problem in `frames`. */
export async function assertTsharkClean(
  t: Deno.TestContext,
  frames: Uint8Array[],
  what: string,
): Promise<void> {
  await tsharkStep(t, `${what} is clean`, async () => {
    const problems = await tsharkProblems(frames);
    assert.deepEqual(problems, [], `${what}: tshark reports ${JSON.stringify(problems)}`);
  });
}
