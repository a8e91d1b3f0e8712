import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentflowError,
  ForbiddenError,
  MAX_PAGE_LIMIT,
  NotFoundError,
  type ServiceTx,
  TenantContextError,
  type TenantTx,
  ValidationError,
} from '../../src/index.ts';
import { describeEachEngine, type EngineHarness } from '../harness/engines.ts';
import { caught, createTenant, type TenantFixture } from '../harness/fixtures.ts';

/** Every table of the schema: a rejected input must leave all of them as they were. */
const TABLES = [
  'tenants',
  'users',
  'memberships',
  'projects',
  'project_files',
  'agent_states',
  'audit_logs',
  'kpis',
];
const MIB = 1024 * 1024;

type ErrorClass = new (...args: never[]) => AgentflowError;

interface Case {
  name: string;
  run: () => Promise<unknown>;
  error: ErrorClass;
  /** Text the error message must contain: the field (or id) at fault. */
  field: string;
  /** The `issues` path expected for a ValidationError (defaults to `field`). */
  issuePath?: string;
}

async function rowCounts(h: EngineHarness): Promise<Record<string, number>> {
  const select = TABLES.map((table) => `(SELECT count(*)::int FROM ${table}) AS ${table}`).join(', ');
  const [row] = await h.asOwner((c) => c.query<Record<string, number>>(`SELECT ${select}`));
  return row ?? {};
}

// Values of the wrong type are the point of this suite; `as never` lets them through the compiler.
const anyValue = <T>(value: unknown) => value as T;

describeEachEngine('bad input', (h) => {
  let f: TenantFixture;
  let projectId: string;
  let userId: string;
  let initialCounts: Record<string, number>;
  const t =
    <T>(work: (tx: TenantTx) => Promise<T>) =>
    () =>
      h.store.withTenant(f.context, work);
  const s =
    <T>(work: (tx: ServiceTx) => Promise<T>) =>
    () =>
      h.store.asService({ actor: 'bad-input' }, work);
  const email = () => `someone-${randomUUID().slice(0, 8)}@example.test`;

  beforeAll(async () => {
    f = await createTenant(h.store);
    projectId = await h.store.withTenant(f.context, async (tx) => {
      const project = await tx.projects.create({ slug: 'target', name: 'Target' });
      await tx.projectFiles.upsert({ projectId: project.id, path: 'a.txt', content: 'a' });
      await tx.agentStates.save({ projectId: project.id, state: { step: 1 }, expectedVersion: null });
      return project.id;
    });
    userId = (
      await h.store.asService({ actor: 'bad-input' }, (tx) => tx.users.create({ email: email(), name: 'U' }))
    ).id;
    initialCounts = await rowCounts(h);
  });

  function section(title: string, cases: () => Case[]): void {
    describe(title, () => {
      for (const c of cases()) {
        it(c.name, async () => {
          const before = await rowCounts(h);
          const error = await caught(c.run());
          expect(error, 'should have been rejected').toBeInstanceOf(c.error);
          const message = (error as Error).message;
          expect(message).toContain(c.field);
          if (c.error === ValidationError) {
            const issues = (error as ValidationError).issues;
            expect(issues.length).toBeGreaterThan(0);
            const path = c.issuePath ?? c.field;
            expect(
              issues.some(
                (issue) =>
                  issue.path === path || issue.path.startsWith(`${path}.`) || issue.message.includes(c.field),
              ),
              JSON.stringify(issues),
            ).toBe(true);
          }
          expect(await rowCounts(h)).toEqual(before);
        });
      }
    });
  }

  section('KPIs and retention', () => [
    {
      name: 'KPI record without metrics',
      run: t((tx) => tx.kpis.record(anyValue({ agentId: randomUUID() }))),
      error: ValidationError,
      field: 'metrics',
    },
    {
      name: 'KPI history with a foreign cursor',
      run: t((tx) => tx.kpis.history(randomUUID(), { cursor: 'bm90LWEtY3Vyc29y' })),
      error: ValidationError,
      field: 'cursor',
    },
    {
      name: "KPI get('x')",
      run: t((tx) => tx.kpis.get('x')),
      error: ValidationError,
      field: 'KPI record id',
      issuePath: '(input)',
    },
    {
      name: "trust score recompute of agent 'x'",
      run: t((tx) => tx.kpis.recomputeTrustScore('x')),
      error: ValidationError,
      field: 'agent id',
      issuePath: '(input)',
    },
    {
      name: 'retention export without a writer',
      run: s((tx) => tx.retention.exportExpired(anyValue({ pageSize: 10 }))),
      error: ValidationError,
      field: 'write',
    },
  ]);

  section('missing required fields', () => [
    {
      name: 'project without slug',
      run: t((tx) => tx.projects.create(anyValue({ name: 'X' }))),
      error: ValidationError,
      field: 'slug',
    },
    {
      name: 'project without name',
      run: t((tx) => tx.projects.create(anyValue({ slug: 'no-name' }))),
      error: ValidationError,
      field: 'name',
    },
    {
      name: 'file without content',
      run: t((tx) => tx.projectFiles.upsert(anyValue({ projectId, path: 'b.txt' }))),
      error: ValidationError,
      field: 'content',
    },
    {
      name: 'file without path',
      run: t((tx) => tx.projectFiles.upsert(anyValue({ projectId, content: 'x' }))),
      error: ValidationError,
      field: 'path',
    },
    {
      name: 'agent state without expectedVersion',
      run: t((tx) => tx.agentStates.save(anyValue({ projectId, state: {} }))),
      error: ValidationError,
      field: 'expectedVersion',
    },
    {
      name: 'agent state without projectId',
      run: t((tx) => tx.agentStates.save(anyValue({ state: {}, expectedVersion: null }))),
      error: ValidationError,
      field: 'projectId',
    },
    {
      name: 'agent key without agentId',
      run: t((tx) => tx.agentCredentials.issue(anyValue({}))),
      error: ValidationError,
      field: 'agentId',
    },
    {
      name: 'membership without role',
      run: s((tx) => tx.memberships.create(f.tenant.id, anyValue({ userId }))),
      error: ValidationError,
      field: 'role',
    },
    {
      name: 'tenant without slug',
      run: s((tx) => tx.tenants.create(anyValue({ name: 'X' }))),
      error: ValidationError,
      field: 'slug',
    },
    {
      name: 'user without email',
      run: s((tx) => tx.users.create(anyValue({ name: 'X' }))),
      error: ValidationError,
      field: 'email',
    },
    {
      name: 'user without name',
      run: s((tx) => tx.users.create(anyValue({ email: email() }))),
      error: ValidationError,
      field: 'name',
    },
  ]);

  section('wrong types', () => [
    {
      name: 'number for a string (project name)',
      run: t((tx) => tx.projects.create(anyValue({ slug: 'wrong-1', name: 42 }))),
      error: ValidationError,
      field: 'name',
    },
    {
      name: 'number for a string (project slug)',
      run: t((tx) => tx.projects.create(anyValue({ slug: 42, name: 'X' }))),
      error: ValidationError,
      field: 'slug',
    },
    {
      name: 'string for a number (githubInstallationId)',
      run: t((tx) =>
        tx.projects.create(anyValue({ slug: 'wrong-2', name: 'X', githubInstallationId: '12' })),
      ),
      error: ValidationError,
      field: 'githubInstallationId',
    },
    {
      name: 'object for an array (techStack)',
      run: t((tx) => tx.projects.create(anyValue({ slug: 'wrong-3', name: 'X', techStack: { lang: 'ts' } }))),
      error: ValidationError,
      field: 'techStack',
    },
    {
      name: 'array for an object (config)',
      run: t((tx) => tx.projects.create(anyValue({ slug: 'wrong-4', name: 'X', config: ['x'] }))),
      error: ValidationError,
      field: 'config',
    },
    {
      name: 'number for a string (description, update)',
      run: t((tx) => tx.projects.update(projectId, anyValue({ description: 5 }))),
      error: ValidationError,
      field: 'description',
    },
    {
      name: 'number for file content',
      run: t((tx) => tx.projectFiles.upsert(anyValue({ projectId, path: 'c.txt', content: 42 }))),
      error: ValidationError,
      field: 'content',
    },
    {
      name: 'array for a file path',
      run: t((tx) => tx.projectFiles.upsert(anyValue({ projectId, path: ['c.txt'], content: 'x' }))),
      error: ValidationError,
      field: 'path',
    },
    {
      name: 'string for the agent state document',
      run: t((tx) => tx.agentStates.save(anyValue({ projectId, state: 'x', expectedVersion: null }))),
      error: ValidationError,
      field: 'state',
    },
    {
      name: 'string for expectedVersion',
      run: t((tx) => tx.agentStates.save(anyValue({ projectId, state: {}, expectedVersion: '1' }))),
      error: ValidationError,
      field: 'expectedVersion',
    },
    {
      name: 'string for a usage increment',
      run: t((tx) => tx.tenants.incrementUsage('tokens', anyValue('1'))),
      error: ValidationError,
      field: 'by',
    },
    {
      name: 'string for the settings patch',
      run: t((tx) => tx.tenants.updateSettings(anyValue('dark'))),
      error: ValidationError,
      field: 'tenant settings',
      issuePath: '(input)',
    },
    {
      name: 'string for a list limit',
      run: t((tx) => tx.projects.list(anyValue({ limit: '10' }))),
      error: ValidationError,
      field: 'limit',
    },
    {
      name: 'string for a quota',
      run: s((tx) => tx.tenants.create(anyValue({ slug: 'wrong-5', name: 'X', quotas: { projects: '2' } }))),
      error: ValidationError,
      field: 'quotas.projects',
    },
    {
      name: 'number for an email',
      run: s((tx) => tx.users.create(anyValue({ email: 42, name: 'X' }))),
      error: ValidationError,
      field: 'email',
    },
    {
      name: 'malformed email',
      run: s((tx) => tx.users.create({ email: 'not-an-email', name: 'X' })),
      error: ValidationError,
      field: 'email',
    },
    {
      name: 'number for a role',
      run: s((tx) => tx.memberships.create(f.tenant.id, anyValue({ userId, role: 1 }))),
      error: ValidationError,
      field: 'role',
    },
  ]);

  section('oversized values', () => [
    {
      name: 'project name of 201 characters',
      run: t((tx) => tx.projects.create({ slug: 'big-1', name: 'n'.repeat(201) })),
      error: ValidationError,
      field: 'name',
    },
    {
      name: 'project description over 10 000 characters',
      run: t((tx) => tx.projects.create({ slug: 'big-2', name: 'X', description: 'd'.repeat(10_001) })),
      error: ValidationError,
      field: 'description',
    },
    {
      name: 'project name of 201 characters (update)',
      run: t((tx) => tx.projects.update(projectId, { name: 'n'.repeat(201) })),
      error: ValidationError,
      field: 'name',
    },
    {
      name: 'project slug of 64 characters',
      run: t((tx) => tx.projects.create({ slug: 's'.repeat(64), name: 'X' })),
      error: ValidationError,
      field: 'slug',
    },
    {
      name: 'more than 100 tech stack entries',
      run: t((tx) =>
        tx.projects.create({
          slug: 'big-3',
          name: 'X',
          techStack: Array.from({ length: 101 }, (_, i) => `t${i}`),
        }),
      ),
      error: ValidationError,
      field: 'techStack',
    },
    {
      name: 'file content of 10 MiB + 1 byte',
      run: t((tx) =>
        tx.projectFiles.upsert({ projectId, path: 'big.bin', content: 'x'.repeat(10 * MIB + 1) }),
      ),
      error: ValidationError,
      field: 'content',
    },
    {
      name: 'file content under 10 Mi characters but over 10 MiB of UTF-8',
      run: t((tx) =>
        tx.projectFiles.upsert({ projectId, path: 'big.txt', content: 'é'.repeat(5 * MIB + 1) }),
      ),
      error: ValidationError,
      field: 'content',
    },
    {
      name: 'file path of 1025 characters',
      run: t((tx) => tx.projectFiles.upsert({ projectId, path: 'p'.repeat(1025), content: 'x' })),
      error: ValidationError,
      field: 'path',
    },
    {
      name: 'tenant slug of 64 characters',
      run: s((tx) => tx.tenants.create({ slug: 's'.repeat(64), name: 'X' })),
      error: ValidationError,
      field: 'slug',
    },
    {
      name: 'tenant name of 201 characters',
      run: s((tx) => tx.tenants.create({ slug: 'big-4', name: 'n'.repeat(201) })),
      error: ValidationError,
      field: 'name',
    },
    {
      name: 'user name of 201 characters',
      run: s((tx) => tx.users.create({ email: email(), name: 'n'.repeat(201) })),
      error: ValidationError,
      field: 'name',
    },
    {
      name: 'list limit over the maximum',
      run: t((tx) => tx.projects.list({ limit: MAX_PAGE_LIMIT + 1 })),
      error: ValidationError,
      field: 'limit',
    },
    {
      name: 'file list limit over the maximum',
      run: t((tx) => tx.projectFiles.list(randomUUID(), { limit: MAX_PAGE_LIMIT + 1 })),
      error: ValidationError,
      field: 'limit',
    },
    {
      name: 'member list limit over the maximum',
      run: t((tx) => tx.memberships.list({ limit: MAX_PAGE_LIMIT + 1 })),
      error: ValidationError,
      field: 'limit',
    },
    {
      name: 'audit list limit over the maximum',
      run: t((tx) => tx.auditLogs.list({ limit: MAX_PAGE_LIMIT + 1 })),
      error: ValidationError,
      field: 'limit',
    },
  ]);

  section('unknown extra fields (strict schemas)', () => [
    {
      name: 'tenantId on project create',
      run: t((tx) => tx.projects.create(anyValue({ slug: 'extra-1', name: 'X', tenantId: randomUUID() }))),
      error: ValidationError,
      field: 'tenantId',
    },
    {
      name: 'status on project update',
      run: t((tx) => tx.projects.update(projectId, anyValue({ status: 'deleted' }))),
      error: ValidationError,
      field: 'status',
    },
    {
      name: 'deletedAt on project update',
      run: t((tx) => tx.projects.update(projectId, anyValue({ deletedAt: null }))),
      error: ValidationError,
      field: 'deletedAt',
    },
    {
      name: 'contentHash on file upsert',
      run: t((tx) =>
        tx.projectFiles.upsert(anyValue({ projectId, path: 'd.txt', content: 'x', contentHash: '0' })),
      ),
      error: ValidationError,
      field: 'contentHash',
    },
    {
      name: 'version on agent state save',
      run: t((tx) => tx.agentStates.save(anyValue({ projectId, state: {}, expectedVersion: 1, version: 9 }))),
      error: ValidationError,
      field: 'version',
    },
    {
      name: 'secretHash on agent key issue',
      run: t((tx) =>
        tx.agentCredentials.issue(anyValue({ agentId: randomUUID(), secretHash: '0'.repeat(64) })),
      ),
      error: ValidationError,
      field: 'secretHash',
    },
    {
      name: 'tenantId on membership add',
      run: s((tx) =>
        tx.memberships.create(f.tenant.id, anyValue({ userId, role: 'member', tenantId: randomUUID() })),
      ),
      error: ValidationError,
      field: 'tenantId',
    },
    {
      name: 'usage on tenant create',
      run: s((tx) => tx.tenants.create(anyValue({ slug: 'extra-2', name: 'X', usage: { projects: -5 } }))),
      error: ValidationError,
      field: 'usage',
    },
    {
      name: 'passwordHash on user create',
      run: s((tx) => tx.users.create(anyValue({ email: email(), name: 'X', passwordHash: 'scrypt$forged' }))),
      error: ValidationError,
      field: 'passwordHash',
    },
    {
      name: 'offset on project list',
      run: t((tx) => tx.projects.list(anyValue({ offset: 5 }))),
      error: ValidationError,
      field: 'offset',
    },
  ]);

  section('NUL characters (PostgreSQL text and jsonb cannot hold them)', () => [
    {
      name: 'NUL in a project name',
      run: t((tx) => tx.projects.create({ slug: 'nul-1', name: 'bad\0name' })),
      error: ValidationError,
      field: 'name',
    },
    {
      name: 'NUL in file content (a binary file)',
      run: t((tx) => tx.projectFiles.upsert({ projectId, path: 'bin.dat', content: '\0\u0001binary' })),
      error: ValidationError,
      field: 'content',
    },
    {
      name: 'NUL in a JSON value (project config)',
      run: t((tx) => tx.projects.update(projectId, { config: { key: 'a\0b' } })),
      error: ValidationError,
      field: 'config',
    },
  ]);

  section('malformed ids', () => {
    const project = (id: unknown) => anyValue<string>(id);
    return [
      {
        name: "project get('not-a-uuid')",
        run: t((tx) => tx.projects.get('not-a-uuid')),
        error: ValidationError,
        field: 'project id',
        issuePath: '(input)',
      },
      {
        name: "project get('')",
        run: t((tx) => tx.projects.get('')),
        error: ValidationError,
        field: 'project id',
        issuePath: '(input)',
      },
      {
        name: 'project get(42)',
        run: t((tx) => tx.projects.get(project(42))),
        error: ValidationError,
        field: 'project id',
        issuePath: '(input)',
      },
      {
        name: "project update('not-a-uuid')",
        run: t((tx) => tx.projects.update('not-a-uuid', { name: 'X' })),
        error: ValidationError,
        field: 'project id',
        issuePath: '(input)',
      },
      {
        name: 'project delete(42)',
        run: t((tx) => tx.projects.delete(project(42))),
        error: ValidationError,
        field: 'project id',
        issuePath: '(input)',
      },
      {
        name: "file list('')",
        run: t((tx) => tx.projectFiles.list('')),
        error: ValidationError,
        field: 'project id',
        issuePath: '(input)',
      },
      {
        name: "file get('not-a-uuid')",
        run: t((tx) => tx.projectFiles.get('not-a-uuid', 'a.txt')),
        error: ValidationError,
        field: 'project id',
        issuePath: '(input)',
      },
      {
        name: 'agent state get(42)',
        run: t((tx) => tx.agentStates.get(project(42))),
        error: ValidationError,
        field: 'project id',
        issuePath: '(input)',
      },
      {
        name: "agent state save with projectId 'not-a-uuid'",
        run: t((tx) => tx.agentStates.save({ projectId: 'not-a-uuid', state: {}, expectedVersion: null })),
        error: ValidationError,
        field: 'projectId',
      },
      {
        name: "membership add with userId 'not-a-uuid'",
        run: s((tx) => tx.memberships.create(f.tenant.id, { userId: 'not-a-uuid', role: 'member' })),
        error: ValidationError,
        field: 'userId',
      },
      {
        name: "membership update('')",
        run: t((tx) => tx.memberships.update('', { role: 'admin' })),
        error: ValidationError,
        field: 'user id',
        issuePath: '(input)',
      },
      {
        name: 'membership remove(42)',
        run: t((tx) => tx.memberships.delete(project(42))),
        error: ValidationError,
        field: 'user id',
        issuePath: '(input)',
      },
      {
        name: "tenant user get('not-a-uuid')",
        run: t((tx) => tx.users.get('not-a-uuid')),
        error: ValidationError,
        field: 'user id',
        issuePath: '(input)',
      },
      {
        name: "tenant get('not-a-uuid')",
        run: s((tx) => tx.tenants.get('not-a-uuid')),
        error: ValidationError,
        field: 'tenant id',
        issuePath: '(input)',
      },
      {
        name: 'tenant setStatus(42)',
        run: s((tx) => tx.tenants.setStatus(project(42), 'active')),
        error: ValidationError,
        field: 'tenant id',
        issuePath: '(input)',
      },
      {
        name: "service user get('')",
        run: s((tx) => tx.users.get('')),
        error: ValidationError,
        field: 'user id',
        issuePath: '(input)',
      },
      {
        name: "service membership add to tenant 'not-a-uuid'",
        run: s((tx) => tx.memberships.create('not-a-uuid', { userId, role: 'member' })),
        error: ValidationError,
        field: 'tenant id',
        issuePath: '(input)',
      },
    ];
  });

  section('unknown well-formed ids', () => {
    const id = randomUUID();
    const notFound = (name: string, run: () => Promise<unknown>): Case => ({
      name,
      run,
      error: NotFoundError,
      field: id,
    });
    return [
      notFound(
        'project get',
        t((tx) => tx.projects.get(id)),
      ),
      notFound(
        'project update',
        t((tx) => tx.projects.update(id, { name: 'X' })),
      ),
      notFound(
        'project archive',
        t((tx) => tx.projects.archive(id)),
      ),
      notFound(
        'project delete',
        t((tx) => tx.projects.delete(id)),
      ),
      // The composite foreign key refuses these; under row-level security the database does not
      // show the key it refused, so the error names the entity, not the id.
      {
        ...notFound(
          'file upsert',
          t((tx) => tx.projectFiles.upsert({ projectId: id, path: 'a.txt', content: 'x' })),
        ),
        field: 'project not found',
      },
      notFound(
        'file get',
        t((tx) => tx.projectFiles.get(id, 'a.txt')),
      ),
      notFound(
        'file delete',
        t((tx) => tx.projectFiles.delete(id, 'a.txt')),
      ),
      notFound(
        'agent state get',
        t((tx) => tx.agentStates.get(id)),
      ),
      {
        ...notFound(
          'agent state first save',
          t((tx) => tx.agentStates.save({ projectId: id, state: {}, expectedVersion: null })),
        ),
        field: 'project not found',
      },
      notFound(
        'agent state versioned save',
        t((tx) => tx.agentStates.save({ projectId: id, state: {}, expectedVersion: 3 })),
      ),
      notFound(
        'membership update',
        t((tx) => tx.memberships.update(id, { role: 'admin' })),
      ),
      notFound(
        'membership remove',
        t((tx) => tx.memberships.delete(id)),
      ),
      notFound(
        'tenant user get',
        t((tx) => tx.users.get(id)),
      ),
      // The set-up statement refuses a tenant that does not exist before any work runs.
      ...[
        (tx: TenantTx): Promise<unknown> => tx.tenants.current(),
        (tx: TenantTx) => tx.tenants.updateSettings({ a: 1 }),
        (tx: TenantTx) => tx.tenants.incrementUsage('tokens'),
      ].map(
        (work, i): Case => ({
          name: `tenant work ${i + 1} of 3 for an unknown tenant id`,
          run: () => h.store.withTenant({ tenantId: id, actor: f.actor }, work),
          error: ForbiddenError,
          field: id,
        }),
      ),
      notFound(
        'service tenant get',
        s((tx) => tx.tenants.get(id)),
      ),
      notFound(
        'service tenant setStatus',
        s((tx) => tx.tenants.setStatus(id, 'active')),
      ),
      notFound(
        'service tenant setPlan',
        s((tx) => tx.tenants.setPlan(id, 'starter')),
      ),
      notFound(
        'service tenant setQuotas',
        s((tx) => tx.tenants.setQuotas(id, { projects: 1 })),
      ),
      notFound(
        'service tenant delete',
        s((tx) => tx.tenants.delete(id)),
      ),
      notFound(
        'service user get',
        s((tx) => tx.users.get(id)),
      ),
      notFound(
        'service user update',
        s((tx) => tx.users.update(id, { name: 'X' })),
      ),
      notFound(
        'service user setPassword',
        s((tx) => tx.users.setPassword(id, 'long enough secret')),
      ),
      notFound(
        'service user delete',
        s((tx) => tx.users.delete(id)),
      ),
    ];
  });

  describe('tenant and service context', () => {
    const contexts: Array<[string, unknown, string]> = [
      ['no tenant id', { actor: { type: 'user', id: randomUUID() } }, 'tenantId'],
      [
        'tenant id not a uuid',
        { tenantId: 'not-a-uuid', actor: { type: 'user', id: randomUUID() } },
        'tenantId',
      ],
      ['empty tenant id', { tenantId: '', actor: { type: 'user', id: randomUUID() } }, 'tenantId'],
      ['numeric tenant id', { tenantId: 42, actor: { type: 'user', id: randomUUID() } }, 'tenantId'],
      ['no actor', { tenantId: randomUUID() }, 'actor'],
      [
        'unknown actor type',
        { tenantId: randomUUID(), actor: { type: 'robot', id: randomUUID() } },
        'actor.type',
      ],
      ['actor id not a uuid', { tenantId: randomUUID(), actor: { type: 'user', id: 'nope' } }, 'actor.id'],
      ['actor without id', { tenantId: randomUUID(), actor: { type: 'agent' } }, 'actor.id'],
      ['service actor name in a tenant context', { tenantId: randomUUID(), actor: 'ops-job' }, 'actor'],
      [
        'oversized request context value',
        {
          tenantId: randomUUID(),
          actor: { type: 'user', id: randomUUID() },
          request: { requestId: 'r'.repeat(513) },
        },
        'request.requestId',
      ],
      ['null context', null, '(input)'],
    ];
    for (const [name, context, path] of contexts) {
      it(`withTenant refuses ${name} with a TenantContextError, before any work`, async () => {
        const before = await rowCounts(h);
        let ran = false;
        const error = await caught(
          h.store.withTenant(anyValue(context), async (tx) => {
            ran = true;
            return tx.projects.create({ slug: 'never', name: 'Never' });
          }),
        );
        expect(error).toBeInstanceOf(TenantContextError);
        expect((error as Error).message).toContain(`${path}:`);
        const cause = (error as TenantContextError).cause;
        expect(cause).toBeInstanceOf(ValidationError);
        expect((cause as ValidationError).issues.map((issue) => issue.path)).toContain(path);
        expect(ran).toBe(false);
        expect(await rowCounts(h)).toEqual(before);
      });
    }

    const services: Array<[string, unknown]> = [
      ['an empty actor', { actor: '' }],
      ['a blank actor', { actor: '   ' }],
      ['no actor', {}],
      ['a numeric actor', { actor: 42 }],
      ['an actor name of 201 characters', { actor: 'a'.repeat(201) }],
    ];
    for (const [name, context] of services) {
      it(`asService refuses ${name} with a ValidationError, before any work`, async () => {
        const before = await rowCounts(h);
        let ran = false;
        const error = await caught(
          h.store.asService(anyValue(context), async (tx) => {
            ran = true;
            return tx.tenants.create({ slug: 'never', name: 'Never' });
          }),
        );
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as Error).message).toContain('actor');
        expect((error as ValidationError).issues.map((issue) => issue.path)).toContain('actor');
        expect(ran).toBe(false);
        expect(await rowCounts(h)).toEqual(before);
      });
    }
  });

  it('changed no row in any table across the whole suite', async () => {
    expect(initialCounts.projects).toBeGreaterThan(0);
    expect(await rowCounts(h)).toEqual(initialCounts);
  });
});
