// illumos backend: a DLPI link in raw mode (whole Ethernet frames in and out) as a Link.
// dlpi_recv with a 0 ms timeout returns DLPI_ETIMEDOUT when nothing waits, which ends a batch.
import { addressOf, errno } from "../../ffi/libc.ts";
import { DLPI, DLPI_INFO, dlpiCheck, type Libdlpi, libdlpi } from "../../ffi/dlpi.ts";
import { withNetns } from "../../ffi/netns.ts";
import { FrameBatch, HEADROOM, type Link, type LinkStats, newLinkStats } from "./link.ts";

const ZERO = 0n;

// Deno accepts a plain number for a u64/usize parameter at run time (converted without a
// bigint allocation); the type declarations only admit bigint, hence the cast.
function u64(n: number): bigint {
  return n as unknown as bigint;
}

/** How to open a DLPI link. */
export interface DlpiLinkOptions {
  /** Link name (e.g. "cxgbe0", "vioif0", or a Linux interface under the test shim). */
  linkname: string;
  /** Path of libdlpi (default libdlpi.so.1; tests pass the shim). */
  library?: string;
  /** Linux shim only: namespace in which to open the link. */
  netns?: string;
  /** Enable DL_PROMISC_PHYS and DL_PROMISC_MULTI (the switch answers for many addresses). */
  promisc?: boolean;
}

/** A DLPI handle as a Link. */
export class DlpiLink implements Link {
  readonly kind = "dlpi";
  readonly stats: LinkStats = newLinkStats();
  readonly name: string;
  readonly mac: Uint8Array;
  readonly mtu: number;
  readonly fd: number;
  private readonly lenMem = new Uint8Array(8);
  private readonly lenWords = new Uint32Array(this.lenMem.buffer);
  private readonly lenPtr = Deno.UnsafePointer.of(this.lenMem);
  private up = true;
  private closed = false;

  private constructor(private readonly lib: Libdlpi, private readonly dh: Deno.PointerObject) {
    const info = new Uint8Array(DLPI_INFO.size);
    dlpiCheck(lib, lib.dlpi_info(dh, info, 0), "dlpi_info");
    const dv = new DataView(info.buffer);
    this.mtu = dv.getUint32(DLPI_INFO.maxSdu, true);
    const nameEnd = info.indexOf(0, DLPI_INFO.linkname);
    this.name = new TextDecoder().decode(info.subarray(DLPI_INFO.linkname, nameEnd));
    const mac = new Uint8Array(DLPI.PHYSADDR_MAX), len = new BigUint64Array([BigInt(mac.length)]);
    const lenBytes = new Uint8Array(len.buffer);
    dlpiCheck(
      lib,
      lib.dlpi_get_physaddr(dh, DLPI.DL_CURR_PHYS_ADDR, mac, lenBytes),
      "dlpi_get_physaddr",
    );
    this.mac = mac.slice(0, Number(len[0]));
    this.fd = lib.dlpi_fd(dh);
  }

  /** Opens, binds to every SAP in raw mode, optionally goes promiscuous. Closes on error. */
  static open(o: DlpiLinkOptions): DlpiLink {
    const lib = libdlpi(o.library);
    const hp = new BigUint64Array(1);
    const name = new TextEncoder().encode(`${o.linkname}\0`);
    const r = withNetns(o.netns, () => lib.dlpi_open(name, new Uint8Array(hp.buffer), DLPI.RAW));
    dlpiCheck(lib, r, `dlpi_open ${o.linkname}`);
    const dh = Deno.UnsafePointer.create(hp[0])!;
    try {
      dlpiCheck(lib, lib.dlpi_bind(dh, DLPI.ANY_SAP, new Uint8Array(4)), "dlpi_bind");
      // every ethertype (IPv6, ARP, …), as snoop does; the shim's bind already covers all SAPs
      dlpiCheck(lib, lib.dlpi_promiscon(dh, DLPI.DL_PROMISC_SAP), "dlpi_promiscon SAP");
      if (o.promisc) {
        dlpiCheck(lib, lib.dlpi_promiscon(dh, DLPI.DL_PROMISC_PHYS), "dlpi_promiscon PHYS");
        dlpiCheck(lib, lib.dlpi_promiscon(dh, DLPI.DL_PROMISC_MULTI), "dlpi_promiscon MULTI");
      }
      return new DlpiLink(lib, dh);
    } catch (e) {
      lib.dlpi_close(dh);
      throw e;
    }
  }

  /** Receives until DLPI_ETIMEDOUT (nothing waiting) or the batch is full. */
  recv(batch: FrameBatch): number {
    let n = 0;
    if (this.closed) return 0;
    while (n < batch.capacity) {
      const buf = batch.bufs[n];
      const cap = buf.length - HEADROOM;
      this.lenWords[0] = cap;
      this.lenWords[1] = 0;
      const r = this.lib.dlpi_recv(
        this.dh,
        null,
        null,
        u64(addressOf(buf) + HEADROOM),
        this.lenPtr,
        0,
        null,
      );
      if (r !== DLPI.SUCCESS) {
        if (r !== DLPI.ETIMEDOUT && !(r === DLPI.DL_SYSERR && errno() === 11)) {
          this.stats.rxErrors++;
        }
        break;
      }
      const len = this.lenWords[0];
      batch.offs[n] = HEADROOM;
      batch.lens[n] = len;
      this.stats.rxFrames++;
      this.stats.rxBytes += len;
      n++;
    }
    batch.count = n;
    return n;
  }

  /** Sends frames [0, count); stops at the first refusal (queue full) and counts the rest dropped. */
  send(batch: FrameBatch, count: number): number {
    for (let i = 0; i < count; i++) {
      if (!this.sendFrame(batch.bufs[i], batch.offs[i], batch.lens[i])) {
        this.stats.txDropped += count - i - 1;
        return i;
      }
    }
    return count;
  }

  /** Sends one raw frame. */
  sendFrame(buf: Uint8Array, off: number, len: number): boolean {
    if (this.closed) return false;
    const r = this.lib.dlpi_send(this.dh, null, ZERO, u64(addressOf(buf) + off), u64(len), null);
    if (r !== DLPI.SUCCESS) {
      this.stats.txDropped++;
      return false;
    }
    this.stats.txFrames++;
    this.stats.txBytes += len;
    return true;
  }

  /** State as last recorded (DLPI notifications or a link monitor feed it). */
  isUp(): boolean {
    return this.up && !this.closed;
  }

  /** Records a state change. */
  setUp(up: boolean): void {
    this.up = up;
  }

  /** dlpi_close. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lib.dlpi_close(this.dh);
  }
}
