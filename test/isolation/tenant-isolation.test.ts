import { randomUUID } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { DatabaseError, ForbiddenError, NotFoundError, type TenantTx, UsageError } from '../../src/index.ts';
import { encodeCursor } from '../../src/shared/pagination.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { createTenant, type TenantFixture } from '../harness/fixtures.ts';

/** A table a tenant can reach, as the catalog describes it to the app role. */
interface TenantTable {
  table: string;
  /** The column that names the tenant: `id` for tenants, `tenant_id` elsewhere. */
  column: string;
  /** The columns an INSERT may name (generated and always-identity columns take no value). */
  insertable: string[];
  /** A column agentflow_app may UPDATE, or null when it may update none. */
  updatable: string | null;
  deletable: boolean;
}

// Read from the catalog rather than listed, so a table added by a later migration is covered too.
const TENANT_TABLES_SQL = `
SELECT c.relname AS table, CASE WHEN c.relname = 'tenants' THEN 'id' ELSE 'tenant_id' END AS column,
       ARRAY(SELECT a.attname::text FROM pg_attribute a
              WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                AND a.attgenerated = '' AND a.attidentity <> 'a'
              ORDER BY a.attnum) AS insertable,
       (SELECT a.attname::text FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
           AND has_column_privilege('agentflow_app', c.oid, a.attnum, 'UPDATE')
         ORDER BY a.attnum LIMIT 1) AS updatable,
       has_table_privilege('agentflow_app', c.oid, 'DELETE') AS deletable
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
   AND (c.relname = 'tenants' OR EXISTS (SELECT 1 FROM pg_attribute a
                                          WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
 ORDER BY c.relname`;

/**
 * One raw write per command. None has RETURNING, and with `scope` 'every row' UPDATE/DELETE have no
 * WHERE: either clause makes PostgreSQL apply the SELECT policies as well, which would hide an open
 * INSERT, UPDATE or DELETE policy ('tenant' scope needs the WHERE, so it tests the policies together).
 * The INSERT re-submits a stored row of `tenantId`, so only row-level security or a missing grant can
 * refuse it.
 */
async function rawWrites(
  h: EngineHarness,
  t: TenantTable,
  tenantId: string,
  scope: 'tenant' | 'every row',
): Promise<Array<{ command: string; text: string; params: unknown[]; privileged: boolean }>> {
  const [stored] = await h.asOwner((c) =>
    c.query<{ row: string }>(
      `SELECT to_jsonb(t)::text AS row FROM ${t.table} t WHERE ${t.column} = $1 LIMIT 1`,
      [tenantId],
    ),
  );
  if (!stored) throw new Error(`${t.table} holds no row of tenant ${tenantId} to copy`);
  const columns = t.insertable.join(', ');
  const where = scope === 'tenant' ? ` WHERE ${t.column} = $1` : '';
  const params = scope === 'tenant' ? [tenantId] : [];
  // With no updatable column the statement names the tenant column, and the privilege check refuses it.
  const set = t.updatable ?? t.column;
  return [
    {
      command: 'INSERT',
      text: `INSERT INTO ${t.table} (${columns}) SELECT ${columns} FROM jsonb_populate_record(NULL::${t.table}, $1::jsonb)`,
      params: [stored.row],
      privileged: false,
    },
    // DEFAULT reads nothing of the row; any row it reaches changes (or fails a constraint).
    {
      command: 'UPDATE',
      text: `UPDATE ${t.table} SET ${set} = DEFAULT${where}`,
      params,
      privileged: t.updatable !== null,
    },
    { command: 'DELETE', text: `DELETE FROM ${t.table}${where}`, params, privileged: t.deletable },
  ];
}

/** Whether a statement ran or the database denied it; any other failure is rethrown. */
async function outcome(attempt: Promise<unknown>): Promise<'ran' | 'refused'> {
  try {
    await attempt;
    return 'ran';
  } catch (error) {
    // Through withTenant the DatabaseError arrives wrapped in a ForbiddenError.
    const dbError = error instanceof ForbiddenError ? error.cause : error;
    if (dbError instanceof DatabaseError && dbError.kind === 'insufficient_privilege') return 'refused';
    throw error;
  }
}

/** The stored rows of a table (of one tenant, or all), read as the owner: changes whenever any of them does. */
async function fingerprint(h: EngineHarness, t: TenantTable, tenantId: string | null): Promise<string> {
  const where = tenantId === null ? '' : ` WHERE ${t.column} = $1`;
  const [row] = await h.asOwner((c) =>
    c.query<{ rows: string }>(
      `SELECT count(*) || ':' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS rows
         FROM ${t.table} x${where}`,
      tenantId === null ? [] : [tenantId],
    ),
  );
  return row?.rows ?? '';
}

/**
 * An agent with a work session and an event of `tenantId`, written as the owner. Every tenant table
 * needs rows of both tenants here; a table that lands adds its rows to this set-up.
 */
async function seedAgentRows(h: EngineHarness, tenantId: string, projectId: string): Promise<void> {
  await h.asOwner(async (c) => {
    const [agent] = await c.query<{ id: string }>(
      `INSERT INTO agents (tenant_id, project_id, level, type, code, name, role_title)
       VALUES ($1, $2, 'project', 'backend_dev', 'dev-1', 'Dev', 'Developer') RETURNING id`,
      [tenantId, projectId],
    );
    const [session] = await c.query<{ id: string }>(
      'INSERT INTO work_sessions (tenant_id, agent_id, project_id) VALUES ($1, $2, $3) RETURNING id',
      [tenantId, agent!.id, projectId],
    );
    await c.query(
      `INSERT INTO events (tenant_id, type, project_id, session_id, author_id, payload, mentions)
       VALUES ($1, 'session_log', $2, $3, $4, '{"message": "hello"}', ARRAY[$4::uuid])`,
      [tenantId, projectId, session!.id, agent!.id],
    );
    const [credential] = await c.query<{ id: string }>(
      `INSERT INTO agent_credentials (tenant_id, agent_id, key_prefix, secret_hash)
       VALUES ($1, $2, substr(md5(random()::text), 1, 16), repeat('0', 64)) RETURNING id`,
      [tenantId, agent!.id],
    );
    await c.query(
      `INSERT INTO agent_credential_uses (tenant_id, credential_id, agent_id, outcome) VALUES ($1, $2, $3, 'success')`,
      [tenantId, credential!.id, agent!.id],
    );
    await c.query(
      `INSERT INTO kpis (tenant_id, agent_id, metrics) VALUES ($1, $2, '{"tasksCompleted": 1}')`,
      [tenantId, agent!.id],
    );
    const tasks = await c.query<{ id: string }>(
      `INSERT INTO tasks (tenant_id, project_id, title) VALUES ($1, $2, 'first'), ($1, $2, 'second') RETURNING id`,
      [tenantId, projectId],
    );
    await c.query('INSERT INTO task_dependencies (tenant_id, task_id, depends_on_id) VALUES ($1, $2, $3)', [
      tenantId,
      tasks[1]!.id,
      tasks[0]!.id,
    ]);
    await c.query(
      `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, response_status, response_body)
       VALUES ($1, 'key-1', repeat('0', 64), 201, '{}')`,
      [tenantId],
    );
    // Its activity_feed rows (task_created, task_assigned) are the database's.
    await c.query(
      `INSERT INTO tasks (tenant_id, project_id, title, status, assignee_agent_id)
       VALUES ($1, $2, 'Ship it', 'assigned', $3)`,
      [tenantId, projectId, agent!.id],
    );
    // A finished run of a task: the run's totals (task, tenant, day) are the database's.
    const [execution] = await c.query<{ id: string }>(
      `INSERT INTO task_executions (tenant_id, task_id, agent_id, project_id, status, input_tokens, cost_usd)
       VALUES ($1, $2, $3, $4, 'running', 10, '0.5') RETURNING id`,
      [tenantId, tasks[0]!.id, agent!.id, projectId],
    );
    await c.query(`UPDATE task_executions SET status = 'success', output_tokens = 5 WHERE id = $1`, [
      execution!.id,
    ]);
    // A task in progress with an artifact and an approval waiting (the task's timeline events are
    // authored by the acting agent).
    await c.query(
      `SELECT set_config('agentflow.actor_type', 'agent', true), set_config('agentflow.actor_id', $1, true)`,
      [agent!.id],
    );
    const [task] = await c.query<{ id: string }>(
      `INSERT INTO tasks (tenant_id, project_id, title, status, assignee_agent_id)
       VALUES ($1, $2, 'Reviewed work', 'assigned', $3) RETURNING id`,
      [tenantId, projectId, agent!.id],
    );
    await c.query(`UPDATE tasks SET status = 'in_progress' WHERE id = $1`, [task!.id]);
    const [artifact] = await c.query<{ id: string }>(
      `INSERT INTO artifacts (tenant_id, task_id, type, path, content, created_by_agent_id)
       VALUES ($1, $2, 'code', 'src/a.ts', 'a', $3) RETURNING id`,
      [tenantId, task!.id, agent!.id],
    );
    await c.query(
      `INSERT INTO approvals (tenant_id, task_id, title, artifact_ids, requested_by_agent_id)
       VALUES ($1, $2, 'Merge?', ARRAY[$3::uuid], $4)`,
      [tenantId, task!.id, artifact!.id, agent!.id],
    );
    // A task with a comment, an attachment and a checkpoint (and the activity entries they make).
    const [noted] = await c.query<{ id: string }>(
      `INSERT INTO tasks (tenant_id, project_id, title) VALUES ($1, $2, 'Seeded task') RETURNING id`,
      [tenantId, projectId],
    );
    await c.query(
      `INSERT INTO task_comments (tenant_id, task_id, author_agent_id, body) VALUES ($1, $2, $3, 'hi')`,
      [tenantId, noted!.id, agent!.id],
    );
    await c.query(
      `INSERT INTO task_attachments (tenant_id, task_id, uploaded_by_agent_id, storage_path, size_bytes, content_type)
       VALUES ($1, $2, $3, 'a.png', 1, 'image/png')`,
      [tenantId, noted!.id, agent!.id],
    );
    await c.query(
      `INSERT INTO task_checkpoints (tenant_id, task_id, sequence, state) VALUES ($1, $2, 1, '{}')`,
      [tenantId, noted!.id],
    );
    await c.query(
      `INSERT INTO lessons (tenant_id, category, title, summary, tags, source_agent_type, source_agent_id, task_id)
       VALUES ($1, 'database', 'Seeded lesson', 'A lesson', ARRAY['seed'], 'backend_dev', $2, $3)`,
      [tenantId, agent!.id, noted!.id],
    );
    await c.query(
      `INSERT INTO self_reviews (tenant_id, task_id, iteration, agent_type, agent_id, quality_score,
         completeness_score, correctness_score, overall_score, decision)
       VALUES ($1, $2, 1, 'backend_dev', $3, 0.5, 0.5, 0.5, 0.5, 'accept')`,
      [tenantId, noted!.id, agent!.id],
    );
    await c.query(
      `INSERT INTO patterns (tenant_id, pattern_type, agent_type, pattern_key, description)
       VALUES ($1, 'recurring_error', 'backend_dev', 'seeded', 'A pattern')`,
      [tenantId],
    );
    // The wiki: an approved version by an organization agent (its wiki_pages row comes with it).
    const [lead] = await c.query<{ id: string }>(
      `INSERT INTO agents (tenant_id, level, type, code, name, role_title)
       VALUES ($1, 'organization', 'orchestrator', 'lead-1', 'Lead', 'Tech lead') RETURNING id`,
      [tenantId],
    );
    // Its wiki_contribution event is authored by the proposing agent, so it acts now.
    await c.query(`SELECT set_config('agentflow.actor_id', $1, true)`, [lead!.id]);
    await c.query(
      `INSERT INTO wiki_entries (tenant_id, id, entry_id, version, project_id, proposed_by_agent_id, status,
                                 title, slug, content, decided_at)
       VALUES ($1, $2, $2, 1, $3, $4, 'approved', 'Runbook', 'runbook', 'Restart the worker.', now())`,
      [tenantId, randomUUID(), projectId, lead!.id],
    );
    const evidence = await c.query<{ id: string }>(
      `INSERT INTO evidence (tenant_id, project_id, task_id, source_type, title, content)
       VALUES ($1, $2, $3, 'log', 'one', 'x'), ($1, $2, $3, 'log', 'two', 'y') RETURNING id`,
      [tenantId, projectId, noted!.id],
    );
    const [low, high] = evidence.map((row) => row.id).sort();
    await c.query(
      `INSERT INTO evidence_links (tenant_id, low_id, high_id, kind) VALUES ($1, $2, $3, 'related')`,
      [tenantId, low, high],
    );
    // The run above cites one of them (its guard applies to tenant work only).
    await c.query(
      `INSERT INTO execution_evidence (tenant_id, execution_id, evidence_id, cited_by_agent_id, note)
       VALUES ($1, $2, $3, $4, 'seeded')`,
      [tenantId, execution!.id, low, agent!.id],
    );
  });
}

describeEachEngine(
  'tenant isolation',
  (h) => {
    let a: TenantFixture;
    let b: TenantFixture;
    let projectOfB: string;
    let tenantTables: TenantTable[];

    beforeAll(async () => {
      tenantTables = await h.asOwner((c) => c.query<TenantTable>(TENANT_TABLES_SQL));
      a = await createTenant(h.store);
      b = await createTenant(h.store);
      await h.store
        .withTenant(a.context, async (tx) => {
          const project = await tx.projects.create({ slug: 'alpha', name: 'Alpha' });
          await tx.projectFiles.upsert({ projectId: project.id, path: 'README.md', content: 'a' });
          await tx.agentStates.save({ projectId: project.id, state: { owner: 'a' }, expectedVersion: null });
          return project.id;
        })
        .then((projectId) => seedAgentRows(h, a.tenant.id, projectId));
      projectOfB = await h.store.withTenant(b.context, async (tx) => {
        const project = await tx.projects.create({ slug: 'beta', name: 'Beta' });
        await tx.projectFiles.upsert({ projectId: project.id, path: 'README.md', content: 'b' });
        await tx.agentStates.save({ projectId: project.id, state: { owner: 'b' }, expectedVersion: null });
        return project.id;
      });
      await seedAgentRows(h, b.tenant.id, projectOfB);
    });

    it('hides the other tenant from every repository read', async () => {
      await h.store.withTenant(a.context, async (tx) => {
        await expect(tx.projects.get(projectOfB)).rejects.toBeInstanceOf(NotFoundError);
        await expect(tx.projects.getBySlug('beta')).rejects.toBeInstanceOf(NotFoundError);
        expect((await tx.projects.list()).items.map((p) => p.slug)).toEqual(['alpha']);
        await expect(tx.projectFiles.get(projectOfB, 'README.md')).rejects.toBeInstanceOf(NotFoundError);
        expect((await tx.projectFiles.list(projectOfB)).items).toEqual([]);
        await expect(tx.agentStates.get(projectOfB)).rejects.toBeInstanceOf(NotFoundError);
        await expect(tx.users.get(b.owner.id)).rejects.toBeInstanceOf(NotFoundError);
        expect((await tx.memberships.list()).items.map((m) => m.userId)).toEqual([a.owner.id]);
        expect((await tx.tenants.current()).id).toBe(a.tenant.id);
        const { items: audit } = await tx.auditLogs.list({ limit: 1000 });
        expect(audit.length).toBeGreaterThan(0);
        expect(audit.every((row) => row.tenantId === a.tenant.id)).toBe(true);
      });
    });

    it('shows nothing of the other tenant through a cursor it made', async () => {
      // A cursor names a position only: B's cursors, used by A, still page over A's rows alone.
      const cursors = await h.store.withTenant(b.context, async (tx) => ({
        projects: (await tx.projects.list({ limit: 1, cursor: encodeCursor('projects', ['a', projectOfB]) }))
          .items,
        audit: (await tx.auditLogs.list({ limit: 1 })).nextCursor,
        members: encodeCursor('memberships', [new Date(0).toISOString(), b.owner.id]),
      }));
      expect(cursors.projects.map((p) => p.slug)).toEqual(['beta']);
      await h.store.withTenant(a.context, async (tx) => {
        expect(
          (await tx.projects.list({ cursor: encodeCursor('projects', ['a', projectOfB]) })).items.map(
            (p) => p.slug,
          ),
        ).toEqual(['alpha']);
        const audit = await tx.auditLogs.list({ cursor: cursors.audit!, limit: 1000 });
        expect(audit.items.length).toBeGreaterThan(0);
        expect(audit.items.every((row) => row.tenantId === a.tenant.id)).toBe(true);
        expect((await tx.memberships.list({ cursor: cursors.members })).items.map((m) => m.userId)).toEqual([
          a.owner.id,
        ]);
      });
    });

    it('refuses repository writes to the other tenant', async () => {
      // Each attempt in its own unit of work: a refused statement ends the transaction it ran in.
      const attempts: Array<[string, (tx: TenantTx) => Promise<unknown>]> = [
        ['update project', (tx) => tx.projects.update(projectOfB, { name: 'hijacked' })],
        ['delete project', (tx) => tx.projects.delete(projectOfB)],
        ['delete file', (tx) => tx.projectFiles.delete(projectOfB, 'README.md')],
        [
          'write file',
          (tx) => tx.projectFiles.upsert({ projectId: projectOfB, path: 'evil.txt', content: 'x' }),
        ],
        [
          'overwrite state',
          (tx) => tx.agentStates.save({ projectId: projectOfB, state: {}, expectedVersion: 1 }),
        ],
        [
          'create state',
          (tx) => tx.agentStates.save({ projectId: projectOfB, state: {}, expectedVersion: null }),
        ],
        ['remove member', (tx) => tx.memberships.delete(b.owner.id)],
      ];
      for (const [label, attempt] of attempts) {
        await expect(h.store.withTenant(a.context, attempt), label).rejects.toBeInstanceOf(NotFoundError);
      }
      await h.store.withTenant(b.context, async (tx) => {
        expect((await tx.projects.get(projectOfB)).name).toBe('Beta');
        expect((await tx.projectFiles.get(projectOfB, 'README.md')).content).toBe('b');
        expect((await tx.agentStates.get(projectOfB)).state).toEqual({ owner: 'b' });
      });
    });

    it('finds every tenant table in the catalog', () => {
      // Guards the catalog query itself: the tests below prove nothing about a table it misses.
      expect(tenantTables.map((t) => t.table)).toEqual(
        expect.arrayContaining([
          'tenants',
          'memberships',
          'projects',
          'project_files',
          'agent_states',
          'audit_logs',
        ]),
      );
    });

    it('confines raw SQL of the app role to its tenant', async () => {
      await h.store.withTenant(a.context, async (tx) => {
        for (const { table, column } of tenantTables) {
          const rows = await tx.query<{ tenant: string }>(
            `SELECT DISTINCT ${column}::text AS tenant FROM ${table}`,
          );
          expect(
            rows.map((r) => r.tenant),
            table,
          ).toEqual([a.tenant.id]);
        }
        const updated = await tx.query(
          `UPDATE projects SET name = 'hijacked' WHERE tenant_id = $1 RETURNING id`,
          [b.tenant.id],
        );
        expect(updated).toEqual([]);
        const deleted = await tx.query(`DELETE FROM project_files WHERE tenant_id = $1 RETURNING id`, [
          b.tenant.id,
        ]);
        expect(deleted).toEqual([]);
        const tenantsUpdated = await tx.query(`UPDATE tenants SET name = 'x' WHERE id = $1 RETURNING id`, [
          b.tenant.id,
        ]);
        expect(tenantsUpdated).toEqual([]);
      });
      await h.store.withTenant(b.context, async (tx) => {
        expect((await tx.projects.get(projectOfB)).name).toBe('Beta');
        expect((await tx.projectFiles.list(projectOfB)).items).toHaveLength(1);
      });
    });

    it('lets a tenant change its name and settings but not its plan, status, quotas or usage', async () => {
      await h.store.withTenant(a.context, (tx) => tx.tenants.updateSettings({ theme: 'dark' }));
      for (const assignment of [
        `plan = 'enterprise'`,
        `status = 'active'`,
        `quotas = '{}'`,
        `usage = '{}'`,
      ]) {
        const attempt = h.store.withTenant(a.context, (tx) =>
          tx.query(`UPDATE tenants SET ${assignment} WHERE id = $1`, [a.tenant.id]),
        );
        await expect(attempt, assignment).rejects.toBeInstanceOf(ForbiddenError);
      }
      // Nor may it count usage against another tenant through the usage function.
      const foreignUsage = h.store.withTenant(a.context, (tx) =>
        tx.query(`SELECT agentflow.add_usage($1, 'projects', -1)`, [b.tenant.id]),
      );
      await expect(foreignUsage).rejects.toBeInstanceOf(ForbiddenError);
      await h.store.withTenant(b.context, async (tx) =>
        expect((await tx.tenants.current()).usage.projects).toBe(1),
      );
    });

    it('refuses every write in a read-only unit of work', async () => {
      const before = await h.store.withTenant(a.context, (tx) => tx.projects.list(), { readOnly: true });
      expect(before.items.map((p) => p.slug)).toEqual(['alpha']);
      const write = h.store.withTenant(
        a.context,
        (tx) => tx.projects.create({ slug: 'nope', name: 'Nope' }),
        {
          readOnly: true,
        },
      );
      await expect(write).rejects.toBeInstanceOf(ForbiddenError);
      await expect(
        h.store.withTenant(a.context, (tx) => tx.projects.getBySlug('nope')),
      ).rejects.toBeInstanceOf(NotFoundError);
    });

    it('refuses a raw insert that names another tenant', async () => {
      const attempt = h.store.withTenant(a.context, (tx) =>
        tx.query(`INSERT INTO projects (tenant_id, slug, name) VALUES ($1, 'planted', 'Planted')`, [
          b.tenant.id,
        ]),
      );
      await expect(attempt).rejects.toBeInstanceOf(ForbiddenError);
      await h.store.withTenant(b.context, async (tx) => {
        await expect(tx.projects.getBySlug('planted')).rejects.toBeInstanceOf(NotFoundError);
      });
    });

    it('rejects a cross-tenant foreign key in the database itself', async () => {
      // Tenant A names B's project: the composite key (tenant_id, project_id) has no match in A.
      const attempt = h.store.withTenant(a.context, (tx) =>
        tx.query(
          `INSERT INTO project_files (tenant_id, project_id, path, content) VALUES ($1, $2, 'x', 'x')`,
          [a.tenant.id, projectOfB],
        ),
      );
      const error = await attempt.catch((e: unknown) => e);
      // Another tenant's project does not exist for A: the constraint table makes it NotFoundError.
      expect(error).toBeInstanceOf(NotFoundError);
      expect((error as NotFoundError).cause).toBeInstanceOf(DatabaseError);
      expect(((error as NotFoundError).cause as DatabaseError).kind).toBe('foreign_key_violation');
      // Even the service role, which passes row-level security, cannot build the link.
      const asService = h.store.asService({ actor: 'test' }, (tx) =>
        tx.query(
          `INSERT INTO project_files (tenant_id, project_id, path, content) VALUES ($1, $2, 'x', 'x')`,
          [a.tenant.id, projectOfB],
        ),
      );
      await expect(asService).rejects.toMatchObject({ cause: { kind: 'foreign_key_violation' } });
    });

    it('refuses raw writes to the other tenant on every tenant table', async () => {
      for (const t of tenantTables) {
        const before = await fingerprint(h, t, b.tenant.id);
        for (const write of await rawWrites(h, t, b.tenant.id, 'tenant')) {
          // Each attempt in its own unit of work: a refused statement ends the transaction it ran in.
          const result = await outcome(
            h.store.withTenant(a.context, (tx) => tx.query(write.text, write.params)),
          );
          expect(result, `${write.command} ${t.table}`).toBe(write.privileged ? 'ran' : 'refused');
        }
        expect(await fingerprint(h, t, b.tenant.id), t.table).toBe(before);
      }
    });

    it('refuses raw writes to every tenant table when no tenant is set', async () => {
      for (const t of tenantTables) {
        const before = await fingerprint(h, t, null);
        for (const write of await rawWrites(h, t, a.tenant.id, 'every row')) {
          const result = await outcome(h.asAppWithoutTenant((c) => c.query(write.text, write.params)));
          expect(result, `${write.command} ${t.table}`).toBe(write.privileged ? 'ran' : 'refused');
        }
        // An UPDATE or DELETE that ran reached no row at all.
        expect(await fingerprint(h, t, null), t.table).toBe(before);
      }
    });

    it('shows no rows and accepts no insert when no tenant is set', async () => {
      await h.asAppWithoutTenant(async (connection) => {
        for (const table of [...tenantTables.map((t) => t.table), 'users']) {
          const [row] = await connection.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
          expect(row?.n, table).toBe(0);
        }
      });
      const inserts: Array<[string, string, unknown[]]> = [
        [
          'projects',
          `INSERT INTO projects (tenant_id, slug, name) VALUES ($1, 'orphan', 'Orphan')`,
          [a.tenant.id],
        ],
        ['projects (default tenant)', `INSERT INTO projects (slug, name) VALUES ('orphan', 'Orphan')`, []],
        [
          'memberships',
          `INSERT INTO memberships (tenant_id, user_id, role) VALUES ($1, $2, 'member')`,
          [a.tenant.id, b.owner.id],
        ],
      ];
      for (const [label, text, params] of inserts) {
        const error = await h
          .asAppWithoutTenant((connection) => connection.query(text, params))
          .catch((e: unknown) => e);
        expect(error, label).toBeInstanceOf(DatabaseError);
        expect(['insufficient_privilege', 'not_null_violation'], label).toContain(
          (error as DatabaseError).kind,
        );
      }
    });

    it('refuses a unit of work opened inside another, and rolls the outer one back', async () => {
      const nested = h.store.withTenant(a.context, async (tx) => {
        await tx.projects.create({ slug: 'outer', name: 'Outer' });
        await h.store.withTenant(b.context, (inner) =>
          inner.projects.create({ slug: 'inner', name: 'Inner' }),
        );
      });
      await expect(nested).rejects.toBeInstanceOf(UsageError);
      await expect(
        h.store.withTenant(a.context, (tx) => tx.projects.getBySlug('outer')),
      ).rejects.toBeInstanceOf(NotFoundError);
      await expect(
        h.store.withTenant(b.context, (tx) => tx.projects.getBySlug('inner')),
      ).rejects.toBeInstanceOf(NotFoundError);
    });

    it('keeps the tenant context inside its transaction', async () => {
      await h.store.withTenant(a.context, (tx) => tx.projects.list());
      // The same (single, for PGlite) connection afterwards carries no tenant and no role.
      const [row] = await h.asOwner((connection) =>
        connection.query<{ tenant: string | null; role: string }>(
          `SELECT nullif(current_setting('agentflow.tenant_id', true), '') AS tenant, current_user::text AS role`,
        ),
      );
      expect(row?.tenant).toBeNull();
      expect(row?.role).not.toBe('agentflow_app');
    });
  },
  'all',
  { pgbouncer: {} },
);
