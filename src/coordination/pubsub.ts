import type { ErrorReporter } from './report-error.ts';
import { assertFunction, assertName, encodeJson } from './validation.ts';

export interface Subscription {
  readonly tenantId: string;
  readonly channel: string;
  /** Stops this listener (other listeners of the channel keep theirs). Idempotent. */
  unsubscribe(): Promise<void>;
}

export type MessageListener<T> = (message: T) => void | Promise<void>;

/**
 * Tenant-scoped publish/subscribe of JSON messages. A channel name only exists within its
 * tenant: a subscriber of tenant A never receives tenant B's messages, whatever the names.
 * Delivery is at most once (messages published while a subscriber is disconnected are lost),
 * so use it to notify, and keep the truth in the database. publish and subscribe throw
 * CoordinationUnavailableError when the store is unreachable; subscriptions survive an outage
 * and resume when the store returns.
 */
export interface PubSub {
  /** Sends a JSON message to the subscribers of the tenant's channel. */
  publish(tenantId: string, channel: string, message: unknown): Promise<void>;
  /** Resolves once the subscription is active, so a message published afterwards is received. */
  subscribe<T = unknown>(
    tenantId: string,
    channel: string,
    listener: MessageListener<T>,
  ): Promise<Subscription>;
}

/** An adapter's transport: raw payloads on already-scoped channel names. */
export interface PubSubTransport {
  publish(channel: string, payload: string): Promise<void>;
  /** Returns the function that removes this listener. */
  subscribe(channel: string, listener: (payload: string) => void): Promise<() => Promise<void>>;
}

/**
 * The tenant part is URI-encoded so it never contains ":" — otherwise tenant "a:b" + channel "c"
 * and tenant "a" + channel "b:c" would be the same channel.
 */
function scopedChannel(tenantId: string, channel: string): string {
  return `${encodeURIComponent(tenantId)}:${channel}`;
}

export class CoordinationPubSub implements PubSub {
  readonly #transport: PubSubTransport;
  readonly #report: ErrorReporter;

  constructor(transport: PubSubTransport, report: ErrorReporter) {
    this.#transport = transport;
    this.#report = report;
  }

  async publish(tenantId: string, channel: string, message: unknown): Promise<void> {
    assertName(tenantId, 'tenantId');
    assertName(channel, 'channel');
    await this.#transport.publish(scopedChannel(tenantId, channel), encodeJson(message, 'message'));
  }

  async subscribe<T = unknown>(
    tenantId: string,
    channel: string,
    listener: MessageListener<T>,
  ): Promise<Subscription> {
    assertName(tenantId, 'tenantId');
    assertName(channel, 'channel');
    assertFunction(listener, 'listener');
    const context = `pub/sub message on "${channel}" of tenant "${tenantId}" dropped`;
    let active = true;
    const deliver = (payload: string) => {
      // The transport may still hand over a message after unsubscribe; the caller must not see it.
      if (!active) return;
      // A listener's failure must not break the shared subscriber connection or other listeners.
      try {
        const delivered = listener(JSON.parse(payload) as T);
        if (delivered instanceof Promise) delivered.catch((error: Error) => this.#report(error, context));
      } catch (error) {
        this.#report(error as Error, context);
      }
    };
    const remove = await this.#transport.subscribe(scopedChannel(tenantId, channel), deliver);
    return {
      tenantId,
      channel,
      unsubscribe: async () => {
        if (!active) return;
        active = false;
        await remove();
      },
    };
  }
}
