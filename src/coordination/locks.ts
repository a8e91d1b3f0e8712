import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { LockLostError, LockNotAcquiredError } from './errors.ts';
import type { ErrorReporter } from './report-error.ts';
import { assertFunction, assertName, assertNonNegativeInteger, assertPositiveInteger } from './validation.ts';

export interface LockOptions {
  /** How long the lock lives unless extended or released. */
  ttlMs: number;
  /** How long acquire may wait for the holder to let go; 0 (default) tries once. */
  waitMs?: number;
  /** Base of the pause between attempts while waiting; each pause is 0.5×–1.5× of it. Default 50. */
  retryDelayMs?: number;
  /** Extend the lock every ttlMs / 3 while it is held. Default: false for acquire, true for withLock. */
  autoExtend?: boolean;
}

/**
 * A held lock. Locks are advisory: they exclude only the code that takes them, and a holder
 * paused longer than the TTL (GC, swap, a network partition) can still act after losing it.
 * Pass `fencingToken` to the protected resource and have it reject tokens lower than the
 * highest it has seen: that closes the gap.
 */
export interface Lock {
  readonly name: string;
  /** Random secret of this grant; release and extend only work with it. */
  readonly token: string;
  /** Increases with every grant (of any lock of this coordination store). */
  readonly fencingToken: number;
  /** Aborted (reason: LockLostError) when the lock is known to be lost. */
  readonly signal: AbortSignal;
  /** Pushes the expiry to now + ttlMs (default: the acquire TTL); false if the lock was lost. */
  extend(ttlMs?: number): Promise<boolean>;
  /** Lets go; false if the lock had already expired or been taken over. */
  release(): Promise<boolean>;
}

/**
 * Distributed mutual exclusion. Fails closed: when the store is unreachable, acquire throws
 * CoordinationUnavailableError rather than pretend the lock is held.
 */
export interface LockManager {
  /** Takes the lock, waiting up to waitMs; throws LockNotAcquiredError when it stays taken. */
  acquire(name: string, options: LockOptions): Promise<Lock>;
  /** One attempt; undefined when the lock is taken. */
  tryAcquire(name: string, options: Omit<LockOptions, 'waitMs' | 'retryDelayMs'>): Promise<Lock | undefined>;
  /**
   * Runs fn under the lock (auto-extended by default) and releases it afterwards. Throws
   * LockLostError when the lock turned out to be lost before fn finished (auto-extend failed,
   * or release found another holder): fn's work may not have been exclusive.
   */
  withLock<T>(name: string, options: LockOptions, fn: (lock: Lock) => Promise<T>): Promise<T>;
}

/** An adapter's lock state. The fencing token comes from the same atomic step as the grant. */
export interface LockBackend {
  tryAcquire(name: string, token: string, ttlMs: number): Promise<number | undefined>;
  extend(name: string, token: string, ttlMs: number): Promise<boolean>;
  release(name: string, token: string): Promise<boolean>;
}

const DEFAULT_RETRY_DELAY_MS = 50;

class HeldLock implements Lock {
  readonly name: string;
  readonly token: string;
  readonly fencingToken: number;
  readonly #backend: LockBackend;
  readonly #ttlMs: number;
  readonly #report: ErrorReporter;
  readonly #onDone: (lock: HeldLock) => void;
  readonly #controller = new AbortController();
  #expiresAt: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    backend: LockBackend,
    grant: { name: string; token: string; fencingToken: number; ttlMs: number; requestedAt: number },
    report: ErrorReporter,
    onDone: (lock: HeldLock) => void,
  ) {
    this.#backend = backend;
    this.name = grant.name;
    this.token = grant.token;
    this.fencingToken = grant.fencingToken;
    this.#ttlMs = grant.ttlMs;
    // Counted from the request, not the reply: the store may have granted it that early.
    this.#expiresAt = grant.requestedAt + grant.ttlMs;
    this.#report = report;
    this.#onDone = onDone;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  startAutoExtend(): void {
    this.#timer = setInterval(() => void this.#autoExtend(), Math.max(1, Math.floor(this.#ttlMs / 3)));
    // The holder's own work keeps the process alive; a lock timer should not.
    this.#timer.unref();
  }

  async extend(ttlMs = this.#ttlMs): Promise<boolean> {
    assertPositiveInteger(ttlMs, 'ttlMs');
    if (this.#controller.signal.aborted) return false;
    const requestedAt = Date.now();
    const extended = await this.#backend.extend(this.name, this.token, ttlMs);
    if (extended) this.#expiresAt = requestedAt + ttlMs;
    else this.lose(undefined);
    return extended;
  }

  async release(): Promise<boolean> {
    this.#stop();
    this.#onDone(this);
    if (this.#controller.signal.aborted) return false;
    return this.#backend.release(this.name, this.token);
  }

  /** Marks the lock lost: stops extending and aborts the signal. */
  lose(cause: unknown): void {
    this.#stop();
    this.#onDone(this);
    if (!this.#controller.signal.aborted) this.#controller.abort(new LockLostError(this.name, { cause }));
  }

  async #autoExtend(): Promise<void> {
    try {
      await this.extend();
    } catch (error) {
      // The store may come back before the TTL runs out; give up only once it has.
      this.#report(error as Error, `auto-extend of lock "${this.name}" failed`);
      if (Date.now() >= this.#expiresAt) this.lose(error);
    }
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

export class CoordinationLockManager implements LockManager {
  readonly #backend: LockBackend;
  readonly #report: ErrorReporter;
  /** Locks with a running auto-extend timer, stopped on close. */
  readonly #held = new Set<HeldLock>();

  constructor(backend: LockBackend, report: ErrorReporter) {
    this.#backend = backend;
    this.#report = report;
  }

  async acquire(name: string, options: LockOptions): Promise<Lock> {
    assertName(name, 'name');
    assertPositiveInteger(options.ttlMs, 'ttlMs');
    const waitMs = options.waitMs ?? 0;
    const retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    assertNonNegativeInteger(waitMs, 'waitMs');
    assertPositiveInteger(retryDelayMs, 'retryDelayMs');
    const deadline = Date.now() + waitMs;
    for (;;) {
      const lock = await this.#attempt(name, options.ttlMs, options.autoExtend ?? false);
      if (lock) return lock;
      const left = deadline - Date.now();
      if (left <= 0) throw new LockNotAcquiredError(name, waitMs);
      // Jitter spreads contenders out so they do not retry in lockstep after each release.
      await sleep(Math.min(left, retryDelayMs * (0.5 + Math.random())));
    }
  }

  async tryAcquire(
    name: string,
    options: Omit<LockOptions, 'waitMs' | 'retryDelayMs'>,
  ): Promise<Lock | undefined> {
    assertName(name, 'name');
    assertPositiveInteger(options.ttlMs, 'ttlMs');
    return this.#attempt(name, options.ttlMs, options.autoExtend ?? false);
  }

  async withLock<T>(name: string, options: LockOptions, fn: (lock: Lock) => Promise<T>): Promise<T> {
    assertFunction(fn, 'fn');
    const lock = await this.acquire(name, { autoExtend: true, ...options });
    let result: T;
    try {
      result = await fn(lock);
    } catch (error) {
      await this.#releaseQuietly(lock);
      throw error;
    }
    let released: boolean;
    try {
      released = await lock.release();
    } catch (error) {
      // Unknown whether it was still held; it was while auto-extend succeeded, and the TTL frees it.
      this.#report(error as Error, `release of lock "${name}" failed`);
      return result;
    }
    // Not held any more at the end: someone else may have held it while fn ran.
    if (!released) throw lock.signal.aborted ? lock.signal.reason : new LockLostError(name);
    return result;
  }

  /** Stops auto-extending: the locks still held expire after their TTL. */
  close(): void {
    for (const lock of this.#held) lock.lose('the coordination store was closed');
  }

  async #releaseQuietly(lock: Lock): Promise<void> {
    // The caller's own error matters more; the TTL frees the lock if this fails.
    await lock
      .release()
      .catch((error: Error) => this.#report(error, `release of lock "${lock.name}" failed`));
  }

  async #attempt(name: string, ttlMs: number, autoExtend: boolean): Promise<HeldLock | undefined> {
    const token = randomBytes(16).toString('base64url');
    const requestedAt = Date.now();
    const fencingToken = await this.#backend.tryAcquire(name, token, ttlMs);
    if (fencingToken === undefined) return undefined;
    const lock = new HeldLock(
      this.#backend,
      { name, token, fencingToken, ttlMs, requestedAt },
      this.#report,
      (done) => this.#held.delete(done),
    );
    if (autoExtend) {
      this.#held.add(lock);
      lock.startAutoExtend();
    }
    return lock;
  }
}
