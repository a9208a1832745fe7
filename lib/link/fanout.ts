// The classic BPF program that spreads an underlay link's received frames over the sockets of a
// PACKET_FANOUT group (one per datapath worker). Geneve goes to the first member, since overlay
// state lives in one worker's VPC pipelines. Every other IPv6 frame goes by a symmetric hash of
// its addresses (and TCP/UDP ports), so a flow reaches one member and stays in order. Non-IPv6
// frames (and any load past the frame's end, which ends the program with 0) go to the first.

import { C } from "../../ffi/layout.ts";
import { addressOf, errno, libc, putAddress, SysError } from "../../ffi/libc.ts";

// Loads are relative to the network header (SKF_NET_OFF): the fanout runs before the link
// header is pushed back. SKF_AD_PROTOCOL is the frame's ethertype.
const NET = 0xfff00000, AD_PROTOCOL = 0xfffff000;
const LD_W = 0x20, LD_H = 0x28, LD_B = 0x30, LD_IMM = 0x00, LD_MEM = 0x60, ST = 0x02;
const TAX = 0x07, XOR_X = 0xac, MUL_K = 0x24, RSH_K = 0x74;
const JEQ = 0x15, JA = 0x05, RET_A = 0x16, RET_K = 0x06;
const GENEVE_PORT = 6081;

type Insn = [code: number, jt: number, jf: number, k: number];

// IPv6 header offsets: next header, low words of source and destination, then L4 ports.
const NH = 6, SRC_LOW = 20, DST_LOW = 36, SPORT = 40, DPORT = 42;

// Jumps are relative: a target is pc + 1 + offset.
const PROGRAM: Insn[] = [
  /* 0 */ [LD_H, 0, 0, AD_PROTOCOL],
  /* 1 */ [JEQ, 0, 23, 0x86dd], // not IPv6 → 25
  /* 2 */ [LD_B, 0, 0, NET + NH],
  /* 3 */ [JEQ, 0, 2, 17], // not UDP → 6
  /* 4 */ [LD_H, 0, 0, NET + DPORT],
  /* 5 */ [JEQ, 19, 1, GENEVE_PORT], // Geneve → 25, other UDP → 7
  /* 6 */ [JEQ, 0, 6, 6], // TCP → 7, others → 13
  /* 7 */ [LD_H, 0, 0, NET + SPORT],
  /* 8 */ [TAX, 0, 0, 0],
  /* 9 */ [LD_H, 0, 0, NET + DPORT],
  /* 10 */ [XOR_X, 0, 0, 0],
  /* 11 */ [ST, 0, 0, 0],
  /* 12 */ [JA, 0, 0, 2], // → 15
  /* 13 */ [LD_IMM, 0, 0, 0],
  /* 14 */ [ST, 0, 0, 0],
  /* 15 */ [LD_W, 0, 0, NET + SRC_LOW],
  /* 16 */ [TAX, 0, 0, 0],
  /* 17 */ [LD_W, 0, 0, NET + DST_LOW],
  /* 18 */ [XOR_X, 0, 0, 0],
  /* 19 */ [TAX, 0, 0, 0],
  /* 20 */ [LD_MEM, 0, 0, 0],
  /* 21 */ [XOR_X, 0, 0, 0],
  /* 22 */ [MUL_K, 0, 0, 0x9e3779b1], // spread the XOR over the high bits, then take them
  /* 23 */ [RSH_K, 0, 0, 16],
  /* 24 */ [RET_A, 0, 0, 0],
  /* 25 */ [RET_K, 0, 0, 0],
];

/** The program as struct sock_filter[] bytes (8 per instruction, host order). */
export function fanoutProgram(): Uint8Array {
  const b = new Uint8Array(PROGRAM.length * 8);
  const dv = new DataView(b.buffer);
  PROGRAM.forEach(([code, jt, jf, k], i) => {
    dv.setUint16(i * 8, code, true);
    b[i * 8 + 2] = jt;
    b[i * 8 + 3] = jf;
    dv.setUint32(i * 8 + 4, k >>> 0, true);
  });
  return b;
}

/** Joins fanout group `id` of socket `fd`: by symmetric flow hash, or by `program`'s result. */
export function joinFanout(fd: number, id: number, program?: Uint8Array): void {
  const mode = program ? C.PACKET_FANOUT_CBPF : C.PACKET_FANOUT_HASH;
  const arg = new Uint8Array(4);
  new DataView(arg.buffer).setUint32(0, (id & 0xffff) | (mode << 16), true);
  if (libc.setsockopt(fd, C.SOL_PACKET, C.PACKET_FANOUT, arg, 4) < 0) {
    throw new SysError("setsockopt", errno(), "PACKET_FANOUT");
  }
  if (!program) return;
  // struct sock_fprog { u16 len; (pad) struct sock_filter *filter; }
  const fprog = new Uint8Array(16);
  new DataView(fprog.buffer).setUint16(0, program.length / 8, true);
  putAddress(new Uint32Array(fprog.buffer), 2, addressOf(program));
  if (libc.setsockopt(fd, C.SOL_PACKET, C.PACKET_FANOUT_DATA, fprog, fprog.length) < 0) {
    throw new SysError("setsockopt", errno(), "PACKET_FANOUT_DATA");
  }
}
