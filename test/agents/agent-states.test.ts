import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import {
  type AgentState,
  ConflictError,
  NotFoundError,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createTenant, type TenantFixture } from '../harness/fixtures.ts';

/**
 * Resolves once `parties` callers wait on it. On the server both transactions then hold their read
 * before either writes; PGlite serialises transactions, so there it must not wait at all.
 */
function barrier(parties: number, enabled: boolean): () => Promise<void> {
  let arrived = 0;
  let release: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    release = resolve;
  });
  return async () => {
    if (!enabled) return;
    arrived += 1;
    if (arrived === parties) release();
    await all;
  };
}

async function stateRows(h: EngineHarness, projectId: string) {
  return h.asOwner((c) =>
    c.query<{ state: Record<string, unknown>; version: number }>(
      'SELECT state, version FROM agent_states WHERE project_id = $1',
      [projectId],
    ),
  );
}

describeEachEngine('agent states', (h) => {
  let f: TenantFixture;
  const inTenant = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);
  let slugCounter = 0;
  const newProject = async () =>
    (await inTenant((tx) => tx.projects.create({ slug: `state-${++slugCounter}`, name: 'State' }))).id;

  beforeAll(async () => {
    f = await createTenant(h.store);
  });

  it('creates version 1 with expectedVersion null, then refuses a second creation', async () => {
    const projectId = await newProject();
    await expect(inTenant((tx) => tx.agentStates.get(projectId))).rejects.toBeInstanceOf(NotFoundError);
    const created = await inTenant((tx) =>
      tx.agentStates.save({ projectId, state: { step: 1 }, expectedVersion: null }),
    );
    expect(created).toMatchObject({ tenantId: f.tenant.id, projectId, state: { step: 1 }, version: 1 });

    await inTenant(async (tx) => {
      const error = await caught(
        tx.agentStates.save({ projectId, state: { step: 'again' }, expectedVersion: null }),
      );
      expect(error).toBeInstanceOf(ConflictError);
      expect((error as Error).message).toContain('version 1');
    });
    expect(await stateRows(h, projectId)).toEqual([{ state: { step: 1 }, version: 1 }]);
  });

  it('bumps the version on a save with the right version, and refuses a stale one', async () => {
    const projectId = await newProject();
    await inTenant((tx) => tx.agentStates.save({ projectId, state: { step: 1 }, expectedVersion: null }));
    const v2 = await inTenant((tx) =>
      tx.agentStates.save({ projectId, state: { step: 2 }, expectedVersion: 1 }),
    );
    expect(v2.version).toBe(2);
    const v3 = await inTenant((tx) =>
      tx.agentStates.save({ projectId, state: { step: 3 }, expectedVersion: 2 }),
    );
    expect(v3).toMatchObject({ version: 3, state: { step: 3 } });
    expect(v3.updatedAt.getTime()).toBeGreaterThan(v2.updatedAt.getTime());

    for (const stale of [1, 2, 4]) {
      await inTenant(async (tx) => {
        await expect(
          tx.agentStates.save({ projectId, state: { step: `stale ${stale}` }, expectedVersion: stale }),
        ).rejects.toBeInstanceOf(ConflictError);
      });
    }
    expect(await stateRows(h, projectId)).toEqual([{ state: { step: 3 }, version: 3 }]);
    expect(await inTenant((tx) => tx.agentStates.get(projectId))).toMatchObject({
      version: 3,
      state: { step: 3 },
    });
  });

  it('reports a versioned save without any state, or for an unknown or deleted project, as not found', async () => {
    const projectId = await newProject();
    await expect(
      inTenant((tx) => tx.agentStates.save({ projectId, state: {}, expectedVersion: 1 })),
    ).rejects.toBeInstanceOf(NotFoundError);
    await expect(
      inTenant((tx) => tx.agentStates.save({ projectId: randomUUID(), state: {}, expectedVersion: null })),
    ).rejects.toBeInstanceOf(NotFoundError);
    await inTenant((tx) => tx.projects.delete(projectId));
    await expect(
      inTenant((tx) => tx.agentStates.save({ projectId, state: {}, expectedVersion: null })),
    ).rejects.toBeInstanceOf(NotFoundError);
    expect(await stateRows(h, projectId)).toEqual([]);
  });

  it('refuses a malformed save', async () => {
    const projectId = await newProject();
    for (const bad of [
      { projectId, state: { a: 1 }, expectedVersion: 0 },
      { projectId, state: { a: 1 }, expectedVersion: 1.5 },
      { projectId, state: { a: 1 } },
      { projectId, state: ['array'], expectedVersion: null },
      { projectId, state: { a: 1 }, expectedVersion: null, version: 7 },
    ]) {
      const error = await caught(inTenant((tx) => tx.agentStates.save(bad as never)));
      expect(error, JSON.stringify(bad)).toBeInstanceOf(ValidationError);
    }
    expect(await stateRows(h, projectId)).toEqual([]);
  });

  it('lets exactly one of two concurrent first writers win', async () => {
    for (let round = 0; round < 5; round++) {
      const projectId = await newProject();
      const outcomes = await Promise.allSettled(
        ['left', 'right'].map((writer) =>
          inTenant((tx) => tx.agentStates.save({ projectId, state: { writer }, expectedVersion: null })),
        ),
      );
      const winners = outcomes.filter(
        (o): o is PromiseFulfilledResult<AgentState> => o.status === 'fulfilled',
      );
      const losers = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(losers[0]?.reason, `round ${round}`).toBeInstanceOf(ConflictError);
      expect(await stateRows(h, projectId)).toEqual([{ state: winners[0]!.value.state, version: 1 }]);
    }
  });

  it('lets exactly one of two concurrent writers of the same version win', async () => {
    const projectId = await newProject();
    await inTenant((tx) => tx.agentStates.save({ projectId, state: { n: 0 }, expectedVersion: null }));
    for (let round = 0; round < 5; round++) {
      // Both writers read the same version, then race to write.
      const { version } = await inTenant((tx) => tx.agentStates.get(projectId));
      const bothHaveRead = barrier(2, h.kind === 'postgres');
      const outcomes = await Promise.allSettled(
        ['left', 'right'].map((writer) =>
          inTenant(async (tx) => {
            const current = await tx.agentStates.get(projectId);
            expect(current.version).toBeGreaterThanOrEqual(version);
            await bothHaveRead();
            return tx.agentStates.save({ projectId, state: { writer, round }, expectedVersion: version });
          }),
        ),
      );
      const winners = outcomes.filter(
        (o): o is PromiseFulfilledResult<AgentState> => o.status === 'fulfilled',
      );
      const losers = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
      expect(winners, `round ${round}`).toHaveLength(1);
      expect(losers[0]?.reason, `round ${round}`).toBeInstanceOf(ConflictError);
      expect(winners[0]!.value.version).toBe(version + 1);
      expect(await stateRows(h, projectId)).toEqual([
        { state: winners[0]!.value.state, version: version + 1 },
      ]);
    }
  });
});
