import { setTimeout as sleep } from 'node:timers/promises';
import { createClient, TimeoutError } from 'redis';
import type { ErrorReporter } from '../report-error.ts';
import { SCRIPTS } from './scripts.ts';
import { unavailable } from './unavailable.ts';

export interface RedisConnectionSettings {
  url: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  healthCheckIntervalMs: number;
  maxReconnectDelayMs: number;
  report: ErrorReporter;
}

function createCoordinationClient(settings: RedisConnectionSettings) {
  return createClient({
    url: settings.url,
    scripts: SCRIPTS,
    // While disconnected, reject at once instead of queueing until Redis comes back: callers
    // get a clear error (or their documented fallback) now, and memory cannot grow unbounded.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: settings.connectTimeoutMs,
      // Exponential backoff (50 ms doubling, capped) with jitter, so a fleet does not reconnect in lockstep.
      reconnectStrategy: (retries: number) =>
        Math.round(Math.min(settings.maxReconnectDelayMs, 50 * 2 ** retries) * (0.5 + Math.random() / 2)),
    },
  });
}

export type CoordinationRedisClient = ReturnType<typeof createCoordinationClient>;

/** The promise's outcome, or a TimeoutError after `timeoutMs` (the promise is left to settle). */
export async function withDeadline<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  const timer = new AbortController();
  const timedOut = sleep(timeoutMs, undefined, { signal: timer.signal }).then(() => {
    throw new TimeoutError(`no answer within ${timeoutMs} ms`);
  });
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    timer.abort();
    timedOut.catch(() => {});
    promise.catch(() => {});
  }
}

/** Connects within the deadline, or destroys the client and throws. */
async function connectWithin(
  client: CoordinationRedisClient,
  timeoutMs: number,
  what: string,
): Promise<void> {
  try {
    await withDeadline(client.connect(), timeoutMs);
  } catch (error) {
    if (client.isOpen) client.destroy();
    throw unavailable(`connecting ${what}`, error);
  }
}

/** Closes gracefully when connected (pending replies arrive), at once otherwise. */
export async function closeClient(client: CoordinationRedisClient, timeoutMs: number): Promise<void> {
  if (!client.isOpen) return;
  if (!client.isReady) {
    client.destroy();
    return;
  }
  await withDeadline(client.close(), timeoutMs).catch(() => {});
  if (client.isOpen) client.destroy();
}

/**
 * The command connection. node-redis reconnects by itself when the socket breaks; what it cannot
 * see is a server that keeps the socket open but stops answering (paused, overloaded, or a
 * silent network partition), where commands would wait for minutes. A health check PINGs every
 * `healthCheckIntervalMs`; a PING slower than `commandTimeoutMs` replaces the client, which
 * fails every command in flight. This costs nothing per command; node-redis's own per-command
 * `timeout` would not do: it only bounds the wait before a command is written, not the reply,
 * and arming a timer per command divides throughput by several.
 */
export class RedisConnection {
  readonly #settings: RedisConnectionSettings;
  #client: CoordinationRedisClient;
  #timer: NodeJS.Timeout | undefined;
  #checking = false;

  private constructor(settings: RedisConnectionSettings, client: CoordinationRedisClient) {
    this.#settings = settings;
    this.#client = client;
  }

  static async open(settings: RedisConnectionSettings): Promise<RedisConnection> {
    const client = createCoordinationClient(settings);
    const connection = new RedisConnection(settings, client);
    connection.#watch(client);
    await connectWithin(client, settings.connectTimeoutMs, 'to Redis');
    connection.#timer = setInterval(() => void connection.#check(), settings.healthCheckIntervalMs);
    connection.#timer.unref();
    return connection;
  }

  get client(): CoordinationRedisClient {
    return this.#client;
  }

  /** A connection of its own (for SUBSCRIBE), with the same settings. */
  async duplicate(what: string): Promise<CoordinationRedisClient> {
    const client = this.#client.duplicate();
    this.#watch(client);
    await connectWithin(client, this.#settings.connectTimeoutMs, what);
    return client;
  }

  async ping(): Promise<void> {
    try {
      await this.#client.ping();
    } catch (error) {
      throw unavailable('PING', error);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await closeClient(this.#client, this.#settings.commandTimeoutMs);
  }

  #watch(client: CoordinationRedisClient): void {
    // Without a listener an 'error' event would crash the process; each one is a failed
    // (re)connection attempt, already retried by the reconnect strategy.
    client.on('error', (error: Error) => this.#settings.report(error, 'Redis connection error'));
  }

  async #check(): Promise<void> {
    const client = this.#client;
    if (this.#checking || !client.isReady) return;
    this.#checking = true;
    try {
      await withDeadline(client.ping(), this.#settings.commandTimeoutMs);
    } catch (error) {
      if (error instanceof TimeoutError && client === this.#client) this.#replace(client, error);
    } finally {
      this.#checking = false;
    }
  }

  #replace(stale: CoordinationRedisClient, cause: Error): void {
    this.#settings.report(
      cause,
      `Redis did not answer a PING within ${this.#settings.commandTimeoutMs} ms; reconnecting`,
    );
    const fresh = stale.duplicate();
    this.#watch(fresh);
    this.#client = fresh;
    stale.destroy();
    // Keeps retrying in the background (reconnect strategy); until then commands fail fast.
    fresh.connect().catch((error: Error) => this.#settings.report(error, 'Redis reconnection failed'));
  }
}
