import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DatabaseError,
  ForbiddenError,
  NotFoundError,
  type RecordPatternInput,
  ValidationError,
} from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, ownerCount } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';
import { createKnowledgeTenant, type KnowledgeFixture } from './knowledge-fixtures.ts';

const sighting: RecordPatternInput = {
  patternType: 'recurring_error',
  agentType: 'backend_dev',
  key: 'Missing null check on optional relation',
  description: 'The agent dereferences an optional relation without checking it.',
  example: { file: 'src/users.ts', line: 42 },
};

/** The fingerprint as migration 18 defines it, computed independently. */
function fingerprint(type: string, agentType: string | null, key: string): string {
  const normalised = key.replace(/\s+/g, ' ').trim().toLowerCase();
  return createHash('sha256')
    .update(`${type}\n${agentType ?? ''}\n${normalised}`, 'utf8')
    .digest('hex');
}

describeEachEngine('patterns', (h) => {
  let f: KnowledgeFixture;
  let other: KnowledgeFixture;
  const patternsOf = (tenantId: string) => ownerCount(h, 'patterns WHERE tenant_id = $1', [tenantId]);

  beforeAll(async () => {
    f = await createKnowledgeTenant(h);
    other = await createKnowledgeTenant(h);
  });

  it('records a new pattern once, then counts the same one again and moves last_seen', async () => {
    const first = await f.asAgentDo((tx) => tx.patterns.record(sighting));
    expect(first).toMatchObject({
      patternType: 'recurring_error',
      agentType: 'backend_dev',
      frequency: 1,
      fingerprint: fingerprint('recurring_error', 'backend_dev', sighting.key),
    });
    expect(first.lastSeen).toEqual(first.firstSeen);
    // Same pattern: case and whitespace of the key do not matter; the first description stays.
    const again = await f.asAgentDo((tx) =>
      tx.patterns.record({
        ...sighting,
        key: '  missing NULL check\ton   optional relation ',
        description: 'Said differently',
        example: { file: 'src/tasks.ts', line: 7 },
      }),
    );
    expect(again).toMatchObject({
      id: first.id,
      frequency: 2,
      description: sighting.description,
      example: { file: 'src/tasks.ts', line: 7 },
      firstSeen: first.firstSeen,
    });
    expect(again.lastSeen.getTime()).toBeGreaterThanOrEqual(first.lastSeen.getTime());
    // Without an example the last one stays.
    const third = await f.asAgentDo((tx) => tx.patterns.record({ ...sighting, example: null }));
    expect(third).toMatchObject({ frequency: 3, example: { file: 'src/tasks.ts', line: 7 } });
    // Another agent type, another type, or no agent type: other patterns.
    const others = await f.asAgentDo(async (tx) => [
      await tx.patterns.record({ ...sighting, agentType: 'frontend_dev' }),
      await tx.patterns.record({ ...sighting, patternType: 'success' }),
      await tx.patterns.record({ ...sighting, agentType: null }),
    ]);
    expect(new Set([first.id, ...others.map((p) => p.id)]).size).toBe(4);
    expect(others[2]!.fingerprint).toBe(fingerprint('recurring_error', null, sighting.key));
    expect(await f.asUser((tx) => tx.patterns.get(first.id))).toEqual(third);
    // Another tenant's same pattern is its own.
    const theirs = await other.asAgentDo((tx) => tx.patterns.record(sighting));
    expect(theirs).toMatchObject({ frequency: 1, fingerprint: first.fingerprint });
    await expect(other.asUser((tx) => tx.patterns.get(first.id))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses bad input with a typed error and writes nothing', async () => {
    const before = await patternsOf(f.tenant.id);
    const bad: Array<[string, unknown]> = [
      ['type with spaces', { ...sighting, patternType: 'Recurring Error' }],
      ['blank key', { ...sighting, key: ' \t ' }],
      ['key too long', { ...sighting, key: 'k'.repeat(501) }],
      ['blank description', { ...sighting, description: '' }],
      ['unknown agent type', { ...sighting, agentType: 'intern' }],
      ['example not an object', { ...sighting, example: [1, 2] }],
      ['frequency given', { ...sighting, frequency: 10 }],
      ['fingerprint given', { ...sighting, fingerprint: 'x' }],
    ];
    for (const [label, input] of bad) {
      const error = await caught(f.asAgentDo((tx) => tx.patterns.record(input as RecordPatternInput)));
      expect(error, label).toBeInstanceOf(ValidationError);
    }
    expect(await patternsOf(f.tenant.id)).toBe(before);
  });

  it('keeps the counts the database’s, raw SQL as agentflow_app included', async () => {
    const pattern = await f.asAgentDo((tx) =>
      tx.patterns.record({ ...sighting, key: 'counts are the database’s' }),
    );
    await f.asAgentDo((tx) => tx.patterns.record({ ...sighting, key: 'counts are the database’s' }));
    for (const statement of [
      'UPDATE patterns SET frequency = 1 WHERE id = $1',
      "UPDATE patterns SET last_seen = last_seen - interval '1 day' WHERE id = $1",
      "UPDATE patterns SET first_seen = first_seen - interval '1 day' WHERE id = $1",
      "UPDATE patterns SET pattern_key = 'something else' WHERE id = $1",
      "UPDATE patterns SET agent_type = 'tester' WHERE id = $1",
    ]) {
      await expect(
        f.asAgentDo((tx) => tx.query(statement, [pattern.id])),
        statement,
      ).rejects.toBeInstanceOf(ForbiddenError);
    }
    // A fingerprint is computed, never written (a generated column: SQLSTATE 428C9).
    const written = await caught(
      f.asAgentDo((tx) => tx.query("UPDATE patterns SET fingerprint = 'x' WHERE id = $1", [pattern.id])),
    );
    expect(written).toBeInstanceOf(DatabaseError);
    expect((written as DatabaseError).sqlState).toBe('428C9');
    // An insert is a first sighting whatever it says.
    const [forged] = await f.asAgentDo((tx) =>
      tx.query<{ frequency: number; first_is_now: boolean }>(
        `INSERT INTO patterns (pattern_type, pattern_key, description, frequency, first_seen, last_seen)
         VALUES ('forged', 'k', 'd', 1000, now() - interval '1 year', now() + interval '1 year')
         RETURNING frequency, first_seen = now() AND last_seen = now() AS first_is_now`,
      ),
    );
    expect(forged).toEqual({ frequency: 1, first_is_now: true });
    expect((await f.asUser((tx) => tx.patterns.get(pattern.id))).frequency).toBe(2);
  });

  describe('list', () => {
    it('pages most frequent first, ties by id, filtered by type and agent type', async () => {
      const g = await createKnowledgeTenant(h);
      await g.asAgentDo(async (tx) => {
        for (let i = 0; i < 5; i++)
          for (let n = 0; n <= i % 3; n++)
            await tx.patterns.record({
              ...sighting,
              key: `pattern ${i}`,
              agentType: i < 2 ? 'tester' : 'reviewer',
            });
      });
      const pages = await allPages(2, (page) => g.asUser((tx) => tx.patterns.list(page)));
      const all = pages.flat();
      expect(all.map((p) => [p.patternKey, p.frequency])).toHaveLength(5);
      expect(all.map((p) => p.frequency)).toEqual([3, 2, 2, 1, 1]);
      for (let i = 1; i < all.length; i++)
        if (all[i - 1]!.frequency === all[i]!.frequency) expect(all[i - 1]!.id > all[i]!.id).toBe(true);
      expect((await g.asUser((tx) => tx.patterns.list({ agentType: 'tester' }))).items).toHaveLength(2);
      expect((await g.asUser((tx) => tx.patterns.list({ patternType: 'success' }))).items).toEqual([]);
      await expect(g.asUser((tx) => tx.patterns.list({ cursor: 'x' }))).rejects.toBeInstanceOf(
        ValidationError,
      );
    });
  });
});

describeEachEngine(
  'patterns under concurrency',
  (h) => {
    it('counts every one of 60 concurrent sightings of a new pattern', async () => {
      // All 60 race to insert the same new fingerprint: one inserts, the others meet the unique
      // index and take the ON CONFLICT update, which waits for the row and adds to its committed count.
      const f = await createKnowledgeTenant(h);
      const store = await h.openAnother({ postgres: { max: 20 } });
      const rows = await Promise.all(
        Array.from({ length: 60 }, () =>
          store.withTenant(f.asAgent, (tx) => tx.patterns.record({ ...sighting, key: 'raced pattern' })),
        ),
      );
      expect(new Set(rows.map((r) => r.id)).size).toBe(1);
      expect(rows.map((r) => r.frequency).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 60 }, (_, i) => i + 1),
      );
      const [stored] = await h.asOwner((c) =>
        c.query<{ frequency: number; n: number }>(
          'SELECT max(frequency) AS frequency, count(*)::int AS n FROM patterns WHERE tenant_id = $1',
          [f.tenant.id],
        ),
      );
      expect(stored).toEqual({ frequency: 60, n: 1 });
    });
  },
  'server',
);
