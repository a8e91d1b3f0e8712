import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/engine/engine.ts';
import {
  type Actor,
  type AuditLog,
  DatabaseError,
  ForbiddenError,
  NO_TENANT_ID,
  type ServiceTx,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { encodeCursor } from '../../src/shared/pagination.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createTenant, ownerCount, type TenantFixture } from '../harness/fixtures.ts';

interface AuditRow {
  id: string;
  tenant_id: string;
  actor_type: string;
  actor_id: string | null;
  db_role: string;
  action: string;
  table_name: string;
  row_id: string | null;
  old_values: Record<string, unknown> | null;
  new_values: Record<string, unknown> | null;
  request_context: Record<string, unknown> | null;
}

const auditKey = (row: Pick<AuditRow, 'table_name' | 'action' | 'row_id'>) =>
  `${row.table_name}/${row.action}/${row.row_id}`;

/** Every audit row, read as the owner (who sees all tenants). */
async function allAuditRows(h: EngineHarness): Promise<AuditRow[]> {
  return h.asOwner((c) => c.query<AuditRow>('SELECT * FROM audit_logs ORDER BY id'));
}

async function auditCount(h: EngineHarness): Promise<number> {
  const [row] = await h.asOwner((c) => c.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_logs'));
  return row?.n ?? -1;
}

/**
 * Runs `operation` and returns the audit rows it added, asserting that it added exactly one row per
 * expected (table, action, row id) key and nothing else.
 */
async function auditOf<T>(
  h: EngineHarness,
  operation: () => Promise<T>,
  expectedKeys: (result: T) => string[],
): Promise<{ result: T; rows: Map<string, AuditRow> }> {
  const before = await allAuditRows(h);
  const lastId = before.length ? Number(before[before.length - 1]!.id) : 0;
  const result = await operation();
  const added = (await allAuditRows(h)).filter((row) => Number(row.id) > lastId);
  const keys = added.map(auditKey);
  expect(keys.sort()).toEqual(expectedKeys(result).sort());
  return { result, rows: new Map(added.map((row) => [auditKey(row), row])) };
}

function expectActor(row: AuditRow | undefined, actor: Actor, tenantId: string): void {
  expect(row).toBeDefined();
  expect(row).toMatchObject({
    actor_type: actor.type,
    actor_id: actor.id,
    db_role: 'agentflow_app',
    tenant_id: tenantId,
  });
}

describeEachEngine('audit trail', (h) => {
  const svc = <T>(work: (tx: ServiceTx) => Promise<T>) => h.store.asService({ actor: 'audit-test' }, work);
  let f: TenantFixture;
  let agent: Actor;
  const asUser = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);
  const asAgent = <T>(work: (tx: TenantTx) => Promise<T>) =>
    h.store.withTenant({ tenantId: f.tenant.id, actor: agent }, work);

  beforeAll(async () => {
    f = await createTenant(h.store);
    // An agent actor must be a usable agent of the tenant (checked in the unit's set-up).
    const created = await h.store.withTenant(f.context, (tx) =>
      tx.agents.create({ code: 'auditor', name: 'Auditor', type: 'reviewer', roleTitle: 'Reviewer' }),
    );
    agent = { type: 'agent', id: created.id };
  });

  describe('every mutation leaves exactly one audit row naming its actor', () => {
    let projectId: string;
    let fileId: string;

    it('create project (plus the usage counter of the tenant)', async () => {
      const { result, rows } = await auditOf(
        h,
        () => asUser((tx) => tx.projects.create({ slug: 'audited', name: 'Audited' })),
        (project) => [`projects/insert/${project.id}`, `tenants/update/${f.tenant.id}`],
      );
      projectId = result.id;
      const insert = rows.get(`projects/insert/${projectId}`);
      expectActor(insert, f.actor, f.tenant.id);
      expect(insert?.old_values).toBeNull();
      expect(insert?.new_values).toMatchObject({ id: projectId, slug: 'audited', name: 'Audited' });
      expectActor(rows.get(`tenants/update/${f.tenant.id}`), f.actor, f.tenant.id);
      expect(rows.get(`tenants/update/${f.tenant.id}`)?.new_values).toHaveProperty('usage');
    });

    it('update project: only the changed columns on both sides', async () => {
      const { rows } = await auditOf(
        h,
        () => asUser((tx) => tx.projects.update(projectId, { name: 'Renamed' })),
        () => [`projects/update/${projectId}`],
      );
      const row = rows.get(`projects/update/${projectId}`);
      expectActor(row, f.actor, f.tenant.id);
      expect(Object.keys(row!.old_values!).sort()).toEqual(['name', 'updated_at']);
      expect(Object.keys(row!.new_values!).sort()).toEqual(['name', 'updated_at']);
      expect(row!.old_values!.name).toBe('Audited');
      expect(row!.new_values!.name).toBe('Renamed');
    });

    it('upsert a file (insert) as an agent', async () => {
      const { result, rows } = await auditOf(
        h,
        () => asAgent((tx) => tx.projectFiles.upsert({ projectId, path: 'notes.md', content: 'v1' })),
        (file) => [`project_files/insert/${file.id}`],
      );
      fileId = result.id;
      const row = rows.get(`project_files/insert/${fileId}`);
      expectActor(row, agent, f.tenant.id);
      expect(row?.actor_type).toBe('agent');
    });

    it('upsert the same file again (update): one update row, no insert row', async () => {
      const { rows } = await auditOf(
        h,
        () => asAgent((tx) => tx.projectFiles.upsert({ projectId, path: 'notes.md', content: 'version 2' })),
        () => [`project_files/update/${fileId}`],
      );
      const row = rows.get(`project_files/update/${fileId}`);
      expectActor(row, agent, f.tenant.id);
      expect(Object.keys(row!.new_values!).sort()).toEqual([
        'content',
        'content_hash',
        'size_bytes',
        'updated_at',
      ]);
      expect(row!.old_values!.content).toBe('v1');
      expect(row!.new_values!.content).toBe('version 2');
    });

    it('delete the file', async () => {
      const { rows } = await auditOf(
        h,
        () => asUser((tx) => tx.projectFiles.delete(projectId, 'notes.md')),
        () => [`project_files/delete/${fileId}`],
      );
      const row = rows.get(`project_files/delete/${fileId}`);
      expectActor(row, f.actor, f.tenant.id);
      expect(row?.new_values).toBeNull();
      expect(row?.old_values).toMatchObject({ id: fileId, path: 'notes.md', content: 'version 2' });
    });

    it('save the agent state (insert, then update)', async () => {
      const first = await auditOf(
        h,
        () => asAgent((tx) => tx.agentStates.save({ projectId, state: { step: 1 }, expectedVersion: null })),
        (state) => [`agent_states/insert/${state.id}`],
      );
      expectActor(first.rows.get(`agent_states/insert/${first.result.id}`), agent, f.tenant.id);
      const second = await auditOf(
        h,
        () => asAgent((tx) => tx.agentStates.save({ projectId, state: { step: 2 }, expectedVersion: 1 })),
        (state) => [`agent_states/update/${state.id}`],
      );
      const row = second.rows.get(`agent_states/update/${second.result.id}`);
      expectActor(row, agent, f.tenant.id);
      expect(row?.old_values).toMatchObject({ state: { step: 1 }, version: 1 });
      expect(row?.new_values).toMatchObject({ state: { step: 2 }, version: 2 });
    });

    it('add a member (service work) and change its role (tenant work)', async () => {
      const user = await svc((tx) =>
        tx.users.create({ email: `member-${randomBytes(4).toString('hex')}@example.test`, name: 'Member' }),
      );
      const added = await auditOf(
        h,
        () => svc((tx) => tx.memberships.create(f.tenant.id, { userId: user.id, role: 'member' })),
        (membership) => [`memberships/insert/${membership.id}`],
      );
      expect(added.rows.get(`memberships/insert/${added.result.id}`)).toMatchObject({
        actor_type: 'service',
        actor_id: 'audit-test',
        db_role: 'agentflow_service',
        tenant_id: f.tenant.id,
        new_values: { user_id: user.id, role: 'member' },
      });
      const changed = await auditOf(
        h,
        () => asUser((tx) => tx.memberships.update(user.id, { role: 'manager' })),
        (membership) => [`memberships/update/${membership.id}`],
      );
      const row = changed.rows.get(`memberships/update/${changed.result.id}`);
      expectActor(row, f.actor, f.tenant.id);
      expect(row?.new_values).toEqual({ role: 'manager', updated_at: expect.any(String) });
    });

    it('soft delete the project (plus the usage counter)', async () => {
      const { rows } = await auditOf(
        h,
        () => asUser((tx) => tx.projects.delete(projectId)),
        () => [`projects/update/${projectId}`, `tenants/update/${f.tenant.id}`],
      );
      const row = rows.get(`projects/update/${projectId}`);
      expectActor(row, f.actor, f.tenant.id);
      expect(Object.keys(row!.new_values!).sort()).toEqual(['deleted_at', 'status', 'updated_at']);
      expect(row!.new_values!.status).toBe('deleted');
      expect(row!.old_values!.status).toBe('active');
    });

    it('lets the tenant read its own trail through the repository, newest first', async () => {
      const { items: trail } = await asUser((tx) =>
        tx.auditLogs.list({ tableName: 'projects', rowId: projectId }),
      );
      expect(trail.map((row) => row.action)).toEqual(['update', 'update', 'insert']);
      expect(trail.every((row) => row.tenantId === f.tenant.id)).toBe(true);
    });
  });

  it('never records a password hash', async () => {
    const email = `secret-${randomBytes(4).toString('hex')}@example.test`;
    const user = await svc((tx) =>
      tx.users.create({ email, name: 'Secret', password: 'first secret value' }),
    );
    const { rows } = await auditOf(
      h,
      () => svc((tx) => tx.users.setPassword(user.id, 'second secret value')),
      () => [`users/update/${user.id}`],
    );
    // The password change is audited as such, its value never (trustworthy-audit.test.ts).
    expect(rows.get(`users/update/${user.id}`)!.new_values).toEqual({
      password_hash: { $redacted: true },
      updated_at: expect.any(String),
    });
    const inserted = (await allAuditRows(h)).find((row) => auditKey(row) === `users/insert/${user.id}`);
    expect(inserted?.new_values).toMatchObject({ id: user.id, email });
    const [leaks] = await h.asOwner((c) =>
      c.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM audit_logs
          WHERE jsonb_typeof(old_values -> 'password_hash') = 'string'
             OR jsonb_typeof(new_values -> 'password_hash') = 'string'
             OR old_values::text LIKE '%scrypt$%' OR new_values::text LIKE '%scrypt$%'`,
      ),
    );
    expect(leaks?.n).toBe(0);
  });

  it('records service work as the service actor and role', async () => {
    const slug = `svc-${randomBytes(4).toString('hex')}`;
    const { result, rows } = await auditOf(
      h,
      () => h.store.asService({ actor: 'ops-job' }, (tx) => tx.tenants.create({ slug, name: 'Ops' })),
      (tenant) => [`tenants/insert/${tenant.id}`],
    );
    expect(rows.get(`tenants/insert/${result.id}`)).toMatchObject({
      actor_type: 'service',
      actor_id: 'ops-job',
      db_role: 'agentflow_service',
      tenant_id: result.id,
    });
  });

  it('copies the request context into the audit row', async () => {
    const { result, rows } = await auditOf(
      h,
      () =>
        h.store.withTenant({ ...f.context, request: { requestId: 'r-1', ip: '203.0.113.9' } }, (tx) =>
          tx.projects.create({ slug: 'with-request', name: 'With request' }),
        ),
      (project) => [`projects/insert/${project.id}`, `tenants/update/${f.tenant.id}`],
    );
    expect(rows.get(`projects/insert/${result.id}`)?.request_context).toEqual({
      requestId: 'r-1',
      ip: '203.0.113.9',
    });
    // Without a request, no context; and the previous one did not leak into this transaction.
    const next = await auditOf(
      h,
      () => asUser((tx) => tx.projects.update(result.id, { name: 'No request' })),
      () => [`projects/update/${result.id}`],
    );
    expect(next.rows.get(`projects/update/${result.id}`)?.request_context).toBeNull();
  });

  it('leaves no audit row for a rolled-back transaction', async () => {
    const before = await auditCount(h);
    const error = await caught(
      asUser(async (tx) => {
        const project = await tx.projects.create({ slug: 'rolled-back', name: 'Rolled back' });
        await tx.projectFiles.upsert({ projectId: project.id, path: 'a.txt', content: 'a' });
        throw new Error('boom');
      }),
    );
    expect((error as Error).message).toBe('boom');
    expect(await auditCount(h)).toBe(before);
    const [row] = await h.asOwner((c) =>
      c.query<{ n: number }>(`SELECT count(*)::int AS n FROM projects WHERE slug = 'rolled-back'`),
    );
    expect(row?.n).toBe(0);
  });

  describe('keys shaped for time partitioning and distribution by tenant', () => {
    it('keys audit_logs (tenant_id, occurred_at, id), tenant_id NOT NULL, with no index the key serves', async () => {
      const [catalog] = await h.asOwner((c) =>
        c.query<{ primary_key: string; tenant_not_null: boolean; indexes: string[] }>(
          `SELECT (SELECT pg_get_constraintdef(oid) FROM pg_constraint
                    WHERE conrelid = 'audit_logs'::regclass AND contype = 'p') AS primary_key,
                  (SELECT attnotnull FROM pg_attribute
                    WHERE attrelid = 'audit_logs'::regclass AND attname = 'tenant_id') AS tenant_not_null,
                  ARRAY(SELECT indexrelid::regclass::text FROM pg_index
                         WHERE indrelid = 'audit_logs'::regclass ORDER BY 1) AS indexes`,
        ),
      );
      expect(catalog).toEqual({
        primary_key: 'PRIMARY KEY (tenant_id, occurred_at, id)',
        tenant_not_null: true,
        indexes: ['audit_logs_pkey', 'audit_logs_tenant_row_idx'],
      });
    });

    it('gives audit rows of no tenant (users, a global table) the sentinel, which no tenant sees', async () => {
      const email = `global-${randomBytes(4).toString('hex')}@example.test`;
      const { result: user, rows } = await auditOf(
        h,
        () => svc((tx) => tx.users.create({ email, name: 'Global' })),
        (created) => [`users/insert/${created.id}`],
      );
      expect(rows.get(`users/insert/${user.id}`)).toMatchObject({
        tenant_id: NO_TENANT_ID,
        actor_type: 'service',
        new_values: { email },
      });
      expect(await ownerCount(h, 'audit_logs WHERE tenant_id IS NULL')).toBe(0);
      const other = await createTenant(h.store);
      for (const context of [f.context, other.context]) {
        await h.store.withTenant(context, async (tx) => {
          expect((await tx.auditLogs.list({ tableName: 'users', limit: 1000 })).items).toEqual([]);
          const [raw] = await tx.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM audit_logs WHERE tenant_id = $1',
            [NO_TENANT_ID],
          );
          expect(raw?.n).toBe(0);
        });
      }
      const [unscoped] = await h.asAppWithoutTenant((c) =>
        c.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_logs'),
      );
      expect(unscoped?.n).toBe(0);
      // The service role reads the whole trail, these rows included.
      const [service] = await svc((tx) =>
        tx.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM audit_logs WHERE tenant_id = $1 AND table_name = 'users' AND row_id = $2`,
          [NO_TENANT_ID, user.id],
        ),
      );
      expect(service?.n).toBe(1);
    });

    it('lets no tenant own the sentinel id, nor work as it', async () => {
      const error = await caught(
        svc((tx) =>
          tx.query(`INSERT INTO tenants (id, slug, name) VALUES ($1, 'nobody', 'Nobody')`, [NO_TENANT_ID]),
        ),
      );
      expect(error).toBeInstanceOf(ValidationError);
      expect(((error as ValidationError).cause as DatabaseError).constraint).toBe('tenants_id_not_sentinel');
      expect(await ownerCount(h, 'tenants WHERE id = $1', [NO_TENANT_ID])).toBe(0);
      expect(
        await caught(
          h.store.withTenant({ tenantId: NO_TENANT_ID, actor: f.actor }, (tx) => tx.auditLogs.list()),
        ),
      ).toBeInstanceOf(ForbiddenError);
    });
  });

  describe('paging the trail with a keyset cursor', () => {
    let g: TenantFixture;
    const asG = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(g.context, work);

    /** Every page of `limit` rows, each asked for with the cursor of the one before. */
    async function allPages(limit: number, tableName?: string): Promise<AuditLog[][]> {
      const pages: AuditLog[][] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await asG((tx) => tx.auditLogs.list({ tableName, limit, cursor }));
        expect(page.items.length).toBeLessThanOrEqual(limit);
        pages.push(page.items);
        if (page.nextCursor === null) return pages;
        expect(page.items).toHaveLength(limit);
        cursor = page.nextCursor;
      }
    }

    beforeAll(async () => {
      g = await createTenant(h.store);
      // One transaction, one now(): eight rows (four projects and four usage updates) share one occurred_at.
      const ids = await asG(async (tx) => {
        const created: string[] = [];
        for (const n of [1, 2, 3, 4])
          created.push((await tx.projects.create({ slug: `p${n}`, name: `P${n}` })).id);
        return created;
      });
      for (const id of ids) await asG((tx) => tx.projects.update(id, { name: `Renamed ${id}` }));
    });

    it('returns every row exactly once, newest first, across pages that split rows of one occurred_at', async () => {
      const expected = await h.asOwner((c) =>
        c.query<{ id: string }>(
          'SELECT id FROM audit_logs WHERE tenant_id = $1 ORDER BY occurred_at DESC, id DESC',
          [g.tenant.id],
        ),
      );
      const { items: all } = await asG((tx) => tx.auditLogs.list({ limit: 1000 }));
      expect(all.map((row) => row.id)).toEqual(expected.map((row) => Number(row.id)));
      const perTime = new Map<number, number>();
      for (const row of all)
        perTime.set(row.occurredAt.getTime(), (perTime.get(row.occurredAt.getTime()) ?? 0) + 1);
      expect(Math.max(...perTime.values())).toBeGreaterThanOrEqual(8);
      for (const limit of [1, 3, 5]) {
        const pages = await allPages(limit);
        expect(
          pages.flat().map((row) => row.id),
          `limit ${limit}`,
        ).toEqual(all.map((row) => row.id));
      }
      const projects = all.filter((row) => row.tableName === 'projects');
      expect((await allPages(3, 'projects')).flat()).toEqual(projects);
    });

    it('pages on from a cursor naming no row, from the time as given', async () => {
      const { items: all } = await asG((tx) => tx.auditLogs.list({ limit: 1000 }));
      const from = (occurredAt: Date, id: number) =>
        asG((tx) =>
          tx.auditLogs.list({
            limit: 1000,
            cursor: encodeCursor('audit logs', [occurredAt.toISOString(), id]),
          }),
        );
      expect((await from(new Date(Date.now() + 60_000), Number.MAX_SAFE_INTEGER)).items).toEqual(all);
      expect(await from(new Date(0), 1)).toEqual({ items: [], nextCursor: null });
    });

    it('refuses a malformed cursor with a ValidationError', async () => {
      const at = new Date().toISOString();
      const cursor = (...key: Array<string | number>) => ({ cursor: encodeCursor('audit logs', key) });
      for (const bad of [
        cursor('not a time', 1),
        cursor(at, 0),
        cursor(at, 1.5),
        cursor(at, '1'),
        cursor(at),
        cursor(at, 1, g.tenant.id),
        { cursor: encodeCursor('projects', [at, 1]) },
        { cursor: 'not base64url!' },
        { cursor: Buffer.from('{"not":"an array"}').toString('base64url') },
        { before: { occurredAt: at, id: 1 } },
      ]) {
        const error = await caught(asG((tx) => tx.auditLogs.list(bad as never)));
        expect(error, JSON.stringify(bad)).toBeInstanceOf(ValidationError);
      }
    });
  });

  describe('append-only', () => {
    const tampering = [
      ['UPDATE', `UPDATE audit_logs SET actor_id = 'tampered'`],
      ['DELETE', 'DELETE FROM audit_logs'],
      ['TRUNCATE', 'TRUNCATE audit_logs'],
      [
        'INSERT',
        `INSERT INTO audit_logs (actor_type, db_role, action, table_name) VALUES ('user', 'x', 'insert', 'forged')`,
      ],
    ] as const;

    async function expectUntouched(count: number): Promise<void> {
      expect(count).toBeGreaterThan(0);
      expect(await auditCount(h)).toBe(count);
      const [row] = await h.asOwner((c) =>
        c.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM audit_logs WHERE actor_id = 'tampered' OR table_name = 'forged'`,
        ),
      );
      expect(row?.n).toBe(0);
    }

    for (const [verb, text] of tampering) {
      it(`refuses ${verb} by the app role`, async () => {
        const before = await auditCount(h);
        const error = await caught(asUser((tx) => tx.query(text)));
        expect(error).toBeInstanceOf(ForbiddenError);
        expect(((error as ForbiddenError).cause as DatabaseError).kind).toBe('insufficient_privilege');
        await expectUntouched(before);
      });

      it(`refuses ${verb} by the service role`, async () => {
        const before = await auditCount(h);
        const error = await caught(h.store.asService({ actor: 'rogue-job' }, (tx) => tx.query(text)));
        expect(error).toBeInstanceOf(ForbiddenError);
        expect(((error as ForbiddenError).cause as DatabaseError).kind).toBe('insufficient_privilege');
        await expectUntouched(before);
      });
    }

    for (const [verb, text] of tampering.filter(([verb]) => verb !== 'INSERT')) {
      it(`refuses ${verb} even by the owner (append-only trigger)`, async () => {
        const before = await auditCount(h);
        const error = await caught(h.asOwner((c: Connection) => c.query(text)));
        expect(error).toBeInstanceOf(DatabaseError);
        expect((error as DatabaseError).kind).toBe('insufficient_privilege');
        expect((error as DatabaseError).message).toContain('append-only');
        await expectUntouched(before);
      });
    }
  });
});
