import { vi } from 'vitest';
import { createMemoryCoordination } from '../../src/coordination/index.ts';
import { describeCoordinationContract } from './contract.ts';

describeCoordinationContract({
  name: 'memory adapter',
  open: async ({ onError }) => createMemoryCoordination({ onError }),
  // The memory store reads performance.now() and Date.now(): fake timers stop both.
  frozenClockLimiter: async (options) => {
    vi.useFakeTimers({ toFake: ['Date', 'performance'] });
    const coordination = createMemoryCoordination();
    return {
      limiter: coordination.rateLimiter(options),
      advanceMs: async (ms) => {
        vi.advanceTimersByTime(ms);
      },
      close: async () => {
        vi.useRealTimers();
        await coordination.close();
      },
    };
  },
});
