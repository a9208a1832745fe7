// The classic BPF socket filter that shares an underlay link's received frames among the
// packet sockets of N datapath workers, one socket each: every socket sees every frame, and
// each filter keeps its worker's share. Geneve goes to worker 0, since overlay state lives in
// its VPC pipelines; so do ICMPv6 (NDP included), fragments, extension headers (whose ports, or
// whose Geneve, the filter cannot see), non-IPv6, and any frame a load runs past the end of.
// TCP and other UDP over IPv6 go by a symmetric hash of addresses and ports modulo N, so a flow
// reaches one worker and stays in order. (A PACKET_FANOUT group would do this without the
// per-socket delivery, but its member order changes when the kernel re-links a member, so
// "member 0" is not reliably worker 0.)

import { addressOf, errno, libc, putAddress, SysError } from "../../ffi/libc.ts";

// Loads are relative to the network header (SKF_NET_OFF), whatever the socket sees first;
// SKF_AD_PROTOCOL is the frame's ethertype.
const NET = 0xfff00000, AD_PROTOCOL = 0xfffff000;
const LD_W = 0x20, LD_H = 0x28, LD_B = 0x30, LD_MEM = 0x60, ST = 0x02;
const TAX = 0x07, XOR_X = 0xac, MUL_K = 0x24, RSH_K = 0x74, MOD_K = 0x94;
const JEQ = 0x15, RET_K = 0x06;
const GENEVE_PORT = 6081, ACCEPT = 0xffffffff, DROP = 0;
const SO_ATTACH_FILTER = 26, SOL_SOCKET = 1;

type Insn = [code: number, jt: number, jf: number, k: number];

// IPv6 header offsets: next header, low words of source and destination, then L4 ports.
const NH = 6, SRC_LOW = 20, DST_LOW = 36, SPORT = 40, DPORT = 42;

/** The filter of worker `index` of `count`, as struct sock_filter[] bytes. */
export function shareFilter(index: number, count: number): Uint8Array {
  // Jumps are relative: a target is pc + 1 + offset.
  const program: Insn[] = [
    /* 0 */ [LD_H, 0, 0, AD_PROTOCOL],
    /* 1 */ [JEQ, 0, 21, 0x86dd], // not IPv6 → 23
    /* 2 */ [LD_B, 0, 0, NET + NH],
    /* 3 */ [JEQ, 0, 2, 17], // not UDP → 6
    /* 4 */ [LD_H, 0, 0, NET + DPORT],
    /* 5 */ [JEQ, 17, 1, GENEVE_PORT], // Geneve → 23, other UDP → 7
    /* 6 */ [JEQ, 0, 16, 6], // TCP → 7, anything else → 23
    /* 7 */ [LD_H, 0, 0, NET + SPORT],
    /* 8 */ [TAX, 0, 0, 0],
    /* 9 */ [LD_H, 0, 0, NET + DPORT],
    /* 10 */ [XOR_X, 0, 0, 0],
    /* 11 */ [ST, 0, 0, 0],
    /* 12 */ [LD_W, 0, 0, NET + SRC_LOW],
    /* 13 */ [TAX, 0, 0, 0],
    /* 14 */ [LD_W, 0, 0, NET + DST_LOW],
    /* 15 */ [XOR_X, 0, 0, 0],
    /* 16 */ [TAX, 0, 0, 0],
    /* 17 */ [LD_MEM, 0, 0, 0],
    /* 18 */ [XOR_X, 0, 0, 0],
    /* 19 */ [MUL_K, 0, 0, 0x9e3779b1], // spread the XOR over the high bits, then take them
    /* 20 */ [RSH_K, 0, 0, 16],
    /* 21 */ [MOD_K, 0, 0, count],
    /* 22 */ [JEQ, 1, 2, index], // mine → 24, another worker's → 25
    /* 23 */ [RET_K, 0, 0, index === 0 ? ACCEPT : DROP], // worker 0's frames
    /* 24 */ [RET_K, 0, 0, ACCEPT],
    /* 25 */ [RET_K, 0, 0, DROP],
  ];
  const b = new Uint8Array(program.length * 8);
  const dv = new DataView(b.buffer);
  program.forEach(([code, jt, jf, k], i) => {
    dv.setUint16(i * 8, code, true);
    b[i * 8 + 2] = jt;
    b[i * 8 + 3] = jf;
    dv.setUint32(i * 8 + 4, k >>> 0, true);
  });
  return b;
}

/** Attaches classic BPF `program` (struct sock_filter[]) to socket `fd` (SO_ATTACH_FILTER). */
export function attachFilter(fd: number, program: Uint8Array): void {
  // struct sock_fprog { u16 len; (pad) struct sock_filter *filter; }
  const fprog = new Uint8Array(16);
  new DataView(fprog.buffer).setUint16(0, program.length / 8, true);
  putAddress(new Uint32Array(fprog.buffer), 2, addressOf(program));
  if (libc.setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, fprog.length) < 0) {
    throw new SysError("setsockopt", errno(), "SO_ATTACH_FILTER");
  }
}
