// illumos libdlpi through Deno.dlopen (see dlpi(3DLPI)). Layouts are those of <libdlpi.h> on
// amd64 (uint_t and t_scalar_t are 32-bit). Frame buffers are passed as numeric addresses
// (usize) so the data path creates no pointer objects; handles are pointer objects made once.

/** libdlpi constants (libdlpi.h, sys/dlpi.h). */
export const DLPI = {
  SUCCESS: 10000,
  EINVAL: 10001,
  ELINKNAMEINVAL: 10002,
  ENOLINK: 10003,
  EINHANDLE: 10005,
  ETIMEDOUT: 10006,
  ERAWNOTSUP: 10013,
  EXCL: 0x0001,
  PASSIVE: 0x0002,
  RAW: 0x0004,
  NATIVE: 0x0020,
  ANY_SAP: 0xffffffff,
  DL_SYSERR: 0x04,
  DL_PROMISC_PHYS: 0x01,
  DL_PROMISC_SAP: 0x02,
  DL_PROMISC_MULTI: 0x03,
  DL_CURR_PHYS_ADDR: 0x02,
  DL_ETHER: 0x04,
  PHYSADDR_MAX: 64,
  LINKNAME_MAX: 32,
} as const;

/** dlpi_info_t. */
export const DLPI_INFO = {
  size: 244,
  maxSdu: 4,
  mactype: 16,
  linkname: 20,
  physaddr: 52,
  physaddrlen: 116,
  bcastaddr: 117,
  bcastaddrlen: 181,
  sap: 184,
  timeout: 188,
  qosSel: 192,
  qosRange: 212,
} as const;

/** dlpi_recvinfo_t. */
export const DLPI_RECVINFO = {
  size: 80,
  destaddrlen: 64,
  destaddrtype: 68,
  totmsglen: 72,
} as const;

/** dlpi_sendinfo_t. */
export const DLPI_SENDINFO = { size: 12, prio: 4 } as const;

const SYMBOLS = {
  dlpi_open: { parameters: ["buffer", "buffer", "u32"], result: "i32" },
  dlpi_close: { parameters: ["pointer"], result: "void" },
  dlpi_bind: { parameters: ["pointer", "u32", "buffer"], result: "i32" },
  dlpi_promiscon: { parameters: ["pointer", "u32"], result: "i32" },
  dlpi_recv: {
    parameters: ["pointer", "pointer", "pointer", "usize", "pointer", "i32", "pointer"],
    result: "i32",
  },
  dlpi_send: {
    parameters: ["pointer", "pointer", "usize", "usize", "usize", "pointer"],
    result: "i32",
  },
  dlpi_get_physaddr: { parameters: ["pointer", "u32", "buffer", "buffer"], result: "i32" },
  dlpi_info: { parameters: ["pointer", "buffer", "u32"], result: "i32" },
  dlpi_fd: { parameters: ["pointer"], result: "i32" },
  dlpi_strerror: { parameters: ["i32"], result: "pointer" },
} as const;

/** The bound libdlpi symbols. */
export type Libdlpi = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

const opened = new Map<string, Libdlpi>();

/** Opens libdlpi (or a library with the same ABI, e.g. the test shim) once per path. */
export function libdlpi(path = "libdlpi.so.1"): Libdlpi {
  let l = opened.get(path);
  if (!l) {
    l = Deno.dlopen(path, SYMBOLS).symbols;
    opened.set(path, l);
  }
  return l;
}

/** A failed libdlpi call, with dlpi_strerror's text. */
export class DlpiError extends Error {
  constructor(readonly call: string, readonly code: number, text: string) {
    super(`${call}: ${text} [dlpi ${code}]`);
    this.name = "DlpiError";
  }
}

/** Throws DlpiError unless `ret` is DLPI_SUCCESS. */
export function dlpiCheck(lib: Libdlpi, ret: number, call: string): void {
  if (ret === DLPI.SUCCESS) return;
  const p = lib.dlpi_strerror(ret);
  throw new DlpiError(call, ret, p ? Deno.UnsafePointerView.getCString(p) : `error ${ret}`);
}
