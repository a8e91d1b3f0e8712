export interface AgentflowErrorOptions {
  cause?: unknown;
  /** The kind of record concerned, as the library names it (`project`, `project file`…), where known. */
  entity?: string;
  /** True when running the same unit of work again may succeed (a serialization failure, a deadlock). */
  retryable?: boolean;
}

/**
 * Base of every error this library throws on purpose. `code` is stable and names the case, so a
 * program (an HTTP mapping, a retry loop) never parses `message`, which is for people.
 */
export abstract class AgentflowError extends Error {
  abstract readonly code: string;
  readonly retryable: boolean;
  readonly entity: string | undefined;

  constructor(message: string, options: AgentflowErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable ?? false;
    this.entity = options.entity;
  }
}
