import type { SessionBackend, SessionRecord } from '../sessions.ts';
import type { RedisConnection } from './redis-connection.ts';
import { rethrowUnavailable } from './unavailable.ts';

const createFailed = rethrowUnavailable('session create script');
const getFailed = rethrowUnavailable('HMGET');
const touchFailed = rethrowUnavailable('session touch script');
const destroyFailed = rethrowUnavailable('session destroy script');
const listFailed = rethrowUnavailable('session list script');
const destroyAllFailed = rethrowUnavailable('session destroy-all script');

const FIELDS = ['u', 'd', 'c', 'x', 't'];
const FIELD_COUNT = FIELDS.length;

function toRecord(fields: readonly (string | null)[]): SessionRecord | undefined {
  const [userId, data, createdAt, expiresAt, ttlMs] = fields;
  if (userId == null || data == null) return undefined;
  return { userId, data, createdAt: Number(createdAt), expiresAt: Number(expiresAt), ttlMs: Number(ttlMs) };
}

function required(fields: readonly (string | null)[]): SessionRecord {
  const record = toRecord(fields);
  if (!record) throw new Error('session create script returned no session');
  return record;
}

export class RedisSessionBackend implements SessionBackend {
  readonly #connection: RedisConnection;
  readonly #prefix: string;
  readonly #userPrefix: string;

  constructor(connection: RedisConnection, prefix: string, userPrefix: string) {
    this.#connection = connection;
    this.#prefix = prefix;
    this.#userPrefix = userPrefix;
  }

  async create(id: string, userId: string, data: string, ttlMs: number): Promise<SessionRecord> {
    const client = this.#connection.client;
    const fields = await client
      .sessionCreate(this.#prefix + id, this.#userPrefix + userId, { userId, data, ttlMs, id })
      .catch(createFailed);
    return required(fields);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    return toRecord(await this.#connection.client.hmGet(this.#prefix + id, FIELDS).catch(getFailed));
  }

  async touch(id: string, ttlMs: number | undefined): Promise<SessionRecord | undefined> {
    const client = this.#connection.client;
    const fields = await client
      .sessionTouch(this.#prefix + id, this.#userPrefix, id, ttlMs)
      .catch(touchFailed);
    return fields ? toRecord(fields) : undefined;
  }

  async destroy(id: string): Promise<boolean> {
    const client = this.#connection.client;
    return (await client.sessionDestroy(this.#prefix + id, this.#userPrefix, id).catch(destroyFailed)) === 1;
  }

  async listForUser(userId: string): Promise<Array<[string, SessionRecord]>> {
    const client = this.#connection.client;
    const flat = await client.sessionList(this.#userPrefix + userId, this.#prefix).catch(listFailed);
    const sessions: Array<[string, SessionRecord]> = [];
    for (let i = 0; i < flat.length; i += 1 + FIELD_COUNT) {
      const record = toRecord(flat.slice(i + 1, i + 1 + FIELD_COUNT));
      if (record) sessions.push([flat[i] as string, record]);
    }
    return sessions;
  }

  async destroyAllForUser(userId: string): Promise<number> {
    const client = this.#connection.client;
    return client.sessionDestroyAll(this.#userPrefix + userId, this.#prefix).catch(destroyAllFailed);
  }
}
