// Expected flow hashes, Geneve source ports and flow labels written out here from their
// definitions, so tests never compute an expectation with the library function under test.
// The hash is MurmurHash3 x86_32 (seed 0x9747b28c) over the flow key laid out as ten 32-bit
// little-endian words: family<<8 | protocol, source address (4 words, IPv4 in the first),
// destination address (4 words), source port<<16 | destination port. flow_hash_test.ts pins
// this implementation to published MurmurHash3 vectors.

/** MurmurHash3 x86_32 of `data` (any length), straight from the reference algorithm. */
export function murmur3(data: Uint8Array, seed: number): number {
  const c1 = 0xcc9e2d51, c2 = 0x1b873593;
  let h = seed >>> 0;
  const blocks = data.length >>> 2;
  for (let i = 0; i < blocks; i++) {
    const o = i * 4;
    let k = data[o] | (data[o + 1] << 8) | (data[o + 2] << 16) | (data[o + 3] << 24);
    k = Math.imul(k, c1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, c2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = blocks * 4;
  let k = 0;
  switch (data.length & 3) {
    case 3:
      k ^= data[tail + 2] << 16;
    // falls through
    case 2:
      k ^= data[tail + 1] << 8;
    // falls through
    case 1:
      k ^= data[tail];
      k = Math.imul(k, c1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, c2);
      h ^= k;
  }
  h ^= data.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Address text → bytes (IPv4 dotted quad or IPv6 with `::`), parsed here, not by lib/. */
function addrBytes(a: string): Uint8Array {
  if (!a.includes(":")) return Uint8Array.from(a.split(".").map(Number));
  const [head, tail] = a.includes("::") ? a.split("::") : [a, ""];
  const h = head ? head.split(":") : [], t = tail ? tail.split(":") : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t].map((g) =>
    parseInt(g, 16)
  );
  return Uint8Array.from(groups.flatMap((g) => [g >> 8, g & 0xff]));
}

/** The flow hash of (protocol, source, destination, ports) as the VPC defines it. */
export function expectedFlowHash(
  proto: number,
  src: string,
  dst: string,
  sport: number,
  dport: number,
): number {
  const s = addrBytes(src), d = addrBytes(dst);
  const key = new Uint8Array(40);
  const word = (i: number, v: number) => {
    for (let b = 0; b < 4; b++) key[i * 4 + b] = (v >>> (8 * b)) & 0xff;
  };
  const be = (x: Uint8Array, o: number) =>
    (x[o] << 24) | (x[o + 1] << 16) | (x[o + 2] << 8) | x[o + 3];
  word(0, ((s.length === 4 ? 4 : 6) << 8) | proto);
  for (let i = 0; i < s.length / 4; i++) {
    word(1 + i, be(s, 4 * i));
    word(5 + i, be(d, 4 * i));
  }
  word(9, (sport << 16) | dport);
  return murmur3(key, 0x9747b28c);
}

/** The flow hash of a frame's (inner, when `inner`) IP/TCP/UDP/ICMP headers, parsed here. */
export function expectedFlowHashOf(frame: Uint8Array, inner = false): number {
  let o = 0;
  if (inner) {
    // Outer Ethernet, IPv6 (40), UDP (8), Geneve (8 + options): to the inner Ethernet.
    if (frame[12] !== 0x86 || frame[13] !== 0xdd || frame[20] !== 17) {
      throw new Error("expectedFlowHashOf: not Geneve over IPv6");
    }
    o = 14 + 40 + 8 + 8 + (frame[14 + 40 + 8] & 0x3f) * 4;
  }
  const type = (frame[o + 12] << 8) | frame[o + 13];
  const l3 = o + 14;
  let proto: number, l4: number, src: string, dst: string;
  if (type === 0x0800) {
    proto = frame[l3 + 9];
    l4 = l3 + (frame[l3] & 0x0f) * 4;
    src = [...frame.subarray(l3 + 12, l3 + 16)].join(".");
    dst = [...frame.subarray(l3 + 16, l3 + 20)].join(".");
  } else if (type === 0x86dd) {
    proto = frame[l3 + 6];
    l4 = l3 + 40;
    const v6 = (at: number) =>
      Array.from(
        { length: 8 },
        (_, i) => ((frame[at + 2 * i] << 8) | frame[at + 2 * i + 1]).toString(16),
      )
        .join(":");
    src = v6(l3 + 8);
    dst = v6(l3 + 24);
  } else throw new Error(`expectedFlowHashOf: ethertype ${type.toString(16)}`);
  const u16 = (at: number) => (frame[at] << 8) | frame[at + 1];
  let sport = 0, dport = 0;
  if (proto === 6 || proto === 17) [sport, dport] = [u16(l4), u16(l4 + 2)];
  else if (proto === 1 || proto === 58) {
    const t = frame[l4];
    const echo = proto === 1 ? t === 0 || t === 8 : t === 128 || t === 129;
    sport = dport = echo ? u16(l4 + 4) : u16(l4);
  }
  return expectedFlowHash(proto, src, dst, sport, dport);
}

/** The Geneve UDP source port for a flow hash: 0xc000 | the hash folded to 14 bits. */
export function expectedGeneveSrcPort(hash: number): number {
  return 0xc000 | ((hash ^ (hash >>> 16)) & 0x3fff);
}

/** The outer IPv6 flow label for a flow hash: its low 20 bits. */
export function expectedFlowLabel(hash: number): number {
  return hash & 0xfffff;
}
