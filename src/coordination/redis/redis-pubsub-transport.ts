import type { PubSubTransport } from '../pubsub.ts';
import type { ErrorReporter } from '../report-error.ts';
import {
  type CoordinationRedisClient,
  closeClient,
  type RedisConnection,
  withDeadline,
} from './redis-connection.ts';
import { rethrowUnavailable, unavailable } from './unavailable.ts';

const publishFailed = rethrowUnavailable('PUBLISH');

/**
 * Publishes on the command connection and subscribes on a dedicated one (a connection in
 * subscribe mode can run nothing else), opened on the first subscribe. node-redis resubscribes
 * every channel after a reconnection.
 */
export class RedisPubSubTransport implements PubSubTransport {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #report: ErrorReporter;
  #subscriber: Promise<CoordinationRedisClient> | undefined;

  constructor(connection: RedisConnection, prefix: string, timeoutMs: number, report: ErrorReporter) {
    this.#connection = connection;
    this.#prefix = prefix;
    this.#timeoutMs = timeoutMs;
    this.#report = report;
  }

  async publish(channel: string, payload: string): Promise<void> {
    await this.#connection.client.publish(this.#prefix + channel, payload).catch(publishFailed);
  }

  async subscribe(channel: string, listener: (payload: string) => void): Promise<() => Promise<void>> {
    const subscriber = await this.#connectSubscriber();
    const name = this.#prefix + channel;
    if (!subscriber.isReady) throw unavailable('SUBSCRIBE', 'the subscriber connection is down');
    try {
      await withDeadline(subscriber.subscribe(name, listener), this.#timeoutMs);
    } catch (error) {
      this.#forget(subscriber, name, listener);
      throw unavailable('SUBSCRIBE', error);
    }
    return async () => this.#forget(subscriber, name, listener);
  }

  async close(): Promise<void> {
    const subscriber = await this.#subscriber?.catch(() => undefined);
    if (subscriber) await closeClient(subscriber, this.#timeoutMs);
  }

  #connectSubscriber(): Promise<CoordinationRedisClient> {
    if (!this.#subscriber) {
      this.#subscriber = this.#connection.duplicate('the Redis subscriber');
      // A failed first connection is retried by the next subscribe.
      this.#subscriber.catch(() => {
        this.#subscriber = undefined;
      });
    }
    return this.#subscriber;
  }

  /**
   * Not awaited: node-redis drops the listener when the server confirms, which waits for the
   * reconnection while Redis is down. The listener is already muted by CoordinationPubSub.
   */
  #forget(subscriber: CoordinationRedisClient, name: string, listener: (payload: string) => void): void {
    subscriber
      .unsubscribe(name, listener)
      .catch((error: Error) =>
        this.#report(error, 'Redis UNSUBSCRIBE failed; the listener is removed anyway'),
      );
  }
}
