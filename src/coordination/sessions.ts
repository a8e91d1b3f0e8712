import { createHash, randomBytes } from 'node:crypto';
import { assertName, assertPositiveInteger, encodeJson } from './validation.ts';

export interface Session<T = unknown> {
  /**
   * Public id of the session: a SHA-256 of its token. Safe to list and log; it cannot be used to
   * authenticate. The store only ever sees this id, so a dump of Redis yields no usable token.
   */
  id: string;
  userId: string;
  data: T;
  createdAt: Date;
  expiresAt: Date;
  /** The rolling TTL: every touch moves expiresAt to now + ttlMs (unless told otherwise). */
  ttlMs: number;
}

export interface CreatedSession<T = unknown> extends Session<T> {
  /** The bearer secret (256 random bits) to hand to the client. Returned once, never stored. */
  token: string;
}

/**
 * Login sessions with a rolling TTL, indexed by user so that "log out everywhere" works. When
 * the store is unreachable every method throws CoordinationUnavailableError: nobody is
 * authenticated by a store that cannot be asked (fail closed).
 */
export interface SessionStore {
  create<T>(userId: string, data: T, options?: { ttlMs?: number }): Promise<CreatedSession<T>>;
  /** The live session of a token, or undefined (unknown, destroyed or expired). */
  get<T = unknown>(token: string): Promise<Session<T> | undefined>;
  /** Extends a live session to now + ttlMs (default: its own TTL); undefined if it is gone. */
  touch<T = unknown>(token: string, options?: { ttlMs?: number }): Promise<Session<T> | undefined>;
  /** True when a live session was destroyed. */
  destroy(token: string): Promise<boolean>;
  listForUser<T = unknown>(userId: string): Promise<Session<T>[]>;
  /** Destroys every session of the user; returns how many there were. */
  destroyAllForUser(userId: string): Promise<number>;
}

/** A session as an adapter keeps it: data as JSON, times in epoch milliseconds. */
export interface SessionRecord {
  userId: string;
  data: string;
  createdAt: number;
  expiresAt: number;
  ttlMs: number;
}

/** An adapter's session storage, keyed by session id (never by token). */
export interface SessionBackend {
  create(id: string, userId: string, data: string, ttlMs: number): Promise<SessionRecord>;
  get(id: string): Promise<SessionRecord | undefined>;
  /** ttlMs undefined: the session's own TTL. */
  touch(id: string, ttlMs: number | undefined): Promise<SessionRecord | undefined>;
  destroy(id: string): Promise<boolean>;
  listForUser(userId: string): Promise<Array<[id: string, record: SessionRecord]>>;
  destroyAllForUser(userId: string): Promise<number>;
}

export const DEFAULT_SESSION_TTL_MS = 24 * 60 * 60 * 1000;

function sessionId(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

function toSession<T>(id: string, record: SessionRecord): Session<T> {
  return {
    id,
    userId: record.userId,
    data: JSON.parse(record.data) as T,
    createdAt: new Date(record.createdAt),
    expiresAt: new Date(record.expiresAt),
    ttlMs: record.ttlMs,
  };
}

function optionalTtl(options: { ttlMs?: number } | undefined): number | undefined {
  const ttlMs = options?.ttlMs;
  if (ttlMs !== undefined) assertPositiveInteger(ttlMs, 'ttlMs');
  return ttlMs;
}

export class CoordinationSessionStore implements SessionStore {
  readonly #backend: SessionBackend;
  readonly #defaultTtlMs: number;

  constructor(backend: SessionBackend, defaultTtlMs: number) {
    this.#backend = backend;
    this.#defaultTtlMs = defaultTtlMs;
  }

  async create<T>(userId: string, data: T, options?: { ttlMs?: number }): Promise<CreatedSession<T>> {
    assertName(userId, 'userId');
    const ttlMs = optionalTtl(options) ?? this.#defaultTtlMs;
    const json = encodeJson(data, 'data');
    const token = randomBytes(32).toString('base64url');
    const id = sessionId(token);
    const record = await this.#backend.create(id, userId, json, ttlMs);
    return { ...toSession<T>(id, record), token };
  }

  async get<T = unknown>(token: string): Promise<Session<T> | undefined> {
    assertName(token, 'token');
    const id = sessionId(token);
    const record = await this.#backend.get(id);
    return record && toSession<T>(id, record);
  }

  async touch<T = unknown>(token: string, options?: { ttlMs?: number }): Promise<Session<T> | undefined> {
    assertName(token, 'token');
    const ttlMs = optionalTtl(options);
    const id = sessionId(token);
    const record = await this.#backend.touch(id, ttlMs);
    return record && toSession<T>(id, record);
  }

  async destroy(token: string): Promise<boolean> {
    assertName(token, 'token');
    return this.#backend.destroy(sessionId(token));
  }

  async listForUser<T = unknown>(userId: string): Promise<Session<T>[]> {
    assertName(userId, 'userId');
    const entries = await this.#backend.listForUser(userId);
    return entries
      .map(([id, record]) => toSession<T>(id, record))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async destroyAllForUser(userId: string): Promise<number> {
    assertName(userId, 'userId');
    return this.#backend.destroyAllForUser(userId);
  }
}
