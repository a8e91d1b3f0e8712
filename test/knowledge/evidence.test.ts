import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { tasks } from '../../src/schema.ts';
import { createTimelineTenant, type TimelineFixture } from '../events/timeline-fixtures.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { caught, ownerCount } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';

describeEachEngine('evidence', (h) => {
  let f: TimelineFixture;
  let other: TimelineFixture;
  let taskId: string;
  let otherProjectTask: string;
  const asUser = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);
  const asAgent = <T>(agentId: string, work: (tx: TenantTx) => Promise<T>) =>
    h.store.withTenant(f.asAgent(agentId), work);
  const base = () => ({ projectId: f.projectId, sourceType: 'test_result' as const, title: 'CI run 812' });

  beforeAll(async () => {
    f = await createTimelineTenant(h);
    other = await createTimelineTenant(h);
    [taskId, otherProjectTask] = await asUser(async (tx) => {
      const [a] = await tx.db
        .insert(tasks)
        .values({ projectId: f.projectId, title: 'Login form' })
        .returning();
      const [b] = await tx.db
        .insert(tasks)
        .values({ projectId: f.otherProjectId, title: 'API keys' })
        .returning();
      return [a!.id, b!.id];
    });
  });

  describe('recording', () => {
    it('stores evidence with its author from the actor and credibility as exact decimal text', async () => {
      const created = await asAgent(f.dev, (tx) =>
        tx.evidence.create({
          ...base(),
          taskId,
          content: '212 passed, 0 failed',
          reference: 'https://ci.example/runs/812',
          credibility: 0.875,
          tags: ['ci', 'unit'],
          metadata: { runner: 'linux' },
        }),
      );
      expect(created).toMatchObject({
        projectId: f.projectId,
        taskId,
        credibility: '0.875',
        isVerified: false,
        verifiedById: null,
        createdByType: 'agent',
        createdById: f.dev,
        tags: ['ci', 'unit'],
      });
      expect(await asUser((tx) => tx.evidence.get(created.id))).toEqual(created);
    });

    it('refuses bad input with a ValidationError and writes nothing', async () => {
      const before = await ownerCount(h, 'evidence WHERE tenant_id = $1', [f.tenant.id]);
      const bad = [
        { ...base() }, // neither content nor reference
        { ...base(), content: 'x', credibility: 1.5 },
        { ...base(), content: 'x', credibility: 0.1234 },
        { ...base(), content: 'x', sourceType: 'rumour' },
        { ...base(), content: 'x', tags: ['UPPER'] },
        { ...base(), content: 'x', tags: ['a', 'a'] },
        { ...base(), content: 'x', title: '' },
        { ...base(), content: 'x', projectId: 'not-a-uuid' },
        { ...base(), content: 'x', isVerified: true },
      ];
      for (const input of bad) {
        const error = await caught(asUser((tx) => tx.evidence.create(input as never)));
        expect(error, JSON.stringify(input)).toBeInstanceOf(ValidationError);
      }
      expect(await ownerCount(h, 'evidence WHERE tenant_id = $1', [f.tenant.id])).toBe(before);
    });

    it("refuses a task of another project, and another tenant's project or task", async () => {
      const ofOtherProject = await caught(
        asUser((tx) => tx.evidence.create({ ...base(), content: 'x', taskId: otherProjectTask })),
      );
      expect(ofOtherProject).toBeInstanceOf(ValidationError);
      expect(ofOtherProject).toMatchObject({ message: expect.stringContaining('is not of project') });
      const foreignProject = await caught(
        asUser((tx) => tx.evidence.create({ ...base(), content: 'x', projectId: other.projectId })),
      );
      expect(foreignProject).toBeInstanceOf(NotFoundError);
    });

    it('keeps the author and the verification to the database, raw SQL included', async () => {
      const [forged] = await asAgent(f.dev, (tx) =>
        tx.query<{ created_by_id: string; is_verified: boolean; verified_by_id: string | null }>(
          `INSERT INTO evidence (project_id, source_type, title, content, created_by_type, created_by_id,
                                 is_verified, verified_by_type, verified_by_id, verified_at)
           VALUES ($1, 'log', 'forged', 'x', 'agent', $2, true, 'user', $3, now())
           RETURNING created_by_id, is_verified, verified_by_id`,
          [f.projectId, f.lead, f.owner.id],
        ),
      );
      expect(forged).toEqual({ created_by_id: f.dev, is_verified: false, verified_by_id: null });
      const created = await asUser((tx) => tx.evidence.create({ ...base(), content: 'x' }));
      const changeAuthor = await caught(
        asAgent(f.dev, (tx) =>
          tx.query('UPDATE evidence SET created_by_id = $1 WHERE id = $2', [f.dev, created.id]),
        ),
      );
      expect(changeAuthor).toBeInstanceOf(ValidationError);
      const moveProject = await caught(
        asUser((tx) =>
          tx.query('UPDATE evidence SET project_id = $1 WHERE id = $2', [f.otherProjectId, created.id]),
        ),
      );
      expect(moveProject).toBeInstanceOf(ValidationError);
    });
  });

  describe('verification', () => {
    it('records who verified and when, once; it is not taken back', async () => {
      const created = await asAgent(f.dev, (tx) =>
        tx.evidence.create({ ...base(), reference: 'https://x.example/1' }),
      );
      const verified = await asAgent(f.reviewer, (tx) => tx.evidence.verify(created.id));
      expect(verified).toMatchObject({ isVerified: true, verifiedByType: 'agent', verifiedById: f.reviewer });
      expect(verified.verifiedAt).toBeInstanceOf(Date);
      const verification = (row: typeof verified) => [
        row.isVerified,
        row.verifiedByType,
        row.verifiedById,
        row.verifiedAt,
      ];
      // Again, by someone else: the first verification stands.
      const again = await asUser((tx) => tx.evidence.verify(created.id));
      expect(verification(again)).toEqual(verification(verified));
      const forgedVerifier = await asUser((tx) =>
        tx.query<{ verified_by_id: string }>(
          'UPDATE evidence SET verified_by_id = $1, verified_at = now() - interval $$1 day$$ WHERE id = $2 RETURNING verified_by_id',
          [f.owner.id, created.id],
        ),
      );
      expect(forgedVerifier).toEqual([{ verified_by_id: f.reviewer }]);
      const undo = await caught(
        asUser((tx) => tx.query('UPDATE evidence SET is_verified = false WHERE id = $1', [created.id])),
      );
      expect(undo).toBeInstanceOf(ConflictError);
      expect(undo).toMatchObject({ code: 'invalid_transition' });
      expect(verification(await asUser((tx) => tx.evidence.get(created.id)))).toEqual(verification(verified));
    });
  });

  describe('reading', () => {
    it('lists the evidence behind a task most credible first, page by page, with filters', async () => {
      const task = await asUser(async (tx) => {
        const [row] = await tx.db
          .insert(tasks)
          .values({ projectId: f.projectId, title: 'Paging' })
          .returning();
        return row!.id;
      });
      const credibilities = [0.2, 0.9, 0.55, 0.9, 0.1, 0.75, 0.3];
      for (const [i, credibility] of credibilities.entries()) {
        await asUser((tx) =>
          tx.evidence.create({
            ...base(),
            taskId: task,
            content: `finding ${i}`,
            credibility,
            sourceType: i % 2 === 0 ? 'code_analysis' : 'test_result',
            tags: i % 3 === 0 ? ['perf', 'db'] : ['db'],
          }),
        );
      }
      const all = (
        await allPages(2, (page) => asUser((tx) => tx.evidence.list({ taskId: task, ...page })))
      ).flat();
      expect(all.map((e) => Number(e.credibility))).toEqual([...credibilities].sort((a, b) => b - a));
      expect(new Set(all.map((e) => e.id)).size).toBe(credibilities.length);
      const perf = await asUser((tx) => tx.evidence.list({ taskId: task, tags: ['perf', 'db'] }));
      expect(perf.items).toHaveLength(3);
      const analysis = await asUser((tx) => tx.evidence.list({ taskId: task, sourceType: 'code_analysis' }));
      expect(analysis.items).toHaveLength(4);
      expect((await asUser((tx) => tx.evidence.list({ taskId: task, verified: true }))).items).toEqual([]);
    });

    it('shows another tenant nothing: its list is empty and a get is NotFound', async () => {
      const created = await asUser((tx) => tx.evidence.create({ ...base(), content: 'secret' }));
      const foreign = await caught(h.store.withTenant(other.context, (tx) => tx.evidence.get(created.id)));
      expect(foreign).toBeInstanceOf(NotFoundError);
      expect((await h.store.withTenant(other.context, (tx) => tx.evidence.list({}))).items).toEqual([]);
    });
  });

  describe('links', () => {
    it('stores a link once and reads it from both ends', async () => {
      const [a, b, c] = await asUser(async (tx) => [
        await tx.evidence.create({ ...base(), content: 'p95 is 40 ms', credibility: 0.8 }),
        await tx.evidence.create({ ...base(), content: 'p95 is 400 ms', credibility: 0.4 }),
        await tx.evidence.create({ ...base(), content: 'load test log', credibility: 0.6 }),
      ]);
      await asUser(async (tx) => {
        await tx.evidence.link(a!.id, { otherId: b!.id, kind: 'contradicts', note: 'different load' });
        await tx.evidence.link(b!.id, { otherId: a!.id, kind: 'contradicts' }); // same pair: nothing new
        await tx.evidence.link(c!.id, { otherId: a!.id, kind: 'related' });
      });
      expect(
        await ownerCount(h, 'evidence_links WHERE $1 IN (low_id, high_id) AND $2 IN (low_id, high_id)', [
          a!.id,
          b!.id,
        ]),
      ).toBe(1);
      const fromA = await asUser((tx) => tx.evidence.links(a!.id));
      expect(fromA.contradicting.map((e) => [e.id, e.note])).toEqual([[b!.id, 'different load']]);
      expect(fromA.related.map((e) => e.id)).toEqual([c!.id]);
      const fromB = await asUser((tx) => tx.evidence.links(b!.id));
      expect(fromB.contradicting.map((e) => e.id)).toEqual([a!.id]);
      expect(fromB.related).toEqual([]);

      const both = await caught(asUser((tx) => tx.evidence.link(b!.id, { otherId: a!.id, kind: 'related' })));
      expect(both).toBeInstanceOf(ConflictError);
      const self = await caught(asUser((tx) => tx.evidence.link(a!.id, { otherId: a!.id, kind: 'related' })));
      expect(self).toBeInstanceOf(ValidationError);
      // Raw SQL cannot store the pair twice in the other order.
      const reversed = await caught(
        asUser((tx) =>
          tx.query(`INSERT INTO evidence_links (low_id, high_id, kind) VALUES ($1, $2, 'related')`, [
            ...[a!.id, b!.id].sort().reverse(),
          ]),
        ),
      );
      expect(reversed).toBeInstanceOf(ValidationError);

      await asUser((tx) => tx.evidence.unlink(b!.id, a!.id));
      expect((await asUser((tx) => tx.evidence.links(a!.id))).contradicting).toEqual([]);
      expect(await caught(asUser((tx) => tx.evidence.unlink(a!.id, b!.id)))).toBeInstanceOf(NotFoundError);
      // Deleting evidence removes its links.
      await asUser((tx) => tx.evidence.delete(c!.id));
      expect((await asUser((tx) => tx.evidence.links(a!.id))).related).toEqual([]);
    });

    it("refuses a link to another tenant's evidence", async () => {
      const mine = await asUser((tx) => tx.evidence.create({ ...base(), content: 'mine' }));
      const theirs = await h.store.withTenant(other.context, (tx) =>
        tx.evidence.create({ projectId: other.projectId, sourceType: 'log', title: 't', content: 'theirs' }),
      );
      const error = await caught(
        asUser((tx) => tx.evidence.link(mine.id, { otherId: theirs.id, kind: 'related' })),
      );
      expect(error).toBeInstanceOf(NotFoundError);
    });
  });

  it('refuses everything to the app role with no tenant', async () => {
    const error = await caught(
      h.asAppWithoutTenant((c) =>
        c.query(
          `INSERT INTO evidence (tenant_id, project_id, source_type, title, content) VALUES ($1, $2, 'log', 't', 'x')`,
          [f.tenant.id, f.projectId],
        ),
      ),
    );
    expect((error as Error).message).toMatch(/row-level security/);
  });

  describe('citations', () => {
    const record = (credibility: number, project = f.projectId) =>
      asUser(
        async (tx) =>
          (await tx.evidence.create({ ...base(), projectId: project, content: 'x', credibility })).id,
      );
    const run = (agentId: string, task = taskId) =>
      asAgent(
        agentId,
        async (tx) => (await tx.taskExecutions.create({ taskId: task, status: 'running' })).id,
      );
    const citations = () => ownerCount(h, 'execution_evidence WHERE tenant_id = $1', [f.tenant.id]);

    it('a run cites evidence of its project: its evidence most credible first, the runs citing evidence newest first, paged', async () => {
      const [low, high, mid] = [await record(0.2), await record(0.9), await record(0.5)];
      const mine = await run(f.dev);
      const first = await asAgent(f.dev, (tx) =>
        tx.evidence.cite(mine, { evidenceId: low, note: 'flaky before' }),
      );
      expect(first).toMatchObject({
        executionId: mine,
        evidenceId: low,
        citedByAgentId: f.dev,
        citedByUserId: null,
      });
      // Citing again changes nothing: the first citation stands.
      expect(
        await asAgent(f.dev, (tx) => tx.evidence.cite(mine, { evidenceId: low, note: 'other' })),
      ).toEqual(first);
      await asAgent(f.dev, async (tx) => {
        await tx.evidence.cite(mine, { evidenceId: high });
        await tx.evidence.cite(mine, { evidenceId: mid });
      });
      const pages = await allPages(2, (page) => asUser((tx) => tx.evidence.cited(mine, page)));
      expect(pages.flat().map((e) => [e.id, e.credibility])).toEqual([
        [high, '0.900'],
        [mid, '0.500'],
        [low, '0.200'],
      ]);
      expect(pages.flat()[2]).toMatchObject({ note: 'flaky before', citedByAgentId: f.dev });
      // A human member cites in an organization agent's run.
      const theirs = await run(f.lead);
      const byOwner = await asUser((tx) => tx.evidence.cite(theirs, { evidenceId: low }));
      expect(byOwner).toMatchObject({ citedByUserId: f.owner.id, citedByAgentId: null });
      const runs = await allPages(1, (page) => asUser((tx) => tx.evidence.citingRuns(low, page)));
      expect(runs.flat().map((r) => r.id)).toEqual([theirs, mine]);
      expect(runs.flat()[1]).toMatchObject({ taskId, agentId: f.dev, note: 'flaky before' });
      // Audited like every tenant table.
      expect(
        await ownerCount(h, "audit_logs WHERE tenant_id = $1 AND table_name = 'execution_evidence'", [
          f.tenant.id,
        ]),
      ).toBeGreaterThanOrEqual(4);
      // Another tenant sees neither end.
      await expect(h.store.withTenant(other.context, (tx) => tx.evidence.cited(mine))).rejects.toBeInstanceOf(
        NotFoundError,
      );
      await expect(
        h.store.withTenant(other.context, (tx) => tx.evidence.citingRuns(low)),
      ).rejects.toBeInstanceOf(NotFoundError);
    });

    it('refuses a citation by another agent, in a finished run, of another project, tenant or none, and writes nothing', async () => {
      const evidenceId = await record(0.7);
      const mine = await run(f.dev);
      const before = await citations();
      const theirEvidence = await h.store.withTenant(
        other.context,
        async (tx) =>
          (
            await tx.evidence.create({
              projectId: other.projectId,
              sourceType: 'log',
              title: 't',
              content: 'x',
            })
          ).id,
      );
      const attempts: Array<[string, () => Promise<unknown>, object]> = [
        [
          'another agent',
          () => asAgent(f.reviewer, (tx) => tx.evidence.cite(mine, { evidenceId })),
          { name: 'ForbiddenError', code: 'permission_denied' },
        ],
        [
          'evidence of another project',
          async () => {
            const e = await record(0.5, f.otherProjectId);
            return asAgent(f.dev, (tx) => tx.evidence.cite(mine, { evidenceId: e }));
          },
          { name: 'ValidationError', entity: 'evidence citation' },
        ],
        [
          "another tenant's evidence",
          () => asAgent(f.dev, (tx) => tx.evidence.cite(mine, { evidenceId: theirEvidence })),
          { name: 'NotFoundError', entity: 'evidence' },
        ],
        [
          'no evidence',
          () => asAgent(f.dev, (tx) => tx.evidence.cite(mine, { evidenceId: randomUUID() })),
          { name: 'NotFoundError', entity: 'evidence' },
        ],
        [
          'no run',
          () => asAgent(f.dev, (tx) => tx.evidence.cite(randomUUID(), { evidenceId })),
          { name: 'NotFoundError', entity: 'execution' },
        ],
        [
          'bad input',
          () => asAgent(f.dev, (tx) => tx.evidence.cite(mine, { evidenceId: 'E-1' })),
          { name: 'ValidationError' },
        ],
      ];
      for (const [label, attempt, expected] of attempts) {
        expect(await caught(attempt()), label).toMatchObject(expected);
      }
      // Raw SQL as agentflow_app: the citer is the actor whatever is claimed; the rules hold.
      await asAgent(f.dev, (tx) =>
        tx.query(
          'INSERT INTO execution_evidence (execution_id, evidence_id, cited_by_agent_id, cited_at) VALUES ($1, $2, $3, $4)',
          [mine, evidenceId, f.reviewer, '2001-01-01T00:00:00Z'],
        ),
      );
      const [row] = await h.asOwner((c) =>
        c.query<{ cited_by_agent_id: string; old: boolean }>(
          "SELECT cited_by_agent_id, cited_at < now() - interval '1 day' AS old FROM execution_evidence WHERE execution_id = $1",
          [mine],
        ),
      );
      expect(row).toEqual({ cited_by_agent_id: f.dev, old: false });
      for (const statement of [
        'UPDATE execution_evidence SET note = $2 WHERE execution_id = $1',
        'DELETE FROM execution_evidence WHERE execution_id = $1 AND $2::text IS NOT NULL',
      ]) {
        expect(await caught(asUser((tx) => tx.query(statement, [mine, 'n']))), statement).toBeInstanceOf(
          ForbiddenError,
        );
      }
      // A finished run gains no citation.
      await asAgent(f.dev, (tx) => tx.taskExecutions.finish(mine, { status: 'success' }));
      const late = await record(0.4);
      for (const attempt of [
        () => asAgent(f.dev, (tx) => tx.evidence.cite(mine, { evidenceId: late })),
        () =>
          asAgent(f.dev, (tx) =>
            tx.query('INSERT INTO execution_evidence (execution_id, evidence_id) VALUES ($1, $2)', [
              mine,
              late,
            ]),
          ),
      ]) {
        const error = await caught(attempt());
        expect(error).toBeInstanceOf(ConflictError);
        expect(error).toMatchObject({ code: 'execution_finished' });
      }
      expect(await citations()).toBe(before + 1);
      // Deleting evidence removes its citations, as its links.
      await asUser((tx) => tx.evidence.delete(evidenceId));
      expect(await citations()).toBe(before);
    });
  });
});
