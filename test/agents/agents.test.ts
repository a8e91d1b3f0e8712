import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_STATUSES,
  AGENT_TRANSITIONS,
  type Agent,
  type AgentStatus,
  ConflictError,
  type CreateAgentInput,
  ForbiddenError,
  NotFoundError,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { encodeCursor } from '../../src/shared/pagination.ts';
import { agentflow } from '../harness/cli.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createTenant, ownerCount, type TenantFixture } from '../harness/fixtures.ts';
import { allPages } from '../harness/paging.ts';

const agentInput = (code: string, extra: Partial<CreateAgentInput> = {}): CreateAgentInput => ({
  code,
  name: `Agent ${code}`,
  type: 'backend_dev',
  roleTitle: 'Backend developer',
  ...extra,
});

/** Agents of a tenant as stored, deleted ones included (read as the owner). */
const storedAgents = (h: EngineHarness, tenantId: string) =>
  ownerCount(h, 'agents WHERE tenant_id = $1', [tenantId]);

/** Reaches `target` from active along legal steps (terminated last). */
async function moveTo(tx: TenantTx, agent: Agent, target: AgentStatus): Promise<void> {
  if (target !== 'active') await tx.agents.changeStatus(agent.id, target);
}

describeEachEngine('agents', (h) => {
  let f: TenantFixture;
  let other: TenantFixture;
  let projectId: string;
  let otherProjectId: string;
  let deletedProjectId: string;
  const inTenant = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(f.context, work);

  beforeAll(async () => {
    [f, other] = await Promise.all([createTenant(h.store), createTenant(h.store)]);
    [projectId, deletedProjectId] = await inTenant(async (tx) => {
      const web = await tx.projects.create({ slug: 'web', name: 'Web' });
      const gone = await tx.projects.create({ slug: 'gone', name: 'Gone' });
      await tx.projects.delete(gone.id);
      return [web.id, gone.id];
    });
    otherProjectId = await h.store.withTenant(
      other.context,
      async (tx) => (await tx.projects.create({ slug: 'web', name: 'Web' })).id,
    );
  });

  describe('create and read', () => {
    it('creates an organization agent with its defaults and reads it by id and code', async () => {
      const agent = await inTenant((tx) =>
        tx.agents.create(
          agentInput('orch', { type: 'orchestrator', modelProvider: 'anthropic', modelName: 'claude' }),
        ),
      );
      expect(agent).toMatchObject({
        tenantId: f.tenant.id,
        code: 'orch',
        level: 'organization',
        projectId: null,
        status: 'active',
        trustScore: '50.00',
        capabilities: [],
        settings: {},
        modelProvider: 'anthropic',
        modelName: 'claude',
        terminatedAt: null,
        deletedAt: null,
      });
      await inTenant(async (tx) => {
        expect(await tx.agents.get(agent.id)).toEqual(agent);
        expect(await tx.agents.getByCode('orch')).toEqual(agent);
      });
    });

    it('derives the project level from projectId, and accepts a level that agrees', async () => {
      const [derived, stated, probation] = await inTenant(async (tx) => [
        await tx.agents.create(agentInput('proj-dev', { projectId })),
        await tx.agents.create(agentInput('proj-qa', { projectId, level: 'project', type: 'tester' })),
        await tx.agents.create(agentInput('proj-new', { projectId, status: 'probation' })),
      ]);
      expect(derived).toMatchObject({ level: 'project', projectId });
      expect(stated).toMatchObject({ level: 'project', type: 'tester' });
      expect(probation.status).toBe('probation');
    });

    it('refuses a level that contradicts projectId, and the same through raw SQL (the CHECK)', async () => {
      const before = await storedAgents(h, f.tenant.id);
      for (const input of [
        agentInput('mismatch-a', { level: 'project' }),
        agentInput('mismatch-b', { level: 'organization', projectId }),
      ]) {
        const error = await caught(inTenant((tx) => tx.agents.create(input)));
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).issues.map((i) => i.path)).toEqual(['level']);
      }
      for (const [level, project] of [
        ['project', null],
        ['organization', projectId],
      ]) {
        const error = await caught(
          inTenant((tx) =>
            tx.query(
              `INSERT INTO agents (project_id, level, type, code, name, role_title)
               VALUES ($1, $2, 'tester', 'raw-mismatch', 'Raw', 'Tester')`,
              [project, level],
            ),
          ),
        );
        expect(error, String(level)).toBeInstanceOf(ValidationError);
        expect(String((error as ValidationError).message)).toContain('agents_level_project');
      }
      expect(await storedAgents(h, f.tenant.id)).toBe(before);
    });

    it("refuses a project of another tenant, a deleted one or an unknown one as the project's absence", async () => {
      for (const id of [otherProjectId, deletedProjectId, randomUUID()]) {
        const error = await caught(inTenant((tx) => tx.agents.create(agentInput('lost', { projectId: id }))));
        expect(error, id).toBeInstanceOf(NotFoundError);
        expect((error as NotFoundError).entity).toBe('project');
      }
    });

    it('keeps codes unique per tenant for good, deleted agents included', async () => {
      await inTenant(async (tx) => {
        const gone = await tx.agents.create(agentInput('once'));
        await tx.agents.delete(gone.id);
      });
      for (const code of ['orch', 'once']) {
        const error = await caught(
          inTenant((tx) => tx.agents.create(agentInput(code, { name: `Fresh ${code}` }))),
        );
        expect(error, code).toBeInstanceOf(ConflictError);
        expect(error).toMatchObject({ code: 'duplicate', entity: 'agent', field: 'code' });
      }
      // Another tenant has codes of its own.
      const elsewhere = await h.store.withTenant(other.context, (tx) => tx.agents.create(agentInput('orch')));
      expect(elsewhere.code).toBe('orch');
    });

    it('keeps names unique per scope among live agents, and frees a deleted agent’s name', async () => {
      const duplicates: CreateAgentInput[] = [
        agentInput('name-org', { name: 'Agent orch' }), // the organization's orch
        agentInput('name-proj', { name: 'Agent proj-dev', projectId }), // proj-dev in web
      ];
      for (const input of duplicates) {
        const error = await caught(inTenant((tx) => tx.agents.create(input)));
        expect(error, input.code).toMatchObject({ code: 'duplicate', entity: 'agent', field: 'name' });
      }
      await inTenant(async (tx) => {
        // The same name in another scope is another agent.
        const inProject = await tx.agents.create(agentInput('name-scope', { name: 'Agent orch', projectId }));
        expect(inProject.level).toBe('project');
        const first = await tx.agents.create(agentInput('reuse-1', { name: 'Reused' }));
        await tx.agents.delete(first.id);
        const second = await tx.agents.create(agentInput('reuse-2', { name: 'Reused' }));
        expect(second.id).not.toBe(first.id);
      });
    });

    it('refuses bad input with a ValidationError naming the field, writing nothing', async () => {
      const before = await storedAgents(h, f.tenant.id);
      const bad: Array<[string, unknown]> = [
        ['code', agentInput('Bad Code')],
        ['code', agentInput('-dash')],
        ['type', { ...agentInput('bad-type'), type: 'janitor' }],
        ['name', agentInput('bad-name', { name: ' padded' })],
        ['name', agentInput('bad-name', { name: '\u001b[31mred' })],
        ['roleTitle', agentInput('bad-title', { roleTitle: '' })],
        ['modelProvider', agentInput('bad-model', { modelProvider: 'x'.repeat(101) })],
        ['capabilities.0', agentInput('bad-cap', { capabilities: ['Python'] })],
        ['capabilities', agentInput('bad-cap', { capabilities: ['python', 'python'] })],
        [
          'capabilities',
          agentInput('bad-cap', { capabilities: Array.from({ length: 101 }, (_, i) => `c${i}`) }),
        ],
        ['settings', { ...agentInput('bad-settings'), settings: [] }],
        ['status', agentInput('bad-status', { status: 'terminated' as 'active' })],
        ['projectId', agentInput('bad-project', { projectId: 'nope' })],
        ['(input)', { ...agentInput('bad-key'), trustScore: 99 }],
      ];
      for (const [path, input] of bad) {
        const error = await caught(inTenant((tx) => tx.agents.create(input as CreateAgentInput)));
        expect(error, JSON.stringify(input).slice(0, 80)).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).issues.map((i) => i.path)).toContain(path);
      }
      await inTenant(async (tx) => {
        expect(await caught(tx.agents.get('not-a-uuid'))).toBeInstanceOf(ValidationError);
        expect(await caught(tx.agents.getByCode('NOT A CODE'))).toBeInstanceOf(ValidationError);
        expect(await caught(tx.agents.get(randomUUID()))).toBeInstanceOf(NotFoundError);
        expect(await caught(tx.agents.getByCode('missing'))).toBeInstanceOf(NotFoundError);
      });
      expect(await storedAgents(h, f.tenant.id)).toBe(before);
    });
  });

  describe('list', () => {
    let lister: TenantFixture;
    const inLister = <T>(work: (tx: TenantTx) => Promise<T>) => h.store.withTenant(lister.context, work);

    beforeAll(async () => {
      lister = await createTenant(h.store);
      await inLister(async (tx) => {
        const web = await tx.projects.create({ slug: 'web', name: 'Web' });
        // Codes that sort against each other as prefixes and digits: a-1, a-10, a-2, …
        for (let i = 1; i <= 12; i++) {
          await tx.agents.create(
            agentInput(`a-${i}`, {
              type: i % 2 ? 'backend_dev' : 'tester',
              projectId: i % 3 === 0 ? web.id : null,
              capabilities: [i % 2 ? 'python' : 'typescript', ...(i % 4 === 0 ? ['code-review'] : [])],
            }),
          );
        }
        const gone = await tx.agents.create(agentInput('a-gone', { capabilities: ['python'] }));
        await tx.agents.delete(gone.id);
        await tx.agents.changeStatus((await tx.agents.getByCode('a-5')).id, 'probation');
      });
    });

    it('pages through every live agent in code order, each once', async () => {
      const whole = await inLister((tx) => tx.agents.list({ limit: 1000 }));
      expect(whole.nextCursor).toBeNull();
      expect(whole.items).toHaveLength(12);
      const codes = whole.items.map((a) => a.code);
      expect(codes).not.toContain('a-gone');
      for (const limit of [1, 5, 12]) {
        const pages = await allPages(limit, (page) => inLister((tx) => tx.agents.list(page)));
        expect(pages.flat().map((a) => a.code)).toEqual(codes);
      }
      // The database's order is the code order the keyset compares in.
      const ordered = await h.asOwner((c) =>
        c.query<{ code: string }>(
          `SELECT code FROM agents WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY code`,
          [lister.tenant.id],
        ),
      );
      expect(codes).toEqual(ordered.map((r) => r.code));
    });

    it('filters by status, type, level, project and capability (all or any)', async () => {
      await inLister(async (tx) => {
        const codes = async (input: Parameters<TenantTx['agents']['list']>[0]) =>
          (await tx.agents.list(input)).items.map((a) => a.code).sort();
        expect(await codes({ status: 'probation' })).toEqual(['a-5']);
        expect((await codes({ type: 'tester' })).length).toBe(6);
        expect(await codes({ level: 'project' })).toEqual(['a-12', 'a-3', 'a-6', 'a-9']);
        const web = await tx.projects.getBySlug('web');
        expect(await codes({ projectId: web.id })).toEqual(['a-12', 'a-3', 'a-6', 'a-9']);
        expect(await codes({ capabilities: ['code-review'] })).toEqual(['a-12', 'a-4', 'a-8']);
        expect(await codes({ capabilities: ['typescript', 'code-review'] })).toEqual(['a-12', 'a-4', 'a-8']);
        expect(await codes({ capabilities: ['python', 'code-review'] })).toEqual([]);
        expect(
          (await codes({ capabilities: ['python', 'code-review'], capabilityMatch: 'any' })).length,
        ).toBe(9);
        expect(await codes({ capabilities: ['typescript'], level: 'project', status: 'active' })).toEqual([
          'a-12',
          'a-6',
        ]);
        // A page of a filtered list continues that list.
        const first = await tx.agents.list({ capabilities: ['python'], limit: 2 });
        const rest = await tx.agents.list({ capabilities: ['python'], cursor: first.nextCursor! });
        expect([...first.items, ...rest.items].map((a) => a.code)).toEqual(
          (await tx.agents.list({ capabilities: ['python'] })).items.map((a) => a.code),
        );
      });
    });

    it('asks for capabilities with the operators the GIN index serves (@> all, && any)', async () => {
      // As the service role, whose policy is `true`. Under the app role's tenant policy PostgreSQL
      // may not use the index: @> and && are not LEAKPROOF, so they run after the policy's tenant
      // condition, as a filter on the tenant's agents (README: the capability query).
      for (const operator of ['@>', '&&']) {
        const plan = await h.store.asService({ actor: 'test' }, async (svc) => {
          await svc.query('SET LOCAL enable_seqscan = off');
          return svc.query<{ 'QUERY PLAN': string }>(
            `EXPLAIN SELECT id FROM agents WHERE capabilities ${operator} $1`,
            [['python']],
          );
        });
        expect(plan.map((r) => r['QUERY PLAN']).join('\n'), operator).toContain('agents_capabilities_idx');
      }
    });

    it('confines agents_with_capabilities to the unit’s own tenant, and to no tenant without one', async () => {
      const call = `SELECT agentflow.agents_with_capabilities($1, $2) AS id`;
      await h.store.withTenant(other.context, (tx) =>
        tx.agents.create(agentInput('py-elsewhere', { capabilities: ['python'] })),
      );
      const ids = await inLister((tx) => tx.query<{ id: string }>(call, [['python'], true]));
      const owned = await h.asOwner((c) =>
        c.query<{ id: string }>(`SELECT id FROM agents WHERE tenant_id = $1 AND capabilities @> '{python}'`, [
          lister.tenant.id,
        ]),
      );
      // Another tenant holds a python agent too: it does not come back.
      expect(ids.map((r) => r.id).sort()).toEqual(owned.map((r) => r.id).sort());
      const none = await h.asAppWithoutTenant((c) => c.query(call, [['python'], false]));
      expect(none).toEqual([]);
    });

    it('refuses a bad limit, cursor or filter with a ValidationError', async () => {
      const bad: unknown[] = [
        { limit: 0 },
        { limit: 1001 },
        { cursor: 'not a cursor!' },
        { cursor: encodeCursor('projects', ['web', randomUUID()]) },
        { cursor: encodeCursor('agents', ['NOT A CODE']) },
        { capabilities: [] },
        { capabilities: ['Python'] },
        { capabilityMatch: 'some', capabilities: ['python'] },
        { level: 'team' },
        { projectId: 'web' },
        { trustScore: 50 },
      ];
      for (const input of bad) {
        const error = await caught(inLister((tx) => tx.agents.list(input as never)));
        expect(error, JSON.stringify(input)).toBeInstanceOf(ValidationError);
      }
    });
  });

  describe('update', () => {
    it('changes name, role title, model, capabilities and settings', async () => {
      const agent = await inTenant((tx) => tx.agents.create(agentInput('upd', { capabilities: ['python'] })));
      const updated = await inTenant((tx) =>
        tx.agents.update(agent.id, {
          name: 'Renamed',
          roleTitle: 'Lead',
          modelProvider: 'openai',
          modelName: 'gpt',
          capabilities: ['python', 'sql'],
          settings: { temperature: 0.2 },
        }),
      );
      expect(updated).toMatchObject({
        name: 'Renamed',
        roleTitle: 'Lead',
        modelProvider: 'openai',
        modelName: 'gpt',
        capabilities: ['python', 'sql'],
        settings: { temperature: 0.2 },
        status: 'active',
        trustScore: '50.00',
      });
      expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(agent.updatedAt.getTime());
      expect(await inTenant((tx) => tx.agents.update(agent.id, {}))).toEqual(updated);
      const cleared = await inTenant((tx) =>
        tx.agents.update(agent.id, { modelProvider: null, modelName: null }),
      );
      expect(cleared).toMatchObject({ modelProvider: null, modelName: null });
    });

    it('refuses status, trust score, level, project and code, and a taken name, changing nothing', async () => {
      const agent = await inTenant((tx) => tx.agents.getByCode('upd'));
      for (const patch of [
        { status: 'inactive' },
        { trustScore: '99' },
        { level: 'project' },
        { projectId },
        { code: 'other' },
        { name: '' },
        { capabilities: ['A'] },
      ]) {
        const error = await caught(inTenant((tx) => tx.agents.update(agent.id, patch as never)));
        expect(error, JSON.stringify(patch)).toBeInstanceOf(ValidationError);
      }
      const taken = await caught(inTenant((tx) => tx.agents.update(agent.id, { name: 'Agent orch' })));
      expect(taken).toMatchObject({ code: 'duplicate', field: 'name' });
      expect(await inTenant((tx) => tx.agents.get(agent.id))).toEqual(agent);
      expect(await caught(inTenant((tx) => tx.agents.update(randomUUID(), { name: 'X' })))).toBeInstanceOf(
        NotFoundError,
      );
    });

    it('leaves trust_score writable in the database (the KPI recompute), within 0–100', async () => {
      const agent = await inTenant((tx) => tx.agents.create(agentInput('trusted')));
      await inTenant((tx) => tx.query('UPDATE agents SET trust_score = 72.5 WHERE id = $1', [agent.id]));
      expect((await inTenant((tx) => tx.agents.get(agent.id))).trustScore).toBe('72.50');
      const error = await caught(
        inTenant((tx) => tx.query('UPDATE agents SET trust_score = 101 WHERE id = $1', [agent.id])),
      );
      expect(error).toBeInstanceOf(ValidationError);
    });
  });

  describe('status lifecycle', () => {
    it('allows exactly the declared transitions, naming both states otherwise', async () => {
      const statuses = AGENT_STATUSES;
      await inTenant(async (tx) => {
        for (const from of statuses) {
          for (const to of statuses) {
            const agent = await tx.agents.create(
              agentInput(`lc-${from}-${to}`, { name: `LC ${from} ${to}` }),
            );
            await moveTo(tx, agent, from);
            if (AGENT_TRANSITIONS[from].includes(to)) {
              const moved = await tx.agents.changeStatus(agent.id, to);
              expect(moved.status, `${from} -> ${to}`).toBe(to);
              expect(moved.terminatedAt !== null, `${from} -> ${to}`).toBe(to === 'terminated');
            } else {
              const error = await caught(tx.agents.changeStatus(agent.id, to));
              expect(error, `${from} -> ${to}`).toBeInstanceOf(ConflictError);
              expect(error).toMatchObject({ code: 'invalid_transition', entity: 'agent' });
              expect((error as Error).message).toContain(`from ${from} to ${to}`);
              expect((await tx.agents.get(agent.id)).status).toBe(from);
            }
          }
        }
      });
      // Only terminated is final; the three others reach each other.
      expect(AGENT_TRANSITIONS.terminated).toEqual([]);
    });

    it('enforces the lifecycle in the database: raw SQL cannot revive a terminated agent', async () => {
      const agent = await inTenant((tx) => tx.agents.getByCode('lc-active-terminated'));
      for (const status of ['active', 'probation', 'inactive']) {
        const error = await caught(
          inTenant((tx) => tx.query('UPDATE agents SET status = $2 WHERE id = $1', [agent.id, status])),
        );
        expect(error, status).toBeInstanceOf(ConflictError);
        expect(error).toMatchObject({ code: 'invalid_transition', entity: 'agent' });
        expect((error as Error).message).toContain(`from terminated to ${status}`);
      }
      // A raw termination follows the lifecycle; the database sets terminated_at.
      const live = await inTenant((tx) => tx.agents.create(agentInput('raw-term')));
      await inTenant((tx) => tx.query(`UPDATE agents SET status = 'terminated' WHERE id = $1`, [live.id]));
      const terminated = await inTenant((tx) => tx.agents.get(live.id));
      expect(terminated.terminatedAt).toBeInstanceOf(Date);
      // terminated_at is the database's: a raw write of it leaves it as it was.
      await inTenant((tx) =>
        tx.query(`UPDATE agents SET terminated_at = now() - interval '1 day' WHERE id = ANY($1::uuid[])`, [
          [live.id, agent.id],
        ]),
      );
      expect((await inTenant((tx) => tx.agents.get(live.id))).terminatedAt).toEqual(terminated.terminatedAt);
      const raw = await caught(
        inTenant((tx) =>
          tx.query(
            `INSERT INTO agents (level, type, code, name, role_title, status, terminated_at)
             VALUES ('organization', 'tester', 'born-dead', 'Born dead', 'Tester', 'terminated', now())`,
          ),
        ),
      );
      expect(raw).toMatchObject({ code: 'invalid_transition', entity: 'agent' });
      expect(await ownerCount(h, `agents WHERE code = 'born-dead'`)).toBe(0);
    });
  });

  describe('delete', () => {
    it('soft-deletes: the agent is gone to readers, its row stays, and the database freezes it', async () => {
      const agent = await inTenant((tx) => tx.agents.create(agentInput('doomed')));
      await inTenant((tx) => tx.agents.delete(agent.id));
      await inTenant(async (tx) => {
        expect(await caught(tx.agents.get(agent.id))).toBeInstanceOf(NotFoundError);
        expect(await caught(tx.agents.getByCode('doomed'))).toBeInstanceOf(NotFoundError);
        expect((await tx.agents.list({ limit: 1000 })).items.map((a) => a.code)).not.toContain('doomed');
      });
      const attempts: Array<(tx: TenantTx) => Promise<unknown>> = [
        (tx) => tx.agents.update(agent.id, { name: 'Back' }),
        (tx) => tx.agents.changeStatus(agent.id, 'inactive'),
        (tx) => tx.agents.delete(agent.id),
      ];
      for (const attempt of attempts) {
        expect(await caught(inTenant(attempt))).toBeInstanceOf(NotFoundError);
      }
      for (const assignment of [
        `deleted_at = NULL`,
        `name = 'Back'`,
        `trust_score = 90`,
        `status = 'terminated'`,
      ]) {
        const error = await caught(
          inTenant((tx) => tx.query(`UPDATE agents SET ${assignment} WHERE id = $1`, [agent.id])),
        );
        expect(error, assignment).toBeInstanceOf(NotFoundError);
        expect(error).toMatchObject({ entity: 'agent', key: agent.id });
      }
      const [row] = await h.asOwner((c) =>
        c.query<{ name: string; deleted: boolean; status: string }>(
          'SELECT name, deleted_at IS NOT NULL AS deleted, status FROM agents WHERE id = $1',
          [agent.id],
        ),
      );
      expect(row).toEqual({ name: agent.name, deleted: true, status: 'active' });
    });

    it('refuses a hard delete to tenant work', async () => {
      const agent = await inTenant((tx) => tx.agents.create(agentInput('kept')));
      const error = await caught(inTenant((tx) => tx.query('DELETE FROM agents WHERE id = $1', [agent.id])));
      expect(error).toBeInstanceOf(ForbiddenError);
      expect(await ownerCount(h, 'agents WHERE id = $1', [agent.id])).toBe(1);
    });
  });

  describe('agents as actors', () => {
    const asAgent = (agentId: string, tenant: TenantFixture = f) => ({
      tenantId: tenant.tenant.id,
      actor: { type: 'agent' as const, id: agentId },
    });
    const projectsOf = (tenantId: string) => ownerCount(h, 'projects WHERE tenant_id = $1', [tenantId]);

    async function expectRefused(agentId: string, tenant: TenantFixture = f): Promise<void> {
      const before = await projectsOf(tenant.tenant.id);
      for (const options of [{}, { readOnly: true }, { singleStatement: true }]) {
        const error = await caught(
          h.store.withTenant(
            asAgent(agentId, tenant),
            (tx) => tx.projects.create({ slug: `by-${randomUUID().slice(0, 8)}`, name: 'Not written' }),
            options,
          ),
        );
        expect(error, JSON.stringify(options)).toBeInstanceOf(ForbiddenError);
        expect(error).toMatchObject({ code: 'actor_unavailable', entity: 'agent' });
      }
      expect(await projectsOf(tenant.tenant.id)).toBe(before);
    }

    it('refuses an unknown agent, and another tenant’s agent', async () => {
      await expectRefused(randomUUID());
      const foreign = await h.store.withTenant(other.context, (tx) => tx.agents.getByCode('orch'));
      await expectRefused(foreign.id);
    });

    it('lets an active, probation or inactive agent act, and names it in the audit rows of its work', async () => {
      for (const status of ['active', 'probation', 'inactive'] as const) {
        const agent = await inTenant(async (tx) => {
          const created = await tx.agents.create(agentInput(`actor-${status}`));
          await moveTo(tx, created, status);
          return created;
        });
        const project = await h.store.withTenant(asAgent(agent.id), (tx) =>
          tx.projects.create({ slug: `made-by-${status}`, name: `Made by ${status}` }),
        );
        const [audit] = await h.asOwner((c) =>
          c.query<{ actor_type: string; actor_id: string }>(
            `SELECT actor_type, actor_id FROM audit_logs
              WHERE tenant_id = $1 AND table_name = 'projects' AND row_id = $2 AND action = 'insert'`,
            [f.tenant.id, project.id],
          ),
        );
        expect(audit, status).toEqual({ actor_type: 'agent', actor_id: agent.id });
      }
    });

    it('refuses a terminated or deleted agent from its very next unit of work', async () => {
      const [terminated, deleted] = await inTenant(async (tx) => [
        await tx.agents.create(agentInput('actor-term')),
        await tx.agents.create(agentInput('actor-del')),
      ]);
      for (const agent of [terminated, deleted])
        await h.store.withTenant(asAgent(agent.id), (tx) => tx.agents.get(agent.id), { readOnly: true });
      await inTenant(async (tx) => {
        await tx.agents.changeStatus(terminated.id, 'terminated');
        await tx.agents.delete(deleted.id);
      });
      await expectRefused(terminated.id);
      await expectRefused(deleted.id);
    });
  });
});

// A second store on the database: the server engine only (a PGlite folder has one user at a time).
describeEachEngine(
  'agentflow agent create / list',
  (h) => {
    let f: TenantFixture;

    beforeAll(async () => {
      f = await createTenant(h.store);
      await h.store.withTenant(f.context, (tx) => tx.projects.create({ slug: 'web', name: 'Web' }));
    });

    it('creates organization and project agents and lists them', async () => {
      const slug = f.tenant.slug;
      const org = await agentflow(
        h.url,
        'agent',
        'create',
        '--tenant',
        slug,
        '--code',
        'cto',
        '--name',
        'Chief',
        '--type',
        'orchestrator',
        '--role-title',
        'CTO',
        '--capability',
        'planning',
        'hiring',
        '--model-provider',
        'anthropic',
        '--model-name',
        'claude',
      );
      expect(org.out).toMatch(/^created agent cto \([0-9a-f-]{36}\) in .*, organization level\nafk_\S+\n$/);
      expect(org.err).toContain('it is not shown again');
      // The key printed once is the agent's: it authenticates as it.
      const key = org.out.trim().split('\n')[1]!;
      const identity = await h.store.authenticate(key);
      expect(identity.tenantId).toBe(f.tenant.id);
      const proj = await agentflow(
        h.url,
        '--json',
        'agent',
        'create',
        '--tenant',
        slug,
        '--code',
        'dev',
        '--name',
        'Dev',
        '--type',
        'backend_dev',
        '--role-title',
        'Developer',
        '--project',
        'web',
      );
      const created = JSON.parse(proj.out) as Agent & { key: string };
      expect(created).toMatchObject({ code: 'dev', level: 'project' });
      expect((await h.store.authenticate(created.key)).agentId).toBe(created.id);
      const list = await agentflow(h.url, '--json', 'agent', 'list', '--tenant', slug);
      const agents = JSON.parse(list.out) as Agent[];
      expect(agents.map((a) => [a.code, a.capabilities])).toEqual([
        ['cto', ['planning', 'hiring']],
        ['dev', []],
      ]);
      const text = await agentflow(h.url, 'agent', 'list', '--tenant', slug);
      expect(text.out).toContain('cto  Chief  orchestrator  organization  active  trust 50.00');
      const [audit] = await h.asOwner((c) =>
        c.query<{ actor_type: string; actor_id: string }>(
          `SELECT actor_type, actor_id FROM audit_logs WHERE tenant_id = $1 AND table_name = 'agents' LIMIT 1`,
          [f.tenant.id],
        ),
      );
      expect(audit).toEqual({ actor_type: 'service', actor_id: 'cli:agent create' });
    });

    it('checks an agent actor in every unit’s set-up statement, a user actor never', async () => {
      const setups: string[] = [];
      const store = await h.openAnother({
        tenantStatusCacheMs: 60_000,
        onQuery: (text: string) => {
          if (text.includes("set_config('agentflow.tenant_id'")) setups.push(text);
        },
      });
      const agent = await store.withTenant(f.context, (tx) => tx.agents.getByCode('cto'));
      const asAgent = { tenantId: f.tenant.id, actor: { type: 'agent' as const, id: agent.id } };
      setups.length = 0;
      await store.withTenant(f.context, (tx) => tx.agents.list());
      // The tenant's status is cached by now; the agent is checked in each of its units all the same.
      for (let unit = 0; unit < 2; unit++) await store.withTenant(asAgent, (tx) => tx.agents.list());
      expect(setups.map((text) => text.includes('require_usable_actor'))).toEqual([false, true, true]);
      expect(setups.map((text) => text.includes('require_usable_tenant'))).toEqual([false, false, false]);
    });

    it('refuses a bad type, an unknown tenant or project, and a duplicate code with a typed error', async () => {
      const base = ['agent', 'create', '--tenant', f.tenant.slug, '--name', 'X', '--role-title', 'Y'];
      const badType = await agentflow(h.url, ...base, '--code', 'x', '--type', 'janitor');
      expect([badType.code, badType.err]).toEqual([2, expect.stringMatching(/type.*\[validation_failed\]/)]);
      const noProject = await agentflow(
        h.url,
        ...base,
        '--code',
        'x',
        '--type',
        'tester',
        '--project',
        'nope',
      );
      expect(noProject.err).toMatch(/project nope not found \[not_found\]/);
      const noTenant = await agentflow(h.url, 'agent', 'list', '--tenant', 'no-such-tenant');
      expect(noTenant.err).toMatch(/\[not_found\]/);
      const dup = await agentflow(h.url, ...base, '--code', 'cto', '--type', 'tester');
      expect(dup.err).toMatch(/\[duplicate\]/);
      expect(await ownerCount(h, 'agents WHERE tenant_id = $1', [f.tenant.id])).toBe(2);
    });
  },
  'server',
);
