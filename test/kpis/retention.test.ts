import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { ForbiddenError, NO_TENANT_ID, RETENTION_TABLES, ValidationError } from '../../src/index.ts';
import { agentflow } from '../harness/cli.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createTenant, ownerCount, type TenantFixture } from '../harness/fixtures.ts';

/**
 * Problem reports of a tenant's agent `aging`, aged `days` days (0 = now), written as the owner (the
 * one role that may date an event); returns their ids.
 */
async function ageEvents(h: EngineHarness, tenantId: string, days: number[]): Promise<string[]> {
  return h.asOwner(async (c) => {
    await c.query(
      `INSERT INTO agents (tenant_id, level, type, code, name, role_title)
       VALUES ($1, 'organization', 'analyst', 'aging', 'Aging', 'Analyst') ON CONFLICT (tenant_id, code) DO NOTHING`,
      [tenantId],
    );
    const rows = await c.query<{ id: string }>(
      `INSERT INTO events (tenant_id, type, author_id, payload, occurred_at)
       SELECT $1, 'problem_report', (SELECT id FROM agents WHERE tenant_id = $1 AND code = 'aging'),
              jsonb_build_object('message', 'aged ' || d), now() - make_interval(days => d)
         FROM unnest($2::int[]) AS d RETURNING id::text`,
      [tenantId, days],
    );
    return rows.map((r) => r.id);
  });
}

const eventIds = async (h: EngineHarness, tenantId: string) =>
  (
    await h.asOwner((c) =>
      c.query<{ id: string }>('SELECT e.id::text AS id FROM events e WHERE e.tenant_id = $1 ORDER BY e.id', [
        tenantId,
      ]),
    )
  ).map((r) => r.id);

interface Line {
  table: string;
  tenantId: string;
  cutoff: string;
  row: { id: number; tenant_id: string; occurred_at: string; payload: { message: string } };
}

describeEachEngine('retention', (h) => {
  let byDefault: TenantFixture;
  let custom: TenantFixture;
  let untouched: TenantFixture;

  beforeAll(async () => {
    [byDefault, custom, untouched] = [
      await createTenant(h.store),
      await createTenant(h.store),
      await createTenant(h.store),
    ];
    await h.store.withTenant(custom.context, (tx) =>
      tx.tenants.updateSettings({ retention: { eventsDays: 30 } }),
    );
  });

  it('keeps events a year by default and as long as the tenant says, exporting before removing', async () => {
    const [, old1, old2, , young] = await ageEvents(h, byDefault.tenant.id, [0, 400, 366, 100, 31]);
    const customIds = await ageEvents(h, custom.tenant.id, [0, 400, 366, 100, 31, 29]);
    const keptElsewhere = await ageEvents(h, untouched.tenant.id, [500, 0]);
    let written = '';
    const write = async (lines: string) => {
      written += lines;
    };
    const reports = [];
    for (const tenant of [byDefault, custom])
      reports.push(
        await h.store.asService({ actor: 'test-retention' }, (svc) =>
          svc.retention.exportExpired({ tenantId: tenant.tenant.id, write, pageSize: 2 }),
        ),
      );
    const lines = written
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Line);
    const exported = (tenantId: string) =>
      lines.filter((l) => l.tenantId === tenantId).map((l) => String(l.row.id));
    expect(exported(byDefault.tenant.id)).toEqual([old1, old2]);
    expect(exported(custom.tenant.id)).toEqual(customIds.slice(1, 5));
    expect(lines.every((l) => l.table === 'events' && l.row.tenant_id === l.tenantId)).toBe(true);
    expect(lines[0]!.row.payload).toEqual({ message: 'aged 400' });
    const nothing = { table: 'agent_credential_uses', days: 90, exported: 0, purged: 0 };
    expect(reports.map((r) => r.results.map(({ cutoff: _, ...rest }) => rest))).toEqual([
      [
        { tenantId: byDefault.tenant.id, table: 'events', days: 365, exported: 2, purged: 2 },
        { tenantId: byDefault.tenant.id, ...nothing },
      ],
      [
        { tenantId: custom.tenant.id, table: 'events', days: 30, exported: 4, purged: 4 },
        { tenantId: custom.tenant.id, ...nothing },
      ],
    ]);
    // Exactly the exported rows are gone; the other tenant kept its old events.
    expect(await eventIds(h, byDefault.tenant.id)).not.toContain(old1);
    expect(await eventIds(h, byDefault.tenant.id)).toContain(young);
    expect(await eventIds(h, custom.tenant.id)).toEqual([customIds[0], customIds[5]]);
    expect(await eventIds(h, untouched.tenant.id)).toEqual(keptElsewhere);
    // Audited: what went, per page, with its cutoff.
    const audit = await h.asOwner((c) =>
      c.query<{
        actor_type: string;
        actor_id: string;
        old_values: { retention: { purged: number; cutoff: string } };
      }>(
        `SELECT actor_type, actor_id, old_values FROM audit_logs
          WHERE tenant_id = $1 AND table_name = 'events' AND action = 'delete' ORDER BY id`,
        [custom.tenant.id],
      ),
    );
    expect(audit.map((a) => a.old_values.retention.purged)).toEqual([2, 2]);
    expect(audit.every((a) => a.actor_type === 'service' && a.actor_id === 'test-retention')).toBe(true);
    expect(new Date(audit[0]!.old_values.retention.cutoff).getTime()).toBeCloseTo(
      Date.now() - 30 * 86_400_000,
      -5,
    );
  });

  it('keeps key usage rows 90 days by default, those of no tenant too', async () => {
    const tenant = await createTenant(h.store);
    const ageUses = (tenantId: string, days: number[]) =>
      h.asOwner((c) =>
        c.query(
          `INSERT INTO agent_credential_uses (tenant_id, outcome, occurred_at)
           SELECT $1, 'unknown_key', now() - make_interval(days => d) FROM unnest($2::int[]) AS d`,
          [tenantId, days],
        ),
      );
    await ageUses(tenant.tenant.id, [91, 89]);
    await ageUses(NO_TENANT_ID, [120, 1]);
    const before = await ownerCount(h, 'agent_credential_uses WHERE tenant_id = $1', [NO_TENANT_ID]);
    let written = '';
    const write = async (lines: string) => {
      written += lines;
    };
    for (const tenantId of [tenant.tenant.id, NO_TENANT_ID])
      await h.store.asService({ actor: 'test-retention' }, (svc) =>
        svc.retention.exportExpired({ tenantId, write }),
      );
    const lines = written
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Line);
    expect(lines.filter((l) => l.table === 'agent_credential_uses').map((l) => l.tenantId)).toEqual([
      tenant.tenant.id,
      NO_TENANT_ID,
    ]);
    expect(await ownerCount(h, 'agent_credential_uses WHERE tenant_id = $1', [tenant.tenant.id])).toBe(1);
    expect(await ownerCount(h, 'agent_credential_uses WHERE tenant_id = $1', [NO_TENANT_ID])).toBe(
      before - 1,
    );
  });

  it('removes nothing when the export fails, and exports it again next time', async () => {
    const tenant = await createTenant(h.store);
    const ids = await ageEvents(h, tenant.tenant.id, [400, 400, 0]);
    const failing = async () => {
      throw new Error('disk full');
    };
    const run = (write: (lines: string) => Promise<void>) =>
      h.store.asService({ actor: 'test-retention' }, (svc) =>
        svc.retention.exportExpired({ tenantId: tenant.tenant.id, write, pageSize: 1 }),
      );
    // The second page fails: the first page's removal is rolled back with the unit of work.
    let pages = 0;
    await expect(
      run(async (lines) => {
        pages += 1;
        if (pages === 2) await failing();
        expect(lines).toContain(tenant.tenant.id);
      }),
    ).rejects.toThrow('disk full');
    expect(await eventIds(h, tenant.tenant.id)).toEqual(ids);
    let again = '';
    const report = await run(async (lines) => {
      again += lines;
    });
    expect(report.results[0]).toMatchObject({ exported: 2, purged: 2 });
    expect(again.trimEnd().split('\n')).toHaveLength(2);
    expect(await eventIds(h, tenant.tenant.id)).toEqual([ids[2]]);
  });

  it('validates the retention setting', async () => {
    for (const bad of [
      { eventsDays: 0 },
      { eventsDays: 1.5 },
      { eventsDays: '30' },
      { eventsDays: 36_501 },
      'long',
    ]) {
      const error = await caught(
        h.store.withTenant(untouched.context, (tx) => tx.tenants.updateSettings({ retention: bad })),
      );
      expect(error, JSON.stringify(bad)).toBeInstanceOf(ValidationError);
    }
    // A name the library does not know passes the database but not the export, which skips the tenant.
    const tenant = await createTenant(h.store);
    await h.store.withTenant(tenant.context, (tx) =>
      tx.tenants.updateSettings({ retention: { eventDays: 5 } }),
    );
    await ageEvents(h, tenant.tenant.id, [400]);
    const report = await h.store.asService({ actor: 'test-retention' }, (svc) =>
      svc.retention.exportExpired({ tenantId: tenant.tenant.id, write: async () => {} }),
    );
    expect(report).toEqual({
      results: [],
      skipped: [{ tenantId: tenant.tenant.id, problem: expect.stringContaining('eventDays') }],
    });
    expect(await eventIds(h, tenant.tenant.id)).toHaveLength(1);
    expect(RETENTION_TABLES.map((t) => [t.table, t.setting, t.defaultDays])).toEqual([
      ['events', 'eventsDays', 365],
      ['agent_credential_uses', 'credentialUsesDays', 90],
    ]);
  });

  it('lets only the service role purge, only guarded logs, and only the past', async () => {
    const [id] = await ageEvents(h, untouched.tenant.id, [900]);
    const keys = JSON.stringify([{ occurred_at: '2000-01-01T00:00:00Z', id }]);
    const fromApp = await caught(
      h.store.withTenant(untouched.context, (tx) =>
        tx.query(`SELECT agentflow.purge_expired('events', $1, now(), $2::jsonb)`, [
          untouched.tenant.id,
          keys,
        ]),
      ),
    );
    expect(fromApp).toBeInstanceOf(ForbiddenError);
    const asService = (sql: string) =>
      caught(
        h.store.asService({ actor: 'test-retention' }, (svc) => svc.query(sql, [untouched.tenant.id, keys])),
      );
    expect(
      await asService(`SELECT agentflow.purge_expired('audit_logs', $1, now(), $2::jsonb)`),
    ).toBeInstanceOf(ForbiddenError);
    expect(
      await asService(`SELECT agentflow.purge_expired('events', $1, now() + interval '1 day', $2::jsonb)`),
    ).toMatchObject({ sqlState: '22023' });
    // Neither may the service role delete events itself.
    expect(
      await asService('DELETE FROM events WHERE tenant_id = $1 AND $2::jsonb IS NOT NULL'),
    ).toBeInstanceOf(ForbiddenError);
    expect(await eventIds(h, untouched.tenant.id)).toContain(id);
  });
});

describeEachEngine(
  'retention from the command line',
  (h) => {
    it('exports every tenant to a file and removes what it wrote', async () => {
      const tenant = await createTenant(h.store);
      const [old] = await ageEvents(h, tenant.tenant.id, [400, 0]);
      const dir = await mkdtemp(join(tmpdir(), 'agentflow-retention-'));
      const out = join(dir, 'events.jsonl');
      try {
        expect((await agentflow(h.url, 'db', 'retention', '--out', out)).code).toBe(0);
        const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
        expect(lines.map((l) => String((JSON.parse(l) as Line).row.id))).toContain(old);
        expect(await ownerCount(h, 'events WHERE id = $1', [old])).toBe(0);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  },
  'server',
);
