// The loop's pacing: which links a pass of Switch.poll reads, how much of a bounded link it
// reads, and how Switch.run yields. poll(2) already says which fds are readable; reading the
// others costs one recv that returns EAGAIN each (about a third of the datapath's syscalls under
// load before this set existed). Links without an fd (memory) cannot be polled: always read.

/** Per-link read flags and read limits in `Switch.links()` order, rebuilt on a link change. */
export class ReadySet {
  /** 1: read this link on the next pass. */
  flags: Uint8Array = new Uint8Array(0);
  /**
   * Most frames the next pass reads from a link with `boundedRecv` (a TAP: one syscall per
   * frame, and only a read that finds nothing says it is empty). It starts at 1: a frame that
   * arrives alone is handed on before the read that returns EAGAIN, which then happens in the
   * next pass, after the frame left. Doubles (up to the batch) while reads stop at it, falls
   * back to what a read found once one finds the device empty.
   */
  limit: Uint16Array = new Uint16Array(0);
  /** Polled links whose last read filled the batch (more may wait): others need a fresh poll. */
  kept = 0;
  private gen = -1;

  /** The flags for link generation `gen` of `count` links; all set after a change. */
  at(gen: number, count: number): Uint8Array {
    if (gen !== this.gen || this.flags.length !== count) {
      this.gen = gen;
      this.flags = new Uint8Array(count).fill(1);
      this.limit = new Uint16Array(count).fill(1);
    }
    return this.flags;
  }

  /** How many frames to ask link `i` for: its limit when `bounded`, else the whole batch. */
  max(i: number, bounded: boolean | undefined, capacity: number): number {
    return bounded === true ? Math.min(this.limit[i], capacity) : capacity;
  }

  /**
   * After reading `n` frames, asked for `max`, from link `i` (fd `fd`): it stays flagged for the
   * next pass when the read stopped at `max` (more may wait), else the next poll(2) says when it
   * has frames again. Returns 1 when the batch was full (the loop then polls the other links
   * before the next pass, so a busy link starves none).
   */
  after(i: number, fd: number, n: number, max: number, capacity: number): number {
    if (fd < 0) return 0;
    const more = n >= max;
    this.flags[i] = more ? 1 : 0;
    this.limit[i] = more ? Math.min(capacity, 2 * max) : Math.max(1, n);
    return n >= capacity ? 1 : 0;
  }
}

/**
 * Whether the loop should give the event loop a turn now, after a pass that read `frames`,
 * `sinceMs` after the last turn: on an idle pass once `yieldMs` passed (the frame that ends a
 * wait is read before any turn), under load only after `2 * yieldMs`.
 */
export function turnDue(frames: number, sinceMs: number, yieldMs: number): boolean {
  return sinceMs >= (frames === 0 ? yieldMs : 2 * yieldMs);
}

/**
 * Says whether a message waits for the event loop (lib/runtime/doorbell.ts: the admin thread
 * rings an eventfd in the loop's poll set after each message it posts to the Worker).
 */
export interface TurnBell {
  readonly due: boolean;
}

/** How Switch.run paces its event-loop turns. */
export interface TurnPacing {
  /** Idle passes take a turn once this long passed since the last one (ms; default 5). */
  yieldMs?: number;
  /** With a bell, turns are taken while it is due, and every `yieldMs` only as a safety net. */
  bell?: TurnBell;
  /** The clock (ms) that paces the turns. */
  clock?: () => number;
}

/** When the loop yields: a due bell at once, otherwise per `turnDue`. */
export class TurnPacer {
  private readonly yieldMs: number;
  private readonly clock: () => number;
  private readonly bell: TurnBell | undefined;
  private last: number;

  constructor(p: TurnPacing) {
    this.yieldMs = p.yieldMs ?? 5;
    this.clock = p.clock ?? (() => performance.now());
    this.bell = p.bell;
    this.last = this.clock();
  }

  /** Whether to yield after a pass that read `frames`. */
  due(frames: number): boolean {
    return this.bell?.due === true || turnDue(frames, this.clock() - this.last, this.yieldMs);
  }

  /** Call after each turn. */
  taken(): void {
    this.last = this.clock();
  }
}

/**
 * The loop's yield to the event loop, as a macrotask through a message port: setTimeout(0) from
 * a timer callback is clamped to 4 ms (HTML nesting rule, which Deno follows), so the loop slept
 * ~4 ms every 5 ms.
 */
export class MacrotaskTurn {
  private readonly ch = new MessageChannel();
  private resume: () => void = () => {};

  constructor() {
    this.ch.port1.onmessage = () => this.resume();
  }

  /** Resolves after one turn of the event loop. */
  next(): Promise<void> {
    return new Promise<void>((r) => {
      this.resume = r;
      this.ch.port2.postMessage(0);
    });
  }

  close(): void {
    this.ch.port1.close();
    this.ch.port2.close();
  }
}
