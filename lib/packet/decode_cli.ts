// `xdeno decode [FILE.pcap]`: one JSON object per frame on stdout, numbered from 1 like
// tshark. Exit 0 for a readable pcap (frames that do not parse are reported on their line),
// 2 when the input is not a pcap xdeno can read.

import { LINKTYPE_ETHERNET, readPcapFile } from "./pcap.ts";
import { isParseError } from "./error.ts";
import { decodeFrame } from "./decode.ts";

const HELP = `usage: xdeno decode [FILE.pcap]

Reads a classic pcap (Ethernet link type; either byte order, micro- or nanosecond stamps)
from FILE, or from stdin when no file is given, and prints one JSON object per frame:

  {"frame": N, "layers": [{"type": "ethernet", ...}, {"type": "ipv6", ...}, ...]}
  {"frame": N, "error": "truncated ipv4 at byte 14"}

Layers: ethernet, arp, ipv4, ipv6, tcp, udp, icmp, icmpv6 (field icmp_type; NDP fields and
options; errors carry the quoted datagram in "embedded"), geneve (then the inner layers),
dhcp, dhcpv6. Frames are parsed by the datapath's strict parser, so an "error" line is a
frame the switch would drop. Frame numbers start at 1, like tshark.

Exit status: 0 when the input is a readable pcap, 2 when it is not (or on bad usage).`;

/** Runs `xdeno decode` with `args`; returns the exit code. */
export async function decodeMain(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(HELP);
    return 0;
  }
  const unknown = args.find((a) => a.startsWith("-") && a !== "-");
  if (unknown || args.length > 1) {
    console.error(
      `xdeno decode: ${unknown ? `unknown option "${unknown}"` : "give at most one file"}` +
        " (see xdeno decode --help)",
    );
    return 2;
  }
  const name = args[0] && args[0] !== "-" ? args[0] : "stdin";
  let bytes: Uint8Array;
  try {
    bytes = name === "stdin" ? await readAll(Deno.stdin.readable) : await Deno.readFile(name);
  } catch (e) {
    console.error(`xdeno decode: ${name}: cannot read (${e instanceof Error ? e.message : e})`);
    return 2;
  }
  const f = readPcapFile(bytes);
  if (isParseError(f)) {
    const why = f.kind === "unsupported" && f.at === "pcap"
      ? "pcapng is not supported; convert it with `editcap -F pcap in.pcapng out.pcap`"
      : `${f.kind} ${f.at} at byte ${f.offset}`;
    console.error(`xdeno decode: ${name}: not a readable pcap file (${why})`);
    return 2;
  }
  if (f.linkType !== LINKTYPE_ETHERNET) {
    console.error(
      `xdeno decode: ${name}: link type ${f.linkType} is not supported (expected 1, Ethernet)`,
    );
    return 2;
  }
  const enc = new TextEncoder();
  let text = "";
  try {
    for (let k = 0; k < f.records.length; k++) {
      text += JSON.stringify(decodeFrame(f.records[k].data, k + 1)) + "\n";
      if (text.length > 1 << 16) {
        await writeAll(enc.encode(text));
        text = "";
      }
    }
    if (text) await writeAll(enc.encode(text));
  } catch (e) {
    // `xdeno decode f.pcap | head` closes the pipe early: that is the reader's choice.
    if (e instanceof Deno.errors.BrokenPipe) return 0;
    throw e;
  }
  return 0;
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function writeAll(b: Uint8Array): Promise<void> {
  for (let k = 0; k < b.length;) k += await Deno.stdout.write(b.subarray(k));
}
