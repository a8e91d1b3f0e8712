import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import {
  ForbiddenError,
  NotFoundError,
  type TaskCheckpoint,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, ownerCount } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';
import { createNotesTenant, type NotesFixture } from './task-notes-fixtures.ts';

describeEachEngine('task checkpoints', (h) => {
  let f: NotesFixture;
  let other: NotesFixture;
  const asUser = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);
  const asAgent = <T>(agentId: string, work: (tx: TenantTx) => Promise<T>) =>
    h.store.withTenant(f.asAgent(agentId), work);
  const checkpointsOf = (task: string) => ownerCount(h, 'task_checkpoints WHERE task_id = $1', [task]);
  const fingerprint = async (task: string) =>
    JSON.stringify(
      await h.asOwner((c) =>
        c.query('SELECT * FROM task_checkpoints WHERE task_id = $1 ORDER BY sequence', [task]),
      ),
    );

  beforeAll(async () => {
    f = await createNotesTenant(h);
    other = await createNotesTenant(h);
  });

  it('numbers checkpoints 1, 2, 3 per task, each after the previous head; fetch any, the latest, the history', async () => {
    const task = await f.task();
    await expect(asUser((tx) => tx.taskCheckpoints.latest(task))).rejects.toBeInstanceOf(NotFoundError);
    const made: TaskCheckpoint[] = [];
    for (const step of ['analysis', 'design', 'code'])
      made.push(
        await asAgent(f.dev, (tx) => tx.taskCheckpoints.create(task, { state: { step }, label: step })),
      );
    expect(made.map((c) => [c.sequence, c.parentId, c.restoredFromId, c.label])).toEqual([
      [1, null, null, 'analysis'],
      [2, made[0]!.id, null, 'design'],
      [3, made[1]!.id, null, 'code'],
    ]);
    // Another task numbers from 1 again.
    const second = await f.task();
    expect((await asUser((tx) => tx.taskCheckpoints.create(second, { state: {} }))).sequence).toBe(1);
    expect(await asUser((tx) => tx.taskCheckpoints.latest(task))).toEqual(made[2]);
    expect(await asUser((tx) => tx.taskCheckpoints.get(made[0]!.id))).toEqual(made[0]);
    const pages = await allPages(2, (page) => asUser((tx) => tx.taskCheckpoints.list(task, page)));
    expect(pages.flat()).toEqual(made);
  });

  it('restores by appending a checkpoint with the restored state; history is never rewritten', async () => {
    const task = await f.task();
    const [first, second] = await asAgent(f.dev, async (tx) => [
      await tx.taskCheckpoints.create(task, { state: { files: ['a.ts'], progress: 10 } }),
      await tx.taskCheckpoints.create(task, { state: { files: ['a.ts', 'b.ts'], progress: 60 } }),
    ]);
    const history = await fingerprint(task);
    const restored = await asAgent(f.dev, (tx) =>
      tx.taskCheckpoints.restore(task, first!.id, { label: 'back to the start' }),
    );
    expect(restored).toMatchObject({
      taskId: task,
      sequence: 3,
      state: first!.state,
      parentId: second!.id,
      restoredFromId: first!.id,
      label: 'back to the start',
    });
    // A restore of a restore, and a checkpoint after it, carry on the chain.
    const again = await asUser((tx) => tx.taskCheckpoints.restore(task, second!.id));
    expect(again).toMatchObject({
      sequence: 4,
      parentId: restored.id,
      restoredFromId: second!.id,
      state: second!.state,
    });
    expect((await fingerprint(task)).startsWith(history.slice(0, -1))).toBe(true);
    expect(await asUser((tx) => tx.taskCheckpoints.latest(task))).toEqual(again);

    // Raw SQL gets the database's numbering, parent, state of the restored one and time.
    const [raw] = await asAgent(f.dev, (tx) =>
      tx.query<{ sequence: number; parent_id: string; state: unknown; created_at: Date }>(
        `INSERT INTO task_checkpoints (task_id, sequence, parent_id, restored_from_id, state, created_at)
         VALUES ($1, 99, $2, $3, '{"forged": true}', '2000-01-01') RETURNING sequence, parent_id, state, created_at`,
        [task, first!.id, first!.id],
      ),
    );
    expect(raw).toMatchObject({ sequence: 5, parent_id: again.id, state: first!.state });
    expect(Math.abs(new Date(raw!.created_at).getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('refuses a restore of another task’s checkpoint, by the repository and raw SQL, writing nothing', async () => {
    const [task, otherTask] = [await f.task(), await f.task()];
    const mine = await asUser((tx) => tx.taskCheckpoints.create(task, { state: { mine: true } }));
    const notMine = await asUser((tx) => tx.taskCheckpoints.create(otherTask, { state: { mine: false } }));
    const theirTask = await other.task();
    const theirs = await h.store.withTenant(other.context, (tx) =>
      tx.taskCheckpoints.create(theirTask, { state: {} }),
    );
    for (const [label, source] of [
      ['another task', notMine.id],
      ['another tenant', theirs.id],
      ['none', randomUUID()],
    ] as const) {
      const error = await caught(asUser((tx) => tx.taskCheckpoints.restore(task, source)));
      expect(error, label).toBeInstanceOf(NotFoundError);
      expect(error, label).toMatchObject({ entity: 'task checkpoint', key: source });
      const raw = await caught(
        asUser((tx) =>
          tx.query(
            `INSERT INTO task_checkpoints (task_id, sequence, state, restored_from_id) VALUES ($1, 1, '{}', $2)`,
            [task, source],
          ),
        ),
      );
      expect(raw, `${label} (raw)`).toBeInstanceOf(NotFoundError);
    }
    expect(await checkpointsOf(task)).toBe(1);
    expect(await asUser((tx) => tx.taskCheckpoints.latest(task))).toEqual(mine);
    // The task named must be the checkpoint's: its own task elsewhere is not found either.
    await expect(asUser((tx) => tx.taskCheckpoints.restore(otherTask, mine.id))).rejects.toBeInstanceOf(
      NotFoundError,
    );
    expect(await checkpointsOf(otherTask)).toBe(1);
  });

  it('keeps checkpoints immutable: UPDATE and DELETE are refused to the app and service roles', async () => {
    const task = await f.task();
    const checkpoint = await asUser((tx) => tx.taskCheckpoints.create(task, { state: { v: 1 } }));
    await asUser((tx) => tx.taskCheckpoints.create(task, { state: { v: 2 } }));
    const before = await fingerprint(task);
    for (const statement of [
      `UPDATE task_checkpoints SET state = '{"v": 9}' WHERE id = $1`,
      `UPDATE task_checkpoints SET sequence = 7 WHERE id = $1`,
      'DELETE FROM task_checkpoints WHERE id = $1',
    ]) {
      const asApp = await caught(asAgent(f.dev, (tx) => tx.query(statement, [checkpoint.id])));
      expect(asApp, statement).toBeInstanceOf(ForbiddenError);
      const asService = await caught(
        h.store.asService({ actor: 'test' }, (svc) => svc.query(statement, [checkpoint.id])),
      );
      expect(asService, `${statement} (service)`).toBeInstanceOf(ForbiddenError);
    }
    expect(await fingerprint(task)).toBe(before);
    // The removal of its task (a purge, by cascade as the owner) takes its checkpoints along.
    await h.asOwner((c) => c.query('DELETE FROM tasks WHERE id = $1', [task]));
    expect(await checkpointsOf(task)).toBe(0);
  });

  it('answers bad input with a ValidationError or NotFoundError and writes nothing', async () => {
    const task = await f.task();
    await asUser((tx) => tx.taskCheckpoints.create(task, { state: { ok: true } }));
    const before = await ownerCount(h, 'task_checkpoints');
    const invalid: Array<[string, unknown]> = [
      ['state an array', { state: [] }],
      ['state text', { state: 'running' }],
      ['no state', {}],
      ['empty label', { state: {}, label: '' }],
      ['label too long', { state: {}, label: 'x'.repeat(201) }],
      ['sequence given', { state: {}, sequence: 2 }],
      ['NaN in the state', { state: { progress: Number.NaN } }],
    ];
    for (const [label, input] of invalid) {
      const error = await caught(asUser((tx) => tx.taskCheckpoints.create(task, input as never)));
      expect(error, label).toBeInstanceOf(ValidationError);
    }
    const raw = await caught(
      asUser((tx) =>
        tx.query(`INSERT INTO task_checkpoints (task_id, sequence, state) VALUES ($1, 1, '[]')`, [task]),
      ),
    );
    expect(raw).toBeInstanceOf(ValidationError);
    const deleted = await f.task();
    await asUser((tx) => tx.query('UPDATE tasks SET deleted_at = now() WHERE id = $1', [deleted]));
    for (const [label, target] of [
      ['unknown task', randomUUID()],
      ['another tenant’s task', await other.task()],
      ['deleted task', deleted],
    ] as const) {
      const error = await caught(asUser((tx) => tx.taskCheckpoints.create(target, { state: {} })));
      expect(error, label).toMatchObject({ code: 'not_found', entity: 'task' });
    }
    await expect(asUser((tx) => tx.taskCheckpoints.create('T-1', { state: {} }))).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(asUser((tx) => tx.taskCheckpoints.restore(task, 'C-1'))).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(asUser((tx) => tx.taskCheckpoints.get(randomUUID()))).rejects.toBeInstanceOf(NotFoundError);
    await expect(asUser((tx) => tx.taskCheckpoints.list(task, { limit: 0 }))).rejects.toBeInstanceOf(
      ValidationError,
    );
    expect(await ownerCount(h, 'task_checkpoints')).toBe(before);
  });

  it.runIf(h.kind === 'postgres')(
    'numbers concurrent checkpoints of one task without a gap or a fork (server)',
    async () => {
      const task = await f.task();
      const writers = [f.dev, f.lead, f.reviewer];
      const made = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          asAgent(writers[i % writers.length]!, (tx) => tx.taskCheckpoints.create(task, { state: { i } })),
        ),
      );
      const bySequence = [...made].sort((a, b) => a.sequence - b.sequence);
      expect(bySequence.map((c) => c.sequence)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
      // One chain: each checkpoint follows the one numbered before it.
      expect(bySequence.map((c) => c.parentId)).toEqual([null, ...bySequence.slice(0, -1).map((c) => c.id)]);
    },
  );
});
