import { describe, expect, it } from 'vitest';
import { compactingQueue, usesCompactingQueue } from '../../src/engine/postgres-driver.ts';

describe('the postgres.js connection queue', () => {
  it('is replaced by the compacting queue (a failure here means postgres.js changed: re-check its queue.js)', () => {
    expect(usesCompactingQueue).toBe(true);
  });

  it('behaves as a FIFO queue with removal, like the one it replaces', () => {
    // A seeded pseudo-random sequence of operations against a plain array as the model.
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const queue = compactingQueue<number>([1, 2, 3]);
    const model = [1, 2, 3];
    let next = 4;
    for (let step = 0; step < 20_000; step++) {
      const choice = random();
      if (choice < 0.45) {
        expect(queue.push(next)).toBe(next);
        model.push(next++);
      } else if (choice < 0.9) {
        expect(queue.shift()).toBe(model.shift());
      } else {
        const target = model[Math.floor(random() * (model.length + 1))] ?? -1;
        const index = model.indexOf(target);
        expect(queue.remove(target)).toBe(index === -1 ? null : target);
        if (index !== -1) model.splice(index, 1);
      }
      expect(queue.length).toBe(model.length);
    }
  });

  it('stays bounded in the steady state that grew the original: one shift and one push per use', () => {
    const connections = ['a', 'b', 'c', 'd'];
    const queue = compactingQueue(connections);
    for (let use = 0; use < 100_000; use++) {
      const connection = queue.shift();
      expect(connection).toBe(connections[use % 4]);
      // A reserved connection is removed from the queue it was taken from: not found, as there.
      expect(queue.remove(connection as string)).toBeNull();
      queue.push(connection as string);
    }
    expect(queue.length).toBe(4);
    // The original held one slot per use by now (100,004); this one drops its consumed head.
    expect(queue.slots).toBeLessThanOrEqual(2 * 32 + 4);
  });
});
