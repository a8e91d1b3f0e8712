import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/index.ts';
import { loadMigrations } from '../../src/migrations/migration-files.ts';
import { agentflow } from '../harness/cli.ts';

// The migrations this code ships, so that adding one does not rewrite these expectations.
const migrations = await loadMigrations();
const latest = migrations.at(-1)!.version;
const named = (version: number) => {
  const migration = migrations.find((m) => m.version === version)!;
  return `${migration.version}_${migration.name}`;
};

// The CLI on the embedded engine, stored in a folder as `npm start` uses it.
describe('agentflow command line [pglite folder]', () => {
  let dir: string;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentflow-cli-'));
    url = `pglite://${dir}`;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('refuses to work on an unmigrated database, naming the fix', async () => {
    const run = await agentflow(url, 'db', 'verify');
    expect(run.code).toBe(2);
    expect(run.err).toMatch(
      /version 0, this code needs \d+: run `agentflow db migrate`.*\[schema_version_mismatch\]/,
    );
  });

  it('shows pending migrations, applies them, then has nothing to apply', async () => {
    const before = await agentflow(url, 'db', 'status');
    expect(before.out).toMatch(new RegExp(`version\\s+0 of ${latest}`));
    expect(before.out).toContain('pending  1_foundation');
    const migrate = await agentflow(url, 'db', 'migrate');
    expect(migrate.code).toBe(0);
    expect(migrate.out).toContain(
      `applied ${migrations.map((m) => named(m.version)).join(', ')}; now at version ${latest}`,
    );
    expect((await agentflow(url, 'db', 'migrate')).out).toContain(`already up to date at version ${latest}`);
  });

  it('verifies the live catalog', async () => {
    const run = await agentflow(url, '--json', 'db', 'verify');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ ok: true });
  });

  it('seeds the demo once, and says so the second time', async () => {
    const first = await agentflow(url, 'db', 'seed', '--demo');
    expect(first.out).toContain('seeded demo tenants: acme-robotics, globex');
    expect(first.out).toMatch(/ceo@acme-robotics\.example {2}\S{8,}/);
    // Each company's orchestrator gets a key, printed this once, that authenticates as it.
    const key = /acme-robotics\/orion {2}(afk_\S+)/.exec(first.out)?.[1];
    expect(key).toBeDefined();
    const store = await openStore({ url });
    try {
      const identity = await store.authenticate(key!);
      const orion = await store.withTenant(
        { tenantId: identity.tenantId, actor: { type: 'agent', id: identity.agentId } },
        (tx) => tx.agents.get(identity.agentId),
      );
      expect(orion.code).toBe('orion');
    } finally {
      await store.close();
    }
    expect((await agentflow(url, 'db', 'seed', '--demo')).out).toContain('demo data already present');
    const nothing = await agentflow(url, 'db', 'seed');
    expect(nothing.code).toBe(2);
    expect(nothing.err).toContain('say what to seed: --demo');
  });

  it('start prints the status report with row counts per tenant and the isolation result', async () => {
    const run = await agentflow(url, 'start');
    expect(run.code).toBe(0);
    expect(run.out).not.toContain('seeded');
    expect(run.out).toMatch(new RegExp(`schema version\\s+${latest} of ${latest}`));
    expect(run.out).toMatch(/acme-robotics\s+active\s+.*projects=2/);
    expect(run.out).toMatch(/globex\s+active\s+.*projects=1/);
    // The AI staff and its timeline: agents, keys, sessions, events and KPI history.
    expect(run.out).toMatch(
      /acme-robotics\s+active\s+.*agent_credentials=1 .*agents=7 .*events=\d+ .*kpis=28 .*work_sessions=5/,
    );
    // Each project's work: a backlog with dependencies, runs with their cost, an approval waiting.
    expect(run.out).toMatch(
      /acme-robotics\s+active\s+.*approvals=2 .*task_dependencies=12 .*task_executions=6 .*tasks=16/,
    );
    expect(run.out).toMatch(/spend {5}\$1\.852050 over 139800 tokens/);
    // The staff's knowledge: 8 lessons, a review per iteration of each run (acme: 6 runs, 8
    // iterations; globex: 3 runs, 4), two patterns, the wiki with one proposal waiting, 3 evidence.
    expect(run.out).toMatch(
      /acme-robotics\s+active[^\n]*\n[^\n]*spend[^\n]*\n\s+knowledge 8 lessons, 8 self-reviews, 2 patterns, wiki 2 approved \/ 1 pending, 3 evidence/,
    );
    expect(run.out).toMatch(
      /globex\s+active[^\n]*\n[^\n]*spend[^\n]*\n\s+knowledge 8 lessons, 4 self-reviews, 2 patterns, wiki 2 approved \/ 1 pending, 3 evidence/,
    );
    expect(run.out).toMatch(/acme-robotics\s+active\s+.*evidence_links=2 .*wiki_entries=4 wiki_pages=2/);
    expect(run.out).toMatch(/isolation\s+OK/);
    expect(run.out).toContain('live probe: 2 tenant(s) each saw 0 rows of the others');
  });

  it('lists, shows and graphs a project’s tasks, and refuses an unknown project or status', async () => {
    const list = await agentflow(
      url,
      'task',
      'list',
      '--tenant',
      'acme-robotics',
      '--project',
      'warehouse-bot',
    );
    expect(list.code).toBe(0);
    expect(list.out.trim().split('\n')).toHaveLength(8);
    expect(list.out).toMatch(/P1 {2}in_review {4}bolt +Implement the API endpoints/);
    expect(list.out).toMatch(/P3 {2}backlog +- +Fix the flaky login test \(Warehouse Bot\) #11/);
    const reviewed = /^(\S+) .*Implement the API endpoints/m.exec(list.out)![1]!;
    const show = await agentflow(url, 'task', 'show', '--tenant', 'acme-robotics', reviewed);
    expect(show.out).toMatch(/waits for:\n +\S+ +P1 +completed +piper +Design the data model/);
    expect(show.out).toMatch(/waited for by:\n +\S+ +P2 +backlog +- +Write the integration tests/);
    const graph = await agentflow(
      url,
      'task',
      'graph',
      '--tenant',
      'acme-robotics',
      '--project',
      'warehouse-bot',
    );
    expect(graph.out).toContain('open tasks of warehouse-bot (7)');
    expect(graph.out).toMatch(/^ {2}- P0 backlog Release v1\.0 \(Warehouse Bot\)/m);
    expect(graph.out).toContain('critical path: 19.00 h over 3 task(s)');
    expect(graph.out).toMatch(
      /1\. P1 in_review Implement.*\n.*2\. P2 backlog Write.*\n.*3\. P0 backlog Release/,
    );
    const unknown = await agentflow(url, 'task', 'list', '--tenant', 'acme-robotics', '--project', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('[not_found]');
    const status = await agentflow(
      url,
      'task',
      'list',
      '--tenant',
      'globex',
      '--project',
      'doomsday-device',
      '--status',
      'done',
    );
    expect(status.code).toBe(2);
    expect(status.err).toContain('[validation_failed]');
  });

  it('searches the wiki and the lessons, shows an entry without counting a view, and refuses bad input', async () => {
    const acme = ['--tenant', 'acme-robotics'];
    // The approved checklist first, the project's conventions (which mention deploying) after it;
    // the pending rollback runbook is about deploys too, and is not found.
    const wiki = await agentflow(url, 'wiki', 'search', 'deploy', ...acme);
    expect(wiki.code).toBe(0);
    expect(wiki.out).toMatch(
      /^\d\.\d{3} {2}Deployment checklist {2}\(deployment-checklist, tenant, v2\)\n\d\.\d{3} {2}Coding conventions {2}\(coding-conventions, project warehouse-bot, v1\)\n$/,
    );
    const inPortal = await agentflow(
      url,
      'wiki',
      'search',
      'deploy',
      ...acme,
      '--project',
      'customer-portal',
    );
    expect(inPortal.out).toMatch(/^\S+ {2}Deployment checklist .*\n$/);
    const json = await agentflow(url, '--json', 'wiki', 'search', 'runbook', ...acme);
    expect(JSON.parse(json.out)).toEqual([]);
    const show = await agentflow(url, 'wiki', 'show', 'deployment-checklist', ...acme);
    expect(show.out).toMatch(/version 2 approved \S+, proposed by atlas, 0 view\(s\)/);
    expect(show.out).toContain('  4. If the error rate rises, roll back and write a lesson.');
    expect(show.out).toMatch(/history:\n {2}v2 {2}approved .* by atlas\n {2}v1 {2}approved .* by atlas\n$/);
    // Showing it again: still no view counted.
    expect((await agentflow(url, 'wiki', 'show', 'deployment-checklist', ...acme)).out).toContain(
      '0 view(s)',
    );
    const pending = await agentflow(url, 'wiki', 'show', 'rollback-runbook', ...acme);
    expect(pending).toMatchObject({
      code: 2,
      err: 'agentflow: wiki entry rollback-runbook not found [not_found]\n',
    });

    // Lessons: applied three times, outcomes 1, 1, 0 → 0.8; the validated one is marked.
    const retry = await agentflow(url, 'lessons', 'search', 'retry', ...acme);
    expect(retry.out).toMatch(
      /^\S+ {2}error-handling {2}Retry model calls that time out, with exponential backoff\n +confidence 0\.90, success 80%, applied 3x, tags llm, timeouts, retries\n$/,
    );
    const deploy = await agentflow(
      url,
      'lessons',
      'search',
      'deploy',
      '--tenant',
      'globex',
      '--category',
      'deployment',
    );
    expect(deploy.out).toMatch(
      /Run the database migrations before deploying the new version\n +confidence 0\.95, success 100%, applied 1x, tags deploy, migrations, postgresql {2}validated\n$/,
    );
    // Any of the tags, or all of them; ordered by rank, then confidence.
    const tagged = await agentflow(
      url,
      '--json',
      'lessons',
      'search',
      'database or tenant or offset',
      ...acme,
      '--tag',
      'postgresql',
      'ci',
    );
    expect(JSON.parse(tagged.out).map((l: { title: string }) => l.title)).toEqual([
      'Index the tenant column before filtering large tables',
      'Page lists with keyset cursors, not offsets',
      'Run the database migrations before deploying the new version',
    ]);
    const allTags = await agentflow(
      url,
      'lessons',
      'search',
      'database',
      ...acme,
      '--tag',
      'postgresql',
      'deploy',
      '--all-tags',
    );
    expect(allTags.out).toMatch(/^\S+ {2}deployment {4}[^\n]*\n[^\n]*\n$/);
    expect((await agentflow(url, 'lessons', 'search', 'kubernetes', ...acme)).out).toBe(
      'no lesson matches\n',
    );

    for (const [args, error] of [
      [['wiki', 'search', 'deploy', '--tenant', 'nope'], 'agentflow: tenant nope not found [not_found]'],
      [
        ['wiki', 'search', 'deploy', ...acme, '--project', 'nope'],
        'agentflow: project nope not found [not_found]',
      ],
      [
        ['wiki', 'search', '  ', ...acme],
        'invalid wiki search: query: must not be blank [validation_failed]',
      ],
      [['wiki', 'search', 'deploy', ...acme, '--limit', '0'], 'invalid wiki search: limit'],
      [['wiki', 'search', 'deploy', ...acme, '--limit', '101'], 'invalid wiki search: limit'],
      [['lessons', 'search', '', ...acme], 'invalid lesson search: query'],
      [['lessons', 'search', 'x', '--tenant', 'nope'], 'agentflow: tenant nope not found [not_found]'],
      [['lessons', 'search', 'x', ...acme, '--limit', 'ten'], 'invalid lesson search: limit'],
      [['lessons', 'search', 'x', ...acme, '--category', 'Not Valid'], 'invalid lesson search: category'],
    ] as const) {
      const run = await agentflow(url, ...args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.err, args.join(' ')).toContain(error);
      expect(run.out, args.join(' ')).toBe('');
    }
  });

  it('creates a tenant, and refuses a duplicate or a bad slug with a typed error', async () => {
    const tenant = await agentflow(url, 'tenant', 'create', '--slug', 'initech', '--name', 'Initech');
    expect(tenant.out).toMatch(/created tenant initech/);
    const duplicate = await agentflow(url, 'tenant', 'create', '--slug', 'initech', '--name', 'Again');
    expect(duplicate.code).toBe(2);
    expect(duplicate.err).toContain('[duplicate]');
    const bad = await agentflow(url, 'tenant', 'create', '--slug', 'Not A Slug', '--name', 'x');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/slug.*\[validation_failed\]/);
  });

  it('start fails (exit 1) when the live probe finds a leak', async () => {
    // Plant an open policy as the owner: a tenant could now read every tenant's projects.
    const store = await openStore({ url });
    await store.engine.transaction(undefined, (c) =>
      c.exec('CREATE POLICY leak ON projects FOR SELECT USING (true)'),
    );
    const globex = await store.asService({ actor: 'test' }, (svc) => svc.tenants.getBySlug('globex'));
    await store.withTenant(
      {
        tenantId: globex.id,
        actor: { type: 'user', id: '00000000-0000-4000-8000-000000000001' },
      },
      async (tx) => expect((await tx.projects.list()).items.length).toBeGreaterThan(1),
    );
    await store.close();
    const run = await agentflow(url, 'start');
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/isolation\s+FAILED/);
    expect(run.out).toContain('policy leak lets agentflow_app SELECT rows of any tenant');
    expect(run.out).toMatch(/FAIL {2}live probe: tenant \S+ can see \d+ rows of other tenants/);
  });

  // Last: the rollback drops the projects the tests above rely on.
  it('rolls back to a version and refuses a version it does not have', async () => {
    expect((await agentflow(url, 'db', 'rollback', '--to', String(latest + 1))).err).toContain(
      `cannot roll back to version ${latest + 1}`,
    );
    // The demo's projects, files, agent states, agents, timeline and work would go: refused, exit 2,
    // each named, newest migration first, nothing undone.
    const refused = await agentflow(url, 'db', 'rollback', '--to', '2');
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(
      'rolling back would lose data: 20_evidence drops table evidence, which holds rows; ',
    );
    for (const loss of [
      '20_evidence drops table evidence_links, which holds rows',
      '19_wiki drops table wiki_entries, which holds rows; 19_wiki drops table wiki_pages, which holds rows',
      '18_lessons drops table lessons, which holds rows',
      '18_lessons drops table patterns, which holds rows',
      '18_lessons drops table self_reviews, which holds rows',
      '17_task_notes drops table task_checkpoints, which holds rows',
      '16_approvals drops table approvals, which holds rows',
      '15_task_executions drops table task_executions, which holds rows',
      '14_task_graph drops table task_dependencies, which holds rows',
      '13_tasks drops table tasks, which holds rows',
      '12_event_stream drops column events.tx_id, which holds values',
      '9_kpis drops table kpis, which holds rows',
      '8_agent_credentials drops table agent_credentials, which holds rows',
      '7_timeline drops table events, which holds rows',
      '7_timeline drops table work_sessions, which holds rows',
      '6_agents drops table agents, which holds rows',
      '4_agent_states drops table agent_states, which holds rows; 3_projects drops table project_files, which holds rows',
      '3_projects drops table projects, which holds rows',
    ])
      expect(refused.err).toContain(loss);
    expect(refused.err).toMatch(/agentflow db rollback --force\) \[migration_failed\]/);
    expect((await agentflow(url, 'db', 'status')).out).toMatch(
      new RegExp(`version\\s+${latest} of ${latest}`),
    );
    const run = await agentflow(url, 'db', 'rollback', '--to', '2', '--force');
    expect(run.code).toBe(0);
    const rolledBack = migrations.filter((m) => m.version > 2).map((m) => named(m.version));
    expect(run.out).toContain(`rolled back ${rolledBack.reverse().join(', ')}; now at version 2`);
    expect((await agentflow(url, 'db', 'migrate')).out).toContain(`now at version ${latest}`);
  });

  it('issues, rotates and revokes an agent key, printing each key once', async () => {
    expect((await agentflow(url, 'tenant', 'create', '--slug', 'keys', '--name', 'Keys')).code).toBe(0);
    const store = await openStore({ url });
    await store
      .asService({ actor: 'test' }, async (svc) => {
        const tenant = await svc.tenants.getBySlug('keys');
        await svc.agents.create(tenant.id, { code: 'qa', name: 'QA', type: 'tester', roleTitle: 'Tester' });
      })
      .finally(() => store.close());
    const key = /^afk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}\n$/;
    const issued = await agentflow(url, 'agent', 'key', 'issue', '--tenant', 'keys', '--agent', 'qa');
    expect(issued).toMatchObject({ code: 0, out: expect.stringMatching(key) });
    expect(issued.err).toContain('it is not shown again');
    const rotated = await agentflow(
      url,
      'agent',
      'key',
      'rotate',
      '--tenant',
      'keys',
      '--agent',
      'qa',
      '--grace-seconds',
      '0',
    );
    expect(rotated).toMatchObject({ code: 0, out: expect.stringMatching(key) });
    expect(rotated.err).toContain(`key ${issued.out.slice(4, 20)} keeps working until`);
    const check = await openStore({ url });
    try {
      expect(await check.authenticate(rotated.out.trim())).toMatchObject({
        credentialId: expect.any(String),
      });
      await expect(check.authenticate(issued.out.trim())).rejects.toMatchObject({ code: 'key_expired' });
    } finally {
      await check.close();
    }
    const revoked = await agentflow(url, 'agent', 'key', 'revoke', '--tenant', 'keys', '--agent', 'qa');
    // Every key not yet revoked, the expired one included.
    expect(revoked.code).toBe(0);
    expect(revoked.out.trim().split(/, | /).sort()).toEqual(
      ['revoked', issued.out.slice(4, 20), rotated.out.slice(4, 20)].sort(),
    );
    const unknown = await agentflow(url, 'agent', 'key', 'issue', '--tenant', 'keys', '--agent', 'nobody');
    expect(unknown).toMatchObject({ code: 2, err: 'agentflow: agent nobody not found [not_found]\n' });
  });
});

// tenant create / user create validate with the repositories' own contracts, before a database opens.
describe('agentflow tenant and user commands validate their input first', () => {
  let dir: string;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agentflow-cli-contract-'));
    url = `pglite://${join(dir, 'never-opened')}`;
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('refuses bad input with the contract’s ValidationError, opening no database', async () => {
    for (const args of [
      ['tenant', 'create', '--slug', 'Not A Slug', '--name', 'x'],
      ['tenant', 'create', '--slug', 'fine', '--name', 'x', '--plan', 'platinum'],
      ['tenant', 'create', '--slug', 'fine', '--name', ' '],
      ['user', 'create', '--email', 'not-an-email', '--name', 'Ada'],
      ['user', 'create', '--email', 'ada@example.test', '--name', 'Ada', '--tenant', 'Bad Slug'],
      [
        'user',
        'create',
        '--email',
        'ada@example.test',
        '--name',
        'Ada',
        '--tenant',
        'acme',
        '--role',
        'root',
      ],
    ]) {
      const run = await agentflow(url, ...args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.err, args.join(' ')).toContain('[validation_failed]');
    }
    // An unmigrated database would have been refused with schema_version_mismatch: none was opened.
    expect(existsSync(join(dir, 'never-opened'))).toBe(false);
  });
});
