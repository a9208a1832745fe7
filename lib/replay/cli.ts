// `xdeno replay`: a capture and a script of API calls through a config, offline and
// deterministic. Inputs are checked completely before anything runs; on any problem the exit
// status is 2 and nothing is written.

import { parseArgs } from "node:util";
import { formatProblems, loadConfig } from "../config/load.ts";
import { PcapngWriter } from "../packet/pcapng.ts";
import { concatBytes } from "../packet/bytes.ts";
import {
  type Ingress,
  type InputSource,
  readReplayInput,
  readSteps,
  ReplayInputError,
  type ReplayStep,
} from "./input.ts";
import { type PacketRecord, Replay, type StepRecord } from "./replay.ts";

const USAGE =
  `usage: xdeno replay --config CFG.yaml IN.pcapng [--steps STEPS.yaml] [-o OUT.pcapng] [--json]

Runs the switch of CFG.yaml in this process (memory platform, nothing opened on the host) and
feeds it IN.pcapng: each packet enters where its interface's if_name says (a port name: sent by
that port's client; an underlay link name: arriving from the rack). Packet times drive the
switch's clock (first packet = t 0). STEPS.yaml lists admin API calls made at given times:
  - { at: 1.5, method: PUT, path: /v1/ports/vm-a/firewall, body: [...] }
NAME=FILE: every packet of FILE (pcap, e.g. from \`xdeno capture\`, or pcapng) enters at port or
link NAME; several inputs are merged by time. Next hops resolve to 02: followed by the last five
bytes of their address; an underlay link takes the MAC the capture shows frames arriving for.

  -o FILE   every frame the switch emits, on an interface named after where it leaves
  --json    one JSON object per input packet and per step, in time order`;

/** Names the input's interfaces may carry: config ports, underlay links, ports steps add. */
function ingressNames(
  ports: string[],
  links: string[],
  steps: ReplayStep[],
): Map<string, Ingress> {
  const m = new Map<string, Ingress>();
  for (const name of links) m.set(name, { kind: "link", name });
  for (const name of ports) m.set(name, { kind: "port", name });
  for (const s of steps) {
    const b = s.body as { name?: unknown } | undefined;
    if (/^\/v1\/ports\/?$/.test(s.path) && typeof b?.name === "string") {
      m.set(b.name, { kind: "port", name: b.name });
    }
  }
  return m;
}

async function readFile(path: string, what: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw new ReplayInputError(`${path}: cannot read the ${what}: ${(e as Error).message}`);
  }
}

/** Runs `xdeno replay`; returns the exit status. */
export async function replayMain(args: string[], version: string): Promise<number> {
  let v, files: string[];
  try {
    const p = parseArgs({
      args,
      allowPositionals: true,
      options: {
        config: { type: "string" },
        steps: { type: "string" },
        o: { type: "string", short: "o" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    v = p.values;
    files = p.positionals;
  } catch (e) {
    console.error(`xdeno replay: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  if (!v.config || files.length === 0) {
    console.error(`xdeno replay: --config CFG.yaml and IN.pcapng are required\n${USAGE}`);
    return 2;
  }
  const loaded = await loadConfig(v.config);
  if (!loaded.ok) {
    console.error(formatProblems(v.config, loaded.problems));
    return 2;
  }
  const cfg = { ...loaded.config, platform: "memory" as const };
  let steps: ReplayStep[], input;
  try {
    steps = v.steps
      ? readSteps(v.steps, new TextDecoder().decode(await readFile(v.steps, "steps file")))
      : [];
    const names = ingressNames(
      cfg.ports.map((p) => p.name),
      cfg.underlay.links.map((l) => l.name),
      steps,
    );
    const sources: InputSource[] = [];
    for (const arg of files) {
      const m = /^([\w.:-]+)=(.+)$/.exec(arg);
      const file = m ? m[2] : arg;
      sources.push({ file, bytes: await readFile(file, "capture"), as: m?.[1] });
    }
    input = readReplayInput(sources, names);
  } catch (e) {
    if (e instanceof ReplayInputError) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }

  let replay: Replay;
  try {
    replay = await Replay.create(cfg, version, input.linkMacs);
  } catch (e) {
    console.error(`${v.config}: the switch refused the config: ${(e as Error).message}`);
    return 2;
  }
  replay.tracing = v.json === true;
  const lines: string[] = [];
  let refused = 0;
  try {
    await replay.run(input, steps, (r: PacketRecord | StepRecord) => {
      if ("step" in r && r.status >= 400) {
        refused++;
        const b = r.body as { error?: string; field?: string };
        console.error(
          `${v.steps}: steps[${r.step - 1}] (${r.method} ${r.path} at ${r.time} s): refused ` +
            `${r.status}${b?.field ? ` ${b.field}` : ""}: ${b?.error ?? JSON.stringify(r.body)}`,
        );
      }
      if (v.json) lines.push(JSON.stringify(r));
    });
  } finally {
    await replay.close();
  }
  if (v.o) {
    const chunks: Uint8Array[] = [];
    const w = new PcapngWriter((c) => chunks.push(c));
    for (const e of replay.emitted) w.writePacket(e.egress, input.epochNs + e.t, e.data);
    await Deno.writeFile(v.o, concatBytes(chunks));
  }
  if (v.json) {
    await Deno.stdout.write(new TextEncoder().encode(lines.map((l) => l + "\n").join("")));
  } else {
    console.error(
      `replayed ${input.packets.length} packets and ${steps.length} steps ` +
        `(${refused} refused): ${replay.emitted.length} frames emitted`,
    );
  }
  return 0;
}
