import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_VALUE_MAX_BYTES } from '../../src/audit/audit-logs.schema.ts';
import { type DatabaseError, ForbiddenError, type TenantTx } from '../../src/index.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createTenant, ownerCount, type TenantFixture } from '../harness/fixtures.ts';

interface AuditRow {
  actor_type: string;
  actor_id: string;
  db_role: string;
  action: string;
  old_values: Record<string, unknown> | null;
  new_values: Record<string, unknown> | null;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const omitted = (text: string) => ({ $omitted: { bytes: Buffer.byteLength(text), sha256: sha256(text) } });

/** The audit rows of one row, oldest first, read as the owner. */
function trailOf(h: EngineHarness, table: string, rowId: string): Promise<AuditRow[]> {
  return h.asOwner((c) =>
    c.query<AuditRow>(
      `SELECT actor_type, actor_id, db_role, action, old_values, new_values FROM audit_logs
        WHERE table_name = $1 AND row_id = $2 ORDER BY id`,
      [table, rowId],
    ),
  );
}

describeEachEngine('audit rows are trustworthy and bounded', (h) => {
  let f: TenantFixture;
  let projectId: string;
  const asUser = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);

  beforeAll(async () => {
    f = await createTenant(h.store);
    projectId = (await asUser((tx) => tx.projects.create({ slug: 'trail', name: 'Trail' }))).id;
  });

  describe('the actor', () => {
    for (const claimed of ['service', 'system', '']) {
      it(`refuses tenant work that sets its actor type to '${claimed}', writing nothing`, async () => {
        const audits = await ownerCount(h, 'audit_logs');
        const error = await caught(
          asUser(async (tx) => {
            await tx.query(`SELECT set_config('agentflow.actor_type', $1, true)`, [claimed]);
            await tx.projects.create({ slug: `forged-${claimed || 'empty'}`, name: 'Forged' });
          }),
        );
        expect(error).toBeInstanceOf(ForbiddenError);
        expect(((error as ForbiddenError).cause as DatabaseError).message).toContain(
          `agentflow_app may not record actor type ${claimed || 'system'}`,
        );
        expect(await ownerCount(h, `projects WHERE slug LIKE 'forged-%'`)).toBe(0);
        expect(await ownerCount(h, 'audit_logs')).toBe(audits);
      });
    }

    it('records tenant work as its user or agent, and service work as the service', async () => {
      const { id: agentId } = await h.store.withTenant(f.context, (tx) =>
        tx.agents.create({ code: 'trail-agent', name: 'Trail agent', type: 'tester', roleTitle: 'Tester' }),
      );
      await h.store.withTenant({ tenantId: f.tenant.id, actor: { type: 'agent', id: agentId } }, (tx) =>
        tx.projects.update(projectId, { name: 'By an agent' }),
      );
      await h.store.asService({ actor: 'ops-job' }, (svc) => svc.tenants.setPlan(f.tenant.id, 'starter'));
      const project = await trailOf(h, 'projects', projectId);
      expect(project.at(-1)).toMatchObject({
        actor_type: 'agent',
        actor_id: agentId,
        db_role: 'agentflow_app',
      });
      expect((await trailOf(h, 'tenants', f.tenant.id)).at(-1)).toMatchObject({
        actor_type: 'service',
        actor_id: 'ops-job',
        db_role: 'agentflow_service',
        new_values: { plan: 'starter' },
      });
    });
  });

  describe('large values', () => {
    it(`keeps a value of ${AUDIT_VALUE_MAX_BYTES} bytes whole and records one byte more as its size and sha256`, async () => {
      // Two-byte characters: the bound is on UTF-8 bytes, not characters.
      const atBound = 'é'.repeat(AUDIT_VALUE_MAX_BYTES / 2);
      const overBound = `${atBound}x`;
      const file = await asUser((tx) =>
        tx.projectFiles.upsert({ projectId, path: 'bound.txt', content: atBound }),
      );
      await asUser((tx) => tx.projectFiles.upsert({ projectId, path: 'bound.txt', content: overBound }));
      const [insert, update] = await trailOf(h, 'project_files', file.id);
      expect(insert?.new_values?.content).toBe(atBound);
      expect(update?.old_values?.content).toBe(atBound);
      expect(update?.new_values?.content).toEqual(omitted(overBound));
      // The hash is the one the row holds, so a trail entry can be matched with a file's content.
      const stored = await asUser((tx) => tx.projectFiles.get(projectId, 'bound.txt'));
      expect(update?.new_values?.content).toEqual({
        $omitted: { bytes: stored.sizeBytes, sha256: stored.contentHash },
      });
    });

    it('records three upserts of a 5 MB file in a few kilobytes of audit, not tens of megabytes', async () => {
      const versions = ['a', 'b', 'c'].map((letter) => letter.repeat(5 * 1024 * 1024));
      let fileId = '';
      for (const content of versions)
        fileId = (await asUser((tx) => tx.projectFiles.upsert({ projectId, path: 'big.bin', content }))).id;
      const trail = await trailOf(h, 'project_files', fileId);
      expect(trail.map((row) => row.action)).toEqual(['insert', 'update', 'update']);
      expect(trail.map((row) => row.new_values?.content)).toEqual(versions.map(omitted));
      expect(trail.map((row) => row.old_values?.content ?? null)).toEqual([
        null,
        ...versions.slice(0, 2).map(omitted),
      ]);
      const [size] = await h.asOwner((c) =>
        c.query<{ bytes: number }>(
          `SELECT sum(octet_length(coalesce(old_values::text, '')) + octet_length(coalesce(new_values::text, '')))::int AS bytes
             FROM audit_logs WHERE table_name = 'project_files' AND row_id = $1`,
          [fileId],
        ),
      );
      expect(size?.bytes).toBeLessThan(4096);
    });

    it('records a large JSON document as the size and sha256 of its JSON text', async () => {
      const state = { notes: 'n'.repeat(AUDIT_VALUE_MAX_BYTES) };
      const saved = await asUser((tx) => tx.agentStates.save({ projectId, state, expectedVersion: null }));
      const [insert] = await trailOf(h, 'agent_states', saved.id);
      const [text] = await h.asOwner((c) =>
        c.query<{ state: string }>('SELECT state::text AS state FROM agent_states WHERE id = $1', [saved.id]),
      );
      expect(insert?.new_values?.state).toEqual(omitted(text!.state));
      expect(insert?.new_values?.version).toBe(1);
    });
  });

  it('records that a password was set and changed, never the hash', async () => {
    const email = `pw-${randomBytes(4).toString('hex')}@example.test`;
    const user = await h.store.asService({ actor: 'audit-test' }, (svc) =>
      svc.users.create({ email, name: 'No password yet' }),
    );
    for (const password of ['first secret value', 'second secret value'])
      await h.store.asService({ actor: 'audit-test' }, (svc) => svc.users.setPassword(user.id, password));
    const [insert, set, changed] = await trailOf(h, 'users', user.id);
    expect(insert?.new_values?.password_hash).toBeNull();
    expect(set?.old_values).toEqual({ password_hash: null, updated_at: expect.any(String) });
    expect(set?.new_values).toEqual({ password_hash: { $redacted: true }, updated_at: expect.any(String) });
    expect(changed?.old_values).toEqual({
      password_hash: { $redacted: true },
      updated_at: expect.any(String),
    });
    expect(changed?.new_values).toEqual({
      password_hash: { $redacted: true },
      updated_at: expect.any(String),
    });
    expect(
      await ownerCount(
        h,
        `audit_logs WHERE old_values::text LIKE '%scrypt$%' OR new_values::text LIKE '%scrypt$%'`,
      ),
    ).toBe(0);
  });
});
