interface Slot<V> {
  value: V;
  expiresAt: number;
}

const SWEEP_INTERVAL_MS = 1000;

/**
 * A Map whose entries expire (times are epoch milliseconds). An expired entry is invisible at
 * once and removed on access or by a sweep that runs at most once a second, on writes, so the
 * memory adapter needs no timers and idle maps cost nothing.
 */
export class ExpiringMap<V> {
  readonly #slots = new Map<string, Slot<V>>();
  readonly #onExpire: ((key: string, value: V) => void) | undefined;
  #nextSweepAt = 0;

  /** onExpire runs for every entry dropped because it expired (to clean up indexes). */
  constructor(onExpire?: (key: string, value: V) => void) {
    this.#onExpire = onExpire;
  }

  get(key: string): V | undefined {
    return this.slot(key)?.value;
  }

  /** The live entry with its expiry, or undefined. */
  slot(key: string): Slot<V> | undefined {
    const slot = this.#slots.get(key);
    if (slot === undefined) return undefined;
    if (slot.expiresAt > Date.now()) return slot;
    this.#drop(key, slot);
    return undefined;
  }

  set(key: string, value: V, expiresAt: number): void {
    this.#sweep();
    this.#slots.set(key, { value, expiresAt });
  }

  /** True when a live entry was removed. */
  delete(key: string): boolean {
    const live = this.slot(key) !== undefined;
    this.#slots.delete(key);
    return live;
  }

  /** Live keys, for pattern matching. */
  *keys(): IterableIterator<string> {
    for (const key of [...this.#slots.keys()]) {
      if (this.slot(key) !== undefined) yield key;
    }
  }

  #sweep(): void {
    const now = Date.now();
    if (now < this.#nextSweepAt) return;
    this.#nextSweepAt = now + SWEEP_INTERVAL_MS;
    for (const [key, slot] of this.#slots) {
      if (slot.expiresAt <= now) this.#drop(key, slot);
    }
  }

  #drop(key: string, slot: Slot<V>): void {
    this.#slots.delete(key);
    this.#onExpire?.(key, slot.value);
  }
}
