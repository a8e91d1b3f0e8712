/**
 * Receives the failures a feature absorbs instead of throwing (the cache failing open, the rate
 * limiter's fallback, a lost auto-extend, a broken pub/sub message, connection drops), so that
 * they are visible to operators. `context` says what was being done and what happened instead.
 */
export type ErrorReporter = (error: Error, context: string) => void;

const REPEAT_WINDOW_MS = 10_000;

/**
 * The default reporter writes a warning per distinct failure at most once every 10 s: during an
 * outage every request fails the same way, and one line says it as well as a thousand.
 */
export function createWarningReporter(): ErrorReporter {
  const lastWarned = new Map<string, number>();
  return (error, context) => {
    const line = `[agentflow coordination] ${context}: ${error.message}`;
    const now = Date.now();
    const last = lastWarned.get(line);
    if (last !== undefined && now - last < REPEAT_WINDOW_MS) return;
    if (lastWarned.size > 1000) lastWarned.clear();
    lastWarned.set(line, now);
    console.warn(line);
  };
}
