import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import {
  ForbiddenError,
  NotFoundError,
  TASK_ATTACHMENT_MAX_BYTES,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, ownerCount } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';
import { createNotesTenant, feedOf, type NotesFixture } from './task-notes-fixtures.ts';

const SHA = 'a'.repeat(64);
const png = { storagePath: 'tenants/x/shots/login.png', sizeBytes: 2048, contentType: 'image/png' };

describeEachEngine('task attachments', (h) => {
  let f: NotesFixture;
  let other: NotesFixture;
  let taskId: string;
  const asUser = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);
  const asAgent = <T>(agentId: string, work: (tx: TenantTx) => Promise<T>) =>
    h.store.withTenant(f.asAgent(agentId), work);

  /** Evidence of the fixture's project (of `task` when given), recorded by the owner: its id. */
  const evidenceOf = async (fixture: NotesFixture, task?: string) =>
    (
      await h.store.withTenant(fixture.context, (tx) =>
        tx.evidence.create({
          projectId: fixture.projectId,
          taskId: task,
          sourceType: 'log',
          title: 'Crash log',
          content: 'segfault at 0x0',
        }),
      )
    ).id;

  beforeAll(async () => {
    f = await createNotesTenant(h);
    other = await createNotesTenant(h);
    taskId = await f.task('Screenshots');
  });

  it('attaches files as the actor, with an activity entry, and lists them oldest first', async () => {
    const task = await f.task();
    const evidenceId = await evidenceOf(f);
    const byAgent = await asAgent(f.dev, (tx) =>
      tx.taskAttachments.create(task, {
        ...png,
        contentType: 'text/plain; charset=utf-8',
        checksumSha256: SHA,
        evidenceId,
      }),
    );
    expect(byAgent).toMatchObject({
      taskId: task,
      evidenceId,
      uploadedByAgentId: f.dev,
      uploadedByUserId: null,
      sizeBytes: 2048,
      checksumSha256: SHA,
      deletedAt: null,
    });
    const byUser = await asUser((tx) =>
      tx.taskAttachments.create(task, { ...png, sizeBytes: TASK_ATTACHMENT_MAX_BYTES }),
    );
    expect(byUser).toMatchObject({ uploadedByUserId: f.owner.id, sizeBytes: TASK_ATTACHMENT_MAX_BYTES });
    const empty = await asUser((tx) => tx.taskAttachments.create(task, { ...png, sizeBytes: 0 }));
    expect(await feedOf(h, task)).toEqual(
      [byAgent, byUser, empty].map((a) => ({
        kind: 'attachment_added',
        summary: png.storagePath,
        details: {
          id: a.id,
          content_type: a.contentType,
          size_bytes: a.sizeBytes,
          uploaded_by_agent_id: a.uploadedByAgentId,
          uploaded_by_user_id: a.uploadedByUserId,
        },
        is_public: true,
        actor_type: a.uploadedByAgentId ? 'agent' : 'user',
        actor_id: a.uploadedByAgentId ?? f.owner.id,
      })),
    );
    const pages = await allPages(2, (page) => asUser((tx) => tx.taskAttachments.list(task, page)));
    expect(pages.flat().map((a) => a.id)).toEqual([byAgent.id, byUser.id, empty.id]);
    expect(await asAgent(f.lead, (tx) => tx.taskAttachments.get(byUser.id))).toEqual(byUser);
  });

  it('refuses a forged uploader through raw SQL as agentflow_app', async () => {
    const before = await ownerCount(h, 'task_attachments');
    const insert = `INSERT INTO task_attachments (task_id, storage_path, size_bytes, content_type, uploaded_by_agent_id, uploaded_by_user_id)
                    VALUES ($1, 'x', 1, 'text/plain', $2, $3)`;
    for (const [label, attempt] of [
      ['agent as another', () => asAgent(f.dev, (tx) => tx.query(insert, [taskId, f.lead, null]))],
      ['agent as a user', () => asAgent(f.dev, (tx) => tx.query(insert, [taskId, null, f.owner.id]))],
      ['user as an agent', () => asUser((tx) => tx.query(insert, [taskId, f.dev, null]))],
    ] as const) {
      const error = await caught(attempt());
      expect(error, label).toBeInstanceOf(ForbiddenError);
      expect(error, label).toMatchObject({ code: 'permission_denied', entity: 'task attachment' });
    }
    expect(await ownerCount(h, 'task_attachments')).toBe(before);
  });

  it('never changes an attachment but for its evidence link (once) and its deletion, by its uploader or an owner', async () => {
    const [first, second] = await asAgent(f.dev, async (tx) => [
      await tx.taskAttachments.create(taskId, png),
      await tx.taskAttachments.create(taskId, png),
    ]);
    for (const assignment of [
      'size_bytes = 1',
      `storage_path = 'elsewhere'`,
      `uploaded_by_agent_id = '${f.lead}'`,
    ]) {
      const error = await caught(
        asAgent(f.dev, (tx) =>
          tx.query(`UPDATE task_attachments SET ${assignment} WHERE id = $1`, [first!.id]),
        ),
      );
      expect(error, assignment).toBeInstanceOf(ValidationError);
    }
    const [evidence, another] = [await evidenceOf(f), await evidenceOf(f)];
    await asUser((tx) =>
      tx.query('UPDATE task_attachments SET evidence_id = $2 WHERE id = $1', [first!.id, evidence]),
    );
    expect(
      await caught(
        asUser((tx) =>
          tx.query('UPDATE task_attachments SET evidence_id = $2 WHERE id = $1', [first!.id, another]),
        ),
      ),
    ).toBeInstanceOf(ValidationError);

    const refused = await caught(asAgent(f.lead, (tx) => tx.taskAttachments.delete(first!.id)));
    expect(refused).toBeInstanceOf(ForbiddenError);
    expect(refused).toMatchObject({ code: 'not_author', entity: 'task attachment' });
    await asAgent(f.dev, (tx) => tx.taskAttachments.delete(first!.id));
    await asUser((tx) => tx.taskAttachments.delete(second!.id));
    for (const id of [first!.id, second!.id]) {
      await expect(asUser((tx) => tx.taskAttachments.get(id))).rejects.toBeInstanceOf(NotFoundError);
      await expect(asUser((tx) => tx.taskAttachments.delete(id))).rejects.toBeInstanceOf(NotFoundError);
      const raw = await caught(
        asAgent(f.dev, (tx) => tx.query('UPDATE task_attachments SET deleted_at = NULL WHERE id = $1', [id])),
      );
      expect(raw).toMatchObject({ code: 'not_found', entity: 'task attachment', key: id });
    }
    const all = await asUser((tx) => tx.taskAttachments.list(taskId, { includeDeleted: true }));
    expect(all.items.map((a) => a.id)).toEqual(expect.arrayContaining([first!.id, second!.id]));
    expect((await asUser((tx) => tx.taskAttachments.list(taskId))).items.map((a) => a.id)).not.toContain(
      first!.id,
    );
    const [row] = await h.asOwner((c) =>
      c.query('SELECT evidence_id, size_bytes FROM task_attachments WHERE id = $1', [first!.id]),
    );
    // bigint comes back as text from the server, as a number from PGlite.
    expect({ ...row, size_bytes: Number(row!.size_bytes) }).toEqual({
      evidence_id: evidence,
      size_bytes: 2048,
    });
  });

  it('answers bad input with a ValidationError or NotFoundError and writes nothing', async () => {
    const before = await ownerCount(h, 'task_attachments');
    const invalid: Array<[string, unknown]> = [
      ['negative size', { ...png, sizeBytes: -1 }],
      ['size over 10 GiB', { ...png, sizeBytes: TASK_ATTACHMENT_MAX_BYTES + 1 }],
      ['fractional size', { ...png, sizeBytes: 1.5 }],
      ['size as text', { ...png, sizeBytes: '10' }],
      ['no media type', { ...png, contentType: 'png' }],
      ['control character in the media type', { ...png, contentType: 'text/plain;\u001b[31m' }],
      ['checksum in capitals', { ...png, checksumSha256: 'A'.repeat(64) }],
      ['checksum too short', { ...png, checksumSha256: 'abc' }],
      ['empty path', { ...png, storagePath: '' }],
      ['newline in the path', { ...png, storagePath: 'a\nb' }],
      ['evidence not a uuid', { ...png, evidenceId: 'E-1' }],
      ['uploader given', { ...png, uploadedByUserId: f.owner.id }],
      ['missing size', { storagePath: 'a', contentType: 'text/plain' }],
    ];
    for (const [label, input] of invalid) {
      const error = await caught(asUser((tx) => tx.taskAttachments.create(taskId, input as never)));
      expect(error, label).toBeInstanceOf(ValidationError);
    }
    for (const [label, column] of [
      ['negative size (raw)', `-1, 'text/plain'`],
      ['oversize (raw)', `10737418241, 'text/plain'`],
      ['media type (raw)', `1, 'plain'`],
    ] as const) {
      const error = await caught(
        asUser((tx) =>
          tx.query(
            `INSERT INTO task_attachments (task_id, storage_path, size_bytes, content_type) VALUES ($1, 'a', ${column})`,
            [taskId],
          ),
        ),
      );
      expect(error, label).toBeInstanceOf(ValidationError);
    }
    const theirs = await other.task();
    for (const task of [randomUUID(), theirs]) {
      const error = await caught(asUser((tx) => tx.taskAttachments.create(task, png)));
      expect(error).toMatchObject({ code: 'not_found', entity: 'task' });
    }
    await expect(asUser((tx) => tx.taskAttachments.create('T-1', png))).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(asUser((tx) => tx.taskAttachments.get(randomUUID()))).rejects.toBeInstanceOf(NotFoundError);
    expect(await ownerCount(h, 'task_attachments')).toBe(before);
  });

  it("points only at the tenant's evidence, which then is not deleted from under it but goes with its task", async () => {
    const task = await f.task('Crash');
    const before = await ownerCount(h, 'task_attachments');
    const theirs = await evidenceOf(other);
    for (const [label, evidenceId] of [
      ["another tenant's evidence", theirs],
      ['no evidence', randomUUID()],
    ] as const) {
      const error = await caught(
        asAgent(f.dev, (tx) => tx.taskAttachments.create(task, { ...png, evidenceId })),
      );
      expect(error, label).toBeInstanceOf(NotFoundError);
      expect(error, label).toMatchObject({ entity: 'evidence', code: 'not_found' });
      // Raw SQL as agentflow_app: on insert, and when the link is set afterwards.
      const raw = await caught(
        asAgent(f.dev, (tx) =>
          tx.query(
            `INSERT INTO task_attachments (task_id, uploaded_by_agent_id, storage_path, size_bytes, content_type, evidence_id)
             VALUES ($1, $2, 'a.log', 1, 'text/plain', $3)`,
            [task, f.dev, evidenceId],
          ),
        ),
      );
      expect(raw, `${label} (raw insert)`).toMatchObject({ entity: 'evidence', code: 'not_found' });
    }
    expect(await ownerCount(h, 'task_attachments')).toBe(before);
    const unlinked = await asAgent(f.dev, (tx) => tx.taskAttachments.create(task, png));
    const late = await caught(
      asAgent(f.dev, (tx) =>
        tx.query('UPDATE task_attachments SET evidence_id = $2 WHERE id = $1', [unlinked.id, theirs]),
      ),
    );
    expect(late).toMatchObject({ entity: 'evidence', code: 'not_found' });

    // Real evidence of the task: through the repository and raw SQL.
    const evidenceId = await evidenceOf(f, task);
    const linked = await asAgent(f.dev, (tx) => tx.taskAttachments.create(task, { ...png, evidenceId }));
    expect(linked.evidenceId).toBe(evidenceId);
    await asAgent(f.dev, (tx) =>
      tx.query('UPDATE task_attachments SET evidence_id = $2 WHERE id = $1', [unlinked.id, evidenceId]),
    );
    // Evidence a file backs is not deleted by tenant work, even once the file is deleted softly.
    await asAgent(f.dev, (tx) => tx.taskAttachments.delete(linked.id));
    const kept = await caught(asUser((tx) => tx.evidence.delete(evidenceId)));
    expect(kept).toMatchObject({ code: 'still_referenced' });
    expect((await asUser((tx) => tx.evidence.get(evidenceId))).id).toBe(evidenceId);
    // A purge of the task takes the evidence and the files in one statement: the key allows it.
    await h.asOwner((c) => c.query('DELETE FROM tasks WHERE id = $1', [task]));
    expect(await ownerCount(h, 'task_attachments WHERE task_id = $1', [task])).toBe(0);
    expect(await ownerCount(h, 'evidence WHERE id = $1', [evidenceId])).toBe(0);
  });
});
