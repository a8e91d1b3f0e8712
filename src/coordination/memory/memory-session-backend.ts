import type { SessionBackend, SessionRecord } from '../sessions.ts';
import { ExpiringMap } from './expiring-map.ts';

export class MemorySessionBackend implements SessionBackend {
  readonly #sessions = new ExpiringMap<SessionRecord>((id, record) => this.#unindex(id, record.userId));
  readonly #idsByUser = new Map<string, Set<string>>();

  async create(id: string, userId: string, data: string, ttlMs: number): Promise<SessionRecord> {
    const now = Date.now();
    const record = { userId, data, createdAt: now, expiresAt: now + ttlMs, ttlMs };
    this.#sessions.set(id, record, record.expiresAt);
    let ids = this.#idsByUser.get(userId);
    if (!ids) {
      ids = new Set();
      this.#idsByUser.set(userId, ids);
    }
    ids.add(id);
    return record;
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    return this.#sessions.get(id);
  }

  async touch(id: string, ttlMs: number | undefined): Promise<SessionRecord | undefined> {
    const record = this.#sessions.get(id);
    if (!record) return undefined;
    const touched = { ...record, expiresAt: Date.now() + (ttlMs ?? record.ttlMs) };
    this.#sessions.set(id, touched, touched.expiresAt);
    return touched;
  }

  async destroy(id: string): Promise<boolean> {
    const record = this.#sessions.get(id);
    if (!record) return false;
    this.#sessions.delete(id);
    this.#unindex(id, record.userId);
    return true;
  }

  async listForUser(userId: string): Promise<Array<[string, SessionRecord]>> {
    const live: Array<[string, SessionRecord]> = [];
    for (const id of this.#idsByUser.get(userId) ?? []) {
      const record = this.#sessions.get(id);
      if (record) live.push([id, record]);
    }
    return live;
  }

  async destroyAllForUser(userId: string): Promise<number> {
    let destroyed = 0;
    for (const id of this.#idsByUser.get(userId) ?? []) {
      if (this.#sessions.delete(id)) destroyed += 1;
    }
    this.#idsByUser.delete(userId);
    return destroyed;
  }

  #unindex(id: string, userId: string): void {
    const ids = this.#idsByUser.get(userId);
    ids?.delete(id);
    if (ids?.size === 0) this.#idsByUser.delete(userId);
  }
}
