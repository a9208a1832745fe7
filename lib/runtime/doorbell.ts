// The datapath Worker's doorbell: an eventfd in its packet loop's poll set, which the admin
// thread rings after each message it posts to the Worker. The loop blocks in poll(2) and lets
// the event loop run only between passes; with the bell it takes a turn when a message waits
// (until that message was dispatched) and otherwise only every few hundred ms, instead of every
// 5 ms (each turn ≈ 100 µs in a Worker, and a frame arriving during one waits for it). Workers
// share the process's fd table, so the fd number travels in WorkerInit.

import { check, libc } from "../../ffi/libc.ts";
import type { FdWatch } from "../link/wait.ts";
import type { TurnBell } from "../switch/ready.ts";

const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;

/** The admin thread's side: rings after each posted message; closed once the Worker is gone. */
export class Doorbell {
  private open = true;
  private readonly one = new BigUint64Array([1n]);

  private constructor(readonly fd: number) {}

  /** A new eventfd (non-blocking: a ring never waits). */
  static create(): Doorbell {
    return new Doorbell(check(libc.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), "eventfd"));
  }

  /** Adds one to the counter, waking the Worker's poll(2). */
  ring(): void {
    if (this.open) libc.write(this.fd, this.one, 8n);
  }

  /** Closes the fd (only once the Worker's loop no longer polls it: the number may be reused). */
  close(): void {
    if (!this.open) return;
    this.open = false;
    libc.close(this.fd);
  }
}

/**
 * The Worker's side: due while rings outnumber the messages dispatched since. A message may be
 * dispatched (in a safety turn) before its ring is read, so the balance can dip below zero.
 */
export class BellWatch implements FdWatch, TurnBell {
  private owed = 0;
  private readonly count = new BigUint64Array(1);

  constructor(readonly fd: number) {}

  get due(): boolean {
    return this.owed > 0;
  }

  /** Reads (and so resets) the eventfd counter: that many messages were posted. */
  onReadable(): void {
    if (libc.read(this.fd, this.count, 8n) === 8) this.owed += Number(this.count[0]);
  }

  /** Call once per rung message the Worker's onmessage received. */
  dispatched(): void {
    this.owed--;
  }
}
