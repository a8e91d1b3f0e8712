import type { PubSubTransport } from '../pubsub.ts';

export class MemoryPubSubTransport implements PubSubTransport {
  readonly #listeners = new Map<string, Set<(payload: string) => void>>();

  async publish(channel: string, payload: string): Promise<void> {
    const listeners = this.#listeners.get(channel);
    if (!listeners) return;
    const snapshot = [...listeners];
    // Delivered later, as over a network, so publishers never run subscriber code inline.
    setImmediate(() => {
      for (const listener of snapshot) listener(payload);
    });
  }

  async subscribe(channel: string, listener: (payload: string) => void): Promise<() => Promise<void>> {
    let listeners = this.#listeners.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(channel, listeners);
    }
    listeners.add(listener);
    return async () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#listeners.get(channel) === listeners) this.#listeners.delete(channel);
    };
  }
}
