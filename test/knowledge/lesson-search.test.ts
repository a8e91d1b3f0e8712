import { beforeAll, describe, expect, it } from 'vitest';
import { type CreateLessonInput, ValidationError } from '../../src/index.ts';
import { describeEachEngine } from '../harness/engines.ts';
import { allPages } from '../harness/paging.ts';
import { createKnowledgeTenant, type KnowledgeFixture } from './knowledge-fixtures.ts';

type Seed = Omit<CreateLessonInput, 'sourceAgentType'> & {
  key: string;
  sourceAgentType?: CreateLessonInput['sourceAgentType'];
};

/** Lessons a software team of agents would write down, each under a key the queries name. */
const LESSONS: Seed[] = [
  {
    key: 'deadlock',
    category: 'database',
    title: 'Take advisory locks in a fixed order',
    summary: 'Two workers that lock the same rows in different orders deadlock under load.',
    details: 'Sort the keys before calling pg_advisory_xact_lock, and keep transactions short.',
    tags: ['postgres', 'concurrency'],
  },
  {
    key: 'n-plus-one',
    category: 'performance',
    title: 'Load relations in one query instead of N+1',
    summary: 'Listing projects with their agents issued one query per project.',
    details: 'Use a join or an IN list; the ORM lazy loading hid the extra round trips.',
    tags: ['orm', 'postgres'],
  },
  {
    key: 'flaky-timezone',
    category: 'testing',
    title: 'Freeze the clock in date-dependent tests',
    summary: 'A test failed every night at midnight UTC because it compared local dates.',
    details: 'Inject a clock, or use fake timers; never read Date.now in assertions.',
    tags: ['flaky', 'time'],
  },
  {
    key: 'rls-superuser',
    category: 'security',
    title: 'Test row-level security as the application role',
    summary: 'Policies looked fine because the tests ran as a superuser, who bypasses RLS.',
    details: 'Switch to a role without BYPASSRLS before asserting isolation between tenants.',
    tags: ['postgres', 'rls', 'multi-tenant'],
  },
  {
    key: 'secrets-in-logs',
    category: 'security',
    title: 'Redact API keys before logging requests',
    summary: 'Bearer tokens appeared in plain text in the request logs.',
    details: 'Strip the Authorization header in the logger serializer; rotate any leaked key.',
    tags: ['logging', 'secrets'],
  },
  {
    key: 'retry-idempotency',
    category: 'reliability',
    title: 'Make retried webhooks idempotent',
    summary: 'GitHub redelivered a webhook and the task was created twice.',
    details: 'Store the delivery id with a unique constraint and ignore duplicates.',
    tags: ['github', 'webhooks'],
  },
  {
    key: 'migration-lock',
    category: 'database',
    title: 'Add indexes concurrently on large tables',
    summary: 'CREATE INDEX blocked writes to the events table for minutes during a deploy.',
    details: 'Use CREATE INDEX CONCURRENTLY outside a transaction, and set a lock_timeout.',
    tags: ['postgres', 'migrations'],
  },
  {
    key: 'react-rerender',
    category: 'frontend',
    title: 'Memoize expensive list rows in React',
    summary: 'Typing in the search box re-rendered a table of two thousand rows on every keystroke.',
    details: 'Wrap rows in React.memo and keep callbacks stable with useCallback.',
    tags: ['react', 'performance'],
  },
  {
    key: 'css-overflow',
    category: 'frontend',
    title: 'Long unbroken strings overflow flex containers',
    summary: 'A URL in a comment pushed the sidebar off screen.',
    details: 'Give the flex child min-width: 0 and use overflow-wrap: anywhere.',
    tags: ['css', 'layout'],
  },
  {
    key: 'docker-cache',
    category: 'devops',
    title: 'Order Dockerfile steps to reuse the layer cache',
    summary: 'Every build reinstalled all npm dependencies and took twelve minutes.',
    details: 'Copy package.json and the lockfile first, run npm ci, then copy the sources.',
    tags: ['docker', 'ci/cd'],
  },
  {
    key: 'env-config',
    category: 'devops',
    title: 'Validate environment variables at startup',
    summary: 'A missing DATABASE_URL only failed on the first request in production.',
    details: 'Parse the configuration with a schema when the process starts and exit on error.',
    tags: ['configuration'],
  },
  {
    key: 'float-money',
    category: 'correctness',
    title: 'Never store money as floating point',
    summary: 'Invoice totals were off by a cent after summing float costs.',
    details: 'Use numeric in SQL and decimal strings in TypeScript for currency amounts.',
    tags: ['money', 'postgres'],
  },
  {
    key: 'pagination-offset',
    category: 'performance',
    title: 'Page with a keyset cursor, not OFFSET',
    summary: 'Deep pages of the audit log took seconds because OFFSET scans every skipped row.',
    details: 'Order by a unique key and resume after the last row seen.',
    tags: ['postgres', 'api'],
  },
  {
    key: 'git-rebase',
    category: 'git',
    title: 'Rebase feature branches before opening a pull request',
    summary: 'Merge commits from main cluttered the history and hid a bad conflict resolution.',
    details: 'Run git rebase origin/main, resolve conflicts commit by commit, then force-push with lease.',
    tags: ['git', 'pull-requests'],
  },
  {
    key: 'review-scope',
    category: 'process',
    title: 'Keep pull requests small enough to review',
    summary: 'A two-thousand-line change sat in review for a week and still shipped a bug.',
    details: 'Split refactoring from behaviour changes; aim for under four hundred lines.',
    tags: ['code-review', 'pull-requests'],
  },
  {
    key: 'prompt-context',
    category: 'ai',
    title: 'Trim the prompt context to the files that matter',
    summary: 'The model ran out of context window and ignored the failing test output.',
    details: 'Rank files by relevance to the task and put the error message last in the prompt.',
    tags: ['llm', 'prompting'],
  },
  {
    key: 'hallucinated-api',
    category: 'ai',
    title: 'Check generated code against the installed library version',
    summary: 'The agent called a method that does not exist in the version in package.json.',
    details: 'Read the type definitions of the installed package before writing calls to it.',
    tags: ['llm', 'dependencies'],
  },
  {
    key: 'memory-leak',
    category: 'reliability',
    title: 'Remove event listeners when a connection closes',
    summary: 'The server leaked memory because every SSE client left a listener behind.',
    details: 'Unsubscribe in the close handler; watch the heap size in a soak test.',
    tags: ['node', 'memory'],
  },
  {
    key: 'rate-limit',
    category: 'reliability',
    title: 'Back off exponentially when the GitHub API rate limits',
    summary: 'Hammering the API after a 403 extended the ban for an hour.',
    details: 'Honour the Retry-After and x-ratelimit-reset headers, with jitter.',
    tags: ['github', 'api'],
  },
  {
    key: 'unicode-slug',
    category: 'correctness',
    title: 'Normalise Unicode before comparing file paths',
    summary: 'Two files named café.md in different normal forms were treated as different files.',
    details: 'Apply NFC normalisation when storing and when looking up a path.',
    tags: ['unicode'],
  },
  {
    key: 'timeout-http',
    category: 'reliability',
    title: 'Set timeouts on every outbound HTTP call',
    summary: 'A hung request to the model provider blocked a worker forever.',
    details: 'Use an AbortController with a deadline and retry on timeout.',
    tags: ['http', 'llm'],
  },
  {
    key: 'snapshot-tests',
    category: 'testing',
    title: 'Avoid brittle snapshot tests of whole pages',
    summary: 'Every copy change broke dozens of snapshots that nobody reviewed.',
    details: 'Assert on the behaviour and the accessible roles instead of the full markup.',
    tags: ['flaky', 'react'],
  },
];

/**
 * Realistic questions an agent would type, each with the lesson that answers it. websearch_to_tsquery
 * ANDs the words (as a web search does), so a query names words the lesson has, after stemming; the
 * last ones use the syntax: a "quoted phrase", OR, and -excluded.
 */
const QUERIES: Array<[query: string, key: string]> = [
  ['deadlock between workers', 'deadlock'],
  ['advisory lock order', 'deadlock'],
  ['ORM lazy loading round trips', 'n-plus-one'],
  ['test fails at midnight', 'flaky-timezone'],
  ['fake timers clock', 'flaky-timezone'],
  ['row level security superuser', 'rls-superuser'],
  ['api key leaked in logs', 'secrets-in-logs'],
  ['webhook created twice', 'retry-idempotency'],
  ['create index blocks writes', 'migration-lock'],
  ['re-renders on every keystroke', 'react-rerender'],
  ['sidebar overflow long url', 'css-overflow'],
  ['Dockerfile layer cache npm', 'docker-cache'],
  ['missing environment variable', 'env-config'],
  ['float money off by a cent', 'float-money'],
  ['OFFSET deep pages', 'pagination-offset'],
  ['rebase before pull request', 'git-rebase'],
  ['pull requests review', 'review-scope'],
  ['context window prompt', 'prompt-context'],
  ['method does not exist in library version', 'hallucinated-api'],
  ['memory leak listeners', 'memory-leak'],
  ['github rate limit 403', 'rate-limit'],
  ['unicode file name normal form', 'unicode-slug'],
  ['hung request timeout', 'timeout-http'],
  ['brittle snapshot tests', 'snapshot-tests'],
  ['"lock_timeout" index', 'migration-lock'],
  ['retry github -webhook', 'rate-limit'],
];

describeEachEngine('lesson search', (h) => {
  let f: KnowledgeFixture;
  let other: KnowledgeFixture;
  const byKey = new Map<string, string>();
  const keyOf = (id: string) => [...byKey].find(([, value]) => value === id)?.[0] ?? id;

  beforeAll(async () => {
    f = await createKnowledgeTenant(h);
    other = await createKnowledgeTenant(h);
    await f.asAgentDo(async (tx) => {
      for (const { key, ...lesson } of LESSONS) {
        const row = await tx.lessons.create({ sourceAgentType: 'backend_dev', ...lesson });
        byKey.set(key, row.id);
      }
    });
    // The other tenant holds a better match for every query: it must never show.
    await other.asAgentDo(async (tx) => {
      for (const [query] of QUERIES) {
        await tx.lessons.create({
          category: 'database',
          title: query.replace(/["-]/g, ''),
          summary: query.replace(/["-]/g, ''),
          sourceAgentType: 'tester',
          confidence: 1,
        });
      }
    });
  });

  it(`puts the relevant lesson first for ${QUERIES.length} realistic queries`, async () => {
    const misses: string[] = [];
    await f.asUser(async (tx) => {
      for (const [query, key] of QUERIES) {
        const { items } = await tx.lessons.search({ query, limit: 5 });
        if (items[0]?.id !== byKey.get(key))
          misses.push(
            `${query} → ${items.map((l) => `${keyOf(l.id)} (${l.rank.toFixed(4)})`).join(', ') || 'nothing'}`,
          );
        expect(items.every((l) => l.tenantId === f.tenant.id)).toBe(true);
      }
    });
    expect(misses).toEqual([]);
  });

  it('gives the same whole ranking on both engines', async () => {
    // Ties (equal rank and confidence) are ordered by id, which differs between the engines' runs:
    // compared here as rank, then key.
    const { items } = await f.asUser((tx) => tx.lessons.search({ query: 'tests OR flaky OR react' }));
    const ranking = items
      .map((l) => `${l.rank.toFixed(6)} ${keyOf(l.id)}`)
      .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }) || 0);
    expect(ranking).toEqual([
      '1.400000 rls-superuser',
      '1.400000 flaky-timezone',
      '1.000000 snapshot-tests',
      '1.000000 react-rerender',
      '0.400000 prompt-context',
      '0.200000 memory-leak',
    ]);
    for (let i = 1; i < items.length; i++) expect(items[i - 1]!.rank).toBeGreaterThanOrEqual(items[i]!.rank);
  });

  it('ranks a title match above a summary match above a details match, then by confidence', async () => {
    const g = await createKnowledgeTenant(h);
    const ids = await g.asAgentDo(async (tx) => {
      const make = (title: string, summary: string, details: string, confidence = 0.5) =>
        tx.lessons.create({
          category: 'ranking',
          title,
          summary,
          details,
          sourceAgentType: 'tester',
          confidence,
        });
      return {
        details: (await make('Unrelated', 'Nothing here', 'Mentions the keyword zeppelin once')).id,
        title: (await make('Zeppelin in the title', 'Nothing here', 'Nothing either')).id,
        summary: (await make('Unrelated', 'The zeppelin in the summary', 'Nothing either')).id,
        sure: (await make('Unrelated', 'Nothing here', 'Mentions the keyword zeppelin once', 0.9)).id,
      };
    });
    const { items } = await g.asUser((tx) => tx.lessons.search({ query: 'zeppelin' }));
    expect(items.map((l) => l.id)).toEqual([ids.title, ids.summary, ids.sure, ids.details]);
    expect(items[0]!.rank).toBeGreaterThan(items[1]!.rank);
    expect(items[1]!.rank).toBeGreaterThan(items[2]!.rank);
    expect(items[2]!.rank).toBe(items[3]!.rank);
  });

  describe('filters and paging', () => {
    it('filters by category and by any or all of a set of tags', async () => {
      await f.asUser(async (tx) => {
        const keys = async (
          input: Omit<Parameters<typeof tx.lessons.search>[0], 'query'>,
          query = 'postgres OR tests OR github',
        ) => (await tx.lessons.search({ query, ...input })).items.map((l) => keyOf(l.id)).sort();
        expect(await keys({ category: 'testing' })).toEqual(['flaky-timezone', 'snapshot-tests']);
        expect(await keys({ tags: ['github'] })).toEqual(['rate-limit', 'retry-idempotency']);
        expect(await keys({ tags: ['flaky', 'github'] }, 'tests OR github')).toEqual([
          'flaky-timezone',
          'rate-limit',
          'retry-idempotency',
          'snapshot-tests',
        ]);
        expect(await keys({ tags: ['github', 'api'], tagMatch: 'all' })).toEqual(['rate-limit']);
        expect(await keys({ tags: ['github'], category: 'reliability' })).toEqual([
          'rate-limit',
          'retry-idempotency',
        ]);
        expect(await keys({ tags: ['nothing-has-this'] })).toEqual([]);
      });
    });

    it('pages by rank, then confidence, then id, ties included, to the same set as one page', async () => {
      const g = await createKnowledgeTenant(h);
      await g.asAgentDo(async (tx) => {
        for (let i = 0; i < 9; i++)
          await tx.lessons.create({
            category: 'paging',
            title: i < 3 ? 'Retry the flaky queue consumer' : 'Queue consumer',
            summary: 'The queue consumer crashed',
            sourceAgentType: 'tester',
            confidence: i % 2 === 0 ? 0.5 : 0.8,
          });
      });
      const whole = (await g.asUser((tx) => tx.lessons.search({ query: 'queue consumer' }))).items;
      expect(whole).toHaveLength(9);
      const pages = await allPages(2, (page) =>
        g.asUser((tx) => tx.lessons.search({ query: 'queue consumer', ...page })),
      );
      expect(pages.flat().map((l) => l.id)).toEqual(whole.map((l) => l.id));
      for (let i = 1; i < whole.length; i++) {
        const [a, b] = [whole[i - 1]!, whole[i]!];
        expect(
          a.rank > b.rank ||
            (a.rank === b.rank &&
              (a.confidence > b.confidence || (a.confidence === b.confidence && a.id > b.id))),
        ).toBe(true);
      }
    });

    it('finds nothing for stop words only, and refuses bad input', async () => {
      expect((await f.asUser((tx) => tx.lessons.search({ query: 'the and of' }))).items).toEqual([]);
      // Operators are words, never syntax errors.
      expect((await f.asUser((tx) => tx.lessons.search({ query: '!!! & | ( :* "' }))).items).toEqual([]);
      for (const input of [
        { query: '' },
        { query: '   ' },
        { query: 'x'.repeat(501) },
        { query: 'a', category: 'Bad Category' },
        { query: 'a', tags: [] },
        { query: 'a', limit: 0 },
        { query: 'a', cursor: 'bm90IGEgY3Vyc29y' },
        { query: 'a', unknown: true },
      ]) {
        await expect(
          f.asUser((tx) => tx.lessons.search(input as never)),
          JSON.stringify(input),
        ).rejects.toBeInstanceOf(ValidationError);
      }
    });
  });
});
