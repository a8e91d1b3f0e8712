import { beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../harness/engines.ts';
import { createWikiTenant, type WikiFixture } from './wiki-fixtures.ts';

/** A small engineering wiki, as a team running agents as staff would write it. */
const CORPUS = [
  {
    slug: 'deploying-to-production',
    title: 'Deploying to production',
    content:
      'Merge to main, wait for the green pipeline, then run the release job. Apply database migrations before the new containers take traffic, and watch the error rate for ten minutes.',
  },
  {
    slug: 'rollback-procedure',
    title: 'Rolling back a bad release',
    content:
      'When the error budget burns, redeploy the previous image tag. Roll back migrations only with their down step, after checking for data loss.',
  },
  {
    slug: 'on-call-rotation',
    title: 'On-call rotation',
    content:
      'Each week one human and one orchestrator agent carry the pager. Hand over open incidents on Monday morning with a written summary.',
  },
  {
    slug: 'incident-postmortems',
    title: 'Writing incident postmortems',
    content:
      'Blameless postmortems within five days: timeline, root cause, contributing factors and follow-up actions with owners.',
  },
  {
    slug: 'code-review-guidelines',
    title: 'Code review guidelines',
    content:
      'Every pull request needs one approving review. Reviewers check tests, naming and error handling; keep comments kind and specific.',
  },
  {
    slug: 'branching-strategy',
    title: 'Git branching strategy',
    content:
      'Trunk-based development: short-lived feature branches rebased on main, squash merges, and tags for releases.',
  },
  {
    slug: 'api-authentication',
    title: 'API authentication with keys',
    content:
      'Agents authenticate with an API key sent as a bearer token. Keys are rotated with a grace period and revoked at once when leaked.',
  },
  {
    slug: 'password-policy',
    title: 'Password and login policy',
    content:
      'Humans log in with a password of at least twelve characters and a second factor. Passwords are hashed with scrypt, never stored in clear.',
  },
  {
    slug: 'postgres-indexing',
    title: 'PostgreSQL indexing tips',
    content:
      'Lead every index with tenant_id. Use partial indexes for hot subsets, GIN for arrays and full-text search, and check plans with EXPLAIN ANALYZE.',
  },
  {
    slug: 'database-backups',
    title: 'Database backups and restore drills',
    content:
      'Nightly base backups with continuous WAL archiving allow point-in-time recovery. We restore into a scratch server every month to prove it works.',
  },
  {
    slug: 'redis-caching',
    title: 'Caching with Redis',
    content:
      'Cache read-heavy lookups with a short TTL and invalidate on write. Never cache tenant data under a key without the tenant id.',
  },
  {
    slug: 'rate-limiting',
    title: 'Rate limiting',
    content:
      'The API throttles each key with a generic cell rate algorithm; clients receive 429 with Retry-After and should back off exponentially.',
  },
  {
    slug: 'frontend-accessibility',
    title: 'Frontend accessibility checklist',
    content:
      'Every interactive element is reachable by keyboard, images carry alt text, and colour contrast meets WCAG AA.',
  },
  {
    slug: 'design-tokens',
    title: 'Design tokens and theming',
    content:
      'Colours, spacing and typography come from shared design tokens so that dark mode and brand themes stay consistent.',
  },
  {
    slug: 'writing-unit-tests',
    title: 'Writing unit tests',
    content:
      'Test behaviour, not implementation. One assertion theme per test, deterministic clocks, and no sleeping in tests.',
  },
  {
    slug: 'flaky-tests',
    title: 'Dealing with flaky tests',
    content:
      'A test that fails intermittently is quarantined within a day, its owner investigates race conditions and shared state, then it returns.',
  },
  {
    slug: 'onboarding-new-agents',
    title: 'Onboarding new agents',
    content:
      'A new agent starts on probation with a low trust score, shadows a senior agent on three tasks, and reads this wiki before its first session.',
  },
  {
    slug: 'trust-score',
    title: 'How the trust score is computed',
    content:
      'The trust score blends task completion, code quality and bugs introduced from the KPI history; a drop below forty puts an agent on probation.',
  },
  {
    slug: 'cost-budgets',
    title: 'Model cost budgets',
    content:
      'Each project has a monthly budget for model tokens. Prefer smaller models for classification and summarisation; alert at eighty percent of spend.',
  },
  {
    slug: 'prompt-style-guide',
    title: 'Prompt style guide',
    content:
      'Prompts state the goal, the constraints and the expected output format. Keep examples short and remove secrets before sending context to a model.',
  },
  {
    slug: 'secrets-management',
    title: 'Secrets management',
    content:
      'Secrets live in the vault, are injected at runtime as environment variables, and never enter the repository or the logs.',
  },
  {
    slug: 'logging-conventions',
    title: 'Logging conventions',
    content:
      'Structured JSON logs with a request id, tenant and actor on every line; no personal data, and error logs carry the stack trace.',
  },
  {
    slug: 'dependency-upgrades',
    title: 'Upgrading dependencies',
    content:
      'A bot opens weekly pull requests for patch upgrades; major version bumps get their own task with a changelog review.',
  },
  {
    slug: 'customer-data-deletion',
    title: 'Deleting customer data',
    content:
      'A deletion request is honoured within thirty days: the tenant is suspended, exported on request, then purged with its audit trail kept.',
  },
];

/** Realistic questions, each with the entry that must come first. */
const QUERIES: Array<[query: string, slug: string]> = [
  ['how do I deploy to production', 'deploying-to-production'],
  ['roll back a release', 'rollback-procedure'],
  ['who carries the pager this week', 'on-call-rotation'],
  ['blameless postmortem root cause', 'incident-postmortems'],
  ['pull request review', 'code-review-guidelines'],
  ['feature branches squash merge', 'branching-strategy'],
  ['api key bearer token', 'api-authentication'],
  ['password hashing', 'password-policy'],
  ['index tenant_id explain analyze', 'postgres-indexing'],
  ['point-in-time recovery', 'database-backups'],
  ['redis cache invalidation', 'redis-caching'],
  ['429 retry-after', 'rate-limiting'],
  ['keyboard accessibility contrast', 'frontend-accessibility'],
  ['dark mode theme', 'design-tokens'],
  ['unit tests', 'writing-unit-tests'],
  ['flaky test quarantine', 'flaky-tests'],
  ['new agent probation onboarding', 'onboarding-new-agents'],
  ['trust score', 'trust-score'],
  ['token budget for models', 'cost-budgets'],
  ['prompt output format', 'prompt-style-guide'],
  ['where do secrets live', 'secrets-management'],
  ['structured logs request id', 'logging-conventions'],
  ['upgrade dependencies major version', 'dependency-upgrades'],
  ['delete customer data on request', 'customer-data-deletion'],
  ['"error budget"', 'rollback-procedure'],
  ['backups -redis', 'database-backups'],
];

describeEachEngine('wiki search', (h) => {
  let f: WikiFixture;
  const ids = new Map<string, string>();

  beforeAll(async () => {
    f = await createWikiTenant(h);
    for (const entry of CORPUS) ids.set(entry.slug, (await f.publish(f.lead, entry)).id);
    // A superseded version: its words are no longer found, the new ones are.
    const old = await f.publish(f.reviewer, {
      slug: 'meeting-notes',
      title: 'Weekly sync notes',
      content: 'Standup happens on zebra crossings.',
    });
    const edit = await f.as(f.agent(f.reviewer), (tx) =>
      tx.wiki.edit(old.entryId, { content: 'The weekly sync happens on Tuesdays at ten.', submit: true }),
    );
    await f.as(f.actor, (tx) => tx.wiki.approve(edit.id));
    ids.set('meeting-notes', edit.id);
    // A project's entry competes only inside its project.
    await f.publish(f.lead, {
      slug: 'web-deploys',
      title: 'Deploying the web app',
      content: 'The web app deploys to production from the CDN pipeline.',
      projectId: f.projectId,
    });
  });

  it(`puts the relevant entry first for ${QUERIES.length} realistic queries`, async () => {
    const misses: string[] = [];
    await f.as(f.agent(f.apiDev), async (tx) => {
      for (const [query, slug] of QUERIES) {
        const hits = await tx.wiki.search({ query, limit: 5 }).then(({ items }) => items);
        if (hits[0]?.slug !== slug)
          misses.push(`${query} → ${hits.map((hit) => hit.slug).join(', ') || 'nothing'}`);
        for (let i = 1; i < hits.length; i++) expect(hits[i]!.rank).toBeLessThanOrEqual(hits[i - 1]!.rank);
      }
    });
    expect(misses).toEqual([]);
  });

  it('searches current versions only, and a project’s entries only within its scope', async () => {
    await f.as(f.actor, async (tx) => {
      expect(await tx.wiki.search({ query: 'zebra crossings' }).then(({ items }) => items)).toEqual([]);
      expect(
        (await tx.wiki.search({ query: 'weekly sync tuesdays' }).then(({ items }) => items)).map(
          (hit) => hit.id,
        ),
      ).toEqual([ids.get('meeting-notes')]);
      // Stop words only: no lexeme, no hit, no error.
      expect(await tx.wiki.search({ query: 'the and of' }).then(({ items }) => items)).toEqual([]);
      // Narrowed to a project: tenant-wide entries and that project's.
      const inWeb = await tx.wiki
        .search({ query: 'deploy production', projectId: f.projectId })
        .then(({ items }) => items);
      expect(inWeb.map((hit) => hit.slug)).toContain('web-deploys');
      const inApi = await tx.wiki
        .search({ query: 'deploy production', projectId: f.otherProjectId })
        .then(({ items }) => items);
      expect(inApi.map((hit) => hit.slug)).not.toContain('web-deploys');
      expect(inApi[0]!.slug).toBe('deploying-to-production');
    });
    // The title weighs more than the body: "Writing unit tests" before an entry that only mentions tests.
    const hits = await f.as(f.agent(f.lead), (tx) =>
      tx.wiki.search({ query: 'tests', limit: 10 }).then(({ items }) => items),
    );
    expect(hits[0]!.slug).toBe('writing-unit-tests');
    expect(hits.map((hit) => hit.slug)).toContain('code-review-guidelines');
    // Paged by cursor: pages of 2 give the same hits in the same order as one page, none repeated.
    const paged: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await f.as(f.agent(f.lead), (tx) => tx.wiki.search({ query: 'tests', limit: 2, cursor }));
      paged.push(...page.items.map((hit) => hit.slug));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(paged).toEqual(hits.map((hit) => hit.slug));
  });
});
