// Captures on test-bed links with tshark and checks Geneve on the wire with a dissector we did
// not write: VNI, Oxide option class 0x0129, checksums, malformed packets. tshark flags a zero
// UDP checksum over IPv6 as illegal; for Geneve that is RFC 6935/6936's tunnel exception, so the
// checker accepts it (and only it).

import { Background, run, sleep, spawn, waitFor } from "./exec.ts";

/** A running capture into a pcap file. */
export class Capture {
  private constructor(readonly file: string, private proc: Background) {}

  /**
   * Starts tshark on `iface` in `ns` with a capture filter; resolves once it is capturing. It
   * stops by itself after `maxPackets` (keeps the dissection of a TCP transfer short).
   */
  static async start(
    ns: string,
    iface: string,
    filter: string,
    file: string,
    maxPackets?: number,
  ): Promise<Capture> {
    await Deno.remove(file).catch(() => {});
    const limit = maxPackets ? ["-c", `${maxPackets}`] : [];
    const p = spawn(
      ["tshark", "-q", "-i", iface, "-f", filter, ...limit, "-F", "pcap", "-w", file],
      ns,
    );
    const up = await waitFor(
      async () => {
        if (p.exited) return true;
        const st = await Deno.stat(file).catch(() => undefined);
        return st !== undefined && st.size >= 24; // pcap global header written: capturing
      },
      10000,
      50,
    );
    if (!up || p.exited) {
      const r = await p.stop("SIGKILL");
      throw new Error(`tshark on ${ns}/${iface} did not start: ${r.stderr.trim()}`);
    }
    return new Capture(file, p);
  }

  /** Stops the capture (SIGINT lets tshark flush) and returns the file. */
  async stop(): Promise<string> {
    await sleep(200);
    await this.proc.stop("SIGINT", 5000);
    return this.file;
  }
}

/** What tshark says about one Geneve packet. */
export interface GenevePacket {
  frame: number;
  vni: number;
  optionClasses: number[];
  optionTypes: number[];
  /** Outer UDP checksum: "good", "bad", "zero" (RFC 6936) or "unverified". */
  outerUdp: string;
  /** Status of every other checksum tshark verified in the packet (IPv4 header, inner L4). */
  otherChecksums: string[];
  malformed: boolean;
  /** Expert notes other than the tolerated zero UDP checksum. */
  expert: string[];
  /**
   * A TCP/UDP checksum of 0xffff where tshark computes 0x0000: the other one's-complement zero
   * (RFC 1624 §3), accepted by every receiver; counted apart, not as bad.
   */
  negativeZero: number;
}

const STATUS: Record<string, string> = { "0": "bad", "1": "good", "2": "unverified" };
const NEGATIVE_ZERO = /Checksum 0xffff instead of 0x0000/;

/** Dissects every Geneve packet of a capture. */
export async function dissectGeneve(file: string): Promise<GenevePacket[]> {
  const fields = [
    "frame.number",
    "geneve.vni",
    "geneve.option.class",
    "geneve.option.type",
    "udp.checksum",
    "udp.checksum.status",
    "ip.checksum.status",
    "tcp.checksum.status",
    "icmp.checksum.status",
    "_ws.malformed",
    "_ws.expert.message",
  ];
  const r = await run([
    "tshark",
    // Thrift's heuristic dissector takes iperf3's random payload for Thrift and reports it
    // malformed; nothing here speaks Thrift.
    "--disable-protocol",
    "thrift",
    "-r",
    file,
    "-Y",
    "geneve",
    "-o",
    "udp.check_checksum:TRUE",
    "-o",
    "tcp.check_checksum:TRUE",
    "-o",
    "ip.check_checksum:TRUE",
    "-T",
    "fields",
    "-E",
    "separator=\t",
    "-E",
    "aggregator=|",
    "-E",
    "occurrence=a",
    ...fields.flatMap((f) => ["-e", f]),
  ]);
  const list = (s: string) => s === "" ? [] : s.split("|");
  return r.stdout.split("\n").filter((l) => l.trim() !== "").map((line) => {
    const c = line.split("\t");
    const udpSums = list(c[4]), udpStatus = list(c[5]);
    // The first UDP header is the outer one (Geneve's); later ones belong to the inner packet.
    const outerUdp = udpSums[0] === "0x0000" ? "zero" : STATUS[udpStatus[0]] ?? "unverified";
    const inner = [...udpStatus.slice(1), ...list(c[6]), ...list(c[7]), ...list(c[8])];
    const notes = list(c[10] ?? "");
    const negativeZero = notes.filter((m) => NEGATIVE_ZERO.test(m)).length;
    for (let k = 0; k < negativeZero; k++) {
      const at = inner.indexOf("0");
      if (at >= 0) inner.splice(at, 1);
    }
    return {
      frame: Number(c[0]),
      vni: Number(list(c[1])[0]),
      optionClasses: list(c[2]).map(Number),
      optionTypes: list(c[3]).map(Number),
      outerUdp,
      otherChecksums: inner.map((s) => STATUS[s] ?? s),
      malformed: c[9] !== undefined && c[9] !== "",
      expert: notes.filter((m) => !/zero-value illegal/i.test(m) && !NEGATIVE_ZERO.test(m)),
      negativeZero,
    };
  });
}

/** Expectations for `checkGeneve`. */
export interface GeneveExpect {
  /** Every packet's VNI is one of these. */
  vnis?: number[];
  /** Packets with this VNI must carry an option of class 0x0129. */
  oxideOptionOn?: number[];
  /** At least this many Geneve packets. */
  min?: number;
}

/** Problems found in the dissected packets (empty = all good). */
export function checkGeneve(pkts: GenevePacket[], e: GeneveExpect = {}): string[] {
  const out: string[] = [];
  if (pkts.length < (e.min ?? 1)) {
    out.push(`${pkts.length} Geneve packets, expected ≥ ${e.min ?? 1}`);
  }
  for (const p of pkts) {
    const at = `frame ${p.frame}`;
    if (e.vnis && !e.vnis.includes(p.vni)) out.push(`${at}: VNI ${p.vni} not in ${e.vnis}`);
    if (e.oxideOptionOn?.includes(p.vni) && !p.optionClasses.includes(0x0129)) {
      out.push(`${at}: VNI ${p.vni} without an Oxide (0x0129) option`);
    }
    if (p.outerUdp === "bad") out.push(`${at}: bad outer UDP checksum`);
    if (p.otherChecksums.includes("bad")) out.push(`${at}: bad inner checksum`);
    if (p.malformed) out.push(`${at}: malformed`);
    for (const m of p.expert) {
      if (/malformed|bad|incorrect|error/i.test(m)) out.push(`${at}: ${m}`);
    }
  }
  return out;
}

/** Source and destination of every IPv4 packet (the innermost header) matching display `filter`. */
export async function ipv4Pairs(
  file: string,
  filter = "ip",
): Promise<{ src: string; dst: string }[]> {
  const r = await run([
    "tshark",
    "-r",
    file,
    "-Y",
    filter,
    "-T",
    "fields",
    "-E",
    "separator=\t",
    "-E",
    "occurrence=l",
    "-e",
    "ip.src",
    "-e",
    "ip.dst",
  ]);
  return r.stdout.split("\n").filter((l) => l.trim() !== "").map((l) => {
    const [src, dst] = l.split("\t");
    return { src, dst };
  });
}
