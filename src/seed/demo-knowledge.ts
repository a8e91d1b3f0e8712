import type { AgentType } from '../agents/index.ts';
import type { Store } from '../store/store.ts';
import type { TenantTx } from '../store/unit-of-work.ts';
import type { DemoRun } from './demo-work.ts';

interface DemoStaff {
  code: string;
  type: AgentType;
  project: string | null;
  status?: string;
}

/**
 * One lesson of the demo. `authors`: agent codes in order of preference, the first one the company
 * employs writes it (each company has different staff). `outcomes`: each an application of the
 * lesson followed by its recorded outcome.
 */
interface DemoLesson {
  category: string;
  title: string;
  summary: string;
  details: string;
  tags: string[];
  confidence: number;
  authors: string[];
  outcomes: Array<boolean | number>;
  validated?: boolean;
}

const LESSONS: readonly DemoLesson[] = [
  {
    category: 'error-handling',
    title: 'Retry model calls that time out, with exponential backoff',
    summary:
      'A model call on a large prompt can time out (timeout after 120 s); retry it up to three times, doubling the wait, before failing the task.',
    details:
      'Keep the retry budget per task, not per call, so a stuck provider does not burn the whole budget.',
    tags: ['llm', 'timeouts', 'retries'],
    confidence: 0.9,
    authors: ['bolt', 'mortimer'],
    outcomes: [true, true, false],
  },
  {
    category: 'deployment',
    title: 'Run the database migrations before deploying the new version',
    summary:
      'Deploy in two steps: migrate first with backwards-compatible changes, then roll out the application that uses them.',
    details: 'A column is dropped only in a later release, once no running version reads it.',
    tags: ['deploy', 'migrations', 'postgresql'],
    confidence: 0.95,
    authors: ['atlas', 'cypress'],
    outcomes: [true],
    validated: true,
  },
  {
    category: 'database',
    title: 'Index the tenant column before filtering large tables',
    summary:
      'Queries filtered by tenant scan the whole table without a leading tenant_id index; add one before the table grows.',
    details: 'Composite indexes start with tenant_id, then the column the list is ordered by.',
    tags: ['postgresql', 'performance', 'indexing'],
    confidence: 0.85,
    authors: ['atlas', 'mortimer'],
    outcomes: [],
  },
  {
    category: 'testing',
    title: 'Quarantine a flaky test before fixing it',
    summary:
      'Move a test that fails intermittently out of the blocking suite at once, file a task, then find the race.',
    details: 'Flaky login tests were mostly timing: wait for the session cookie, not for a fixed delay.',
    tags: ['testing', 'flaky', 'ci'],
    confidence: 0.7,
    authors: ['tess', 'patch'],
    outcomes: [false],
  },
  {
    category: 'security',
    title: 'Never log API keys or bearer tokens',
    summary:
      'Redact credentials before a request or an error is logged; a log is read by more people than a vault.',
    details: 'Log the key prefix only, which identifies the key without revealing its secret.',
    tags: ['security', 'logging'],
    confidence: 0.9,
    authors: ['rex', 'patch'],
    outcomes: [],
  },
  {
    category: 'api-design',
    title: 'Page lists with keyset cursors, not offsets',
    summary:
      'Offset pagination skips or repeats rows when rows are inserted between pages; a cursor on the sort key does not.',
    details: 'Encode (created_at, id) in an opaque cursor and compare with a row value.',
    tags: ['api', 'pagination', 'postgresql'],
    confidence: 0.8,
    authors: ['bolt', 'mortimer'],
    outcomes: [1, 0.5],
  },
  {
    category: 'code-review',
    title: 'Keep pull requests small and focused',
    summary:
      'Reviews of more than 400 changed lines find fewer defects; split the work into reviewable steps.',
    details: 'Refactorings go in their own pull request, before the change that needs them.',
    tags: ['git', 'code-review'],
    confidence: 0.65,
    authors: ['rex', 'cypress'],
    outcomes: [],
  },
  {
    category: 'planning',
    title: 'Split tasks estimated above eight hours',
    summary: 'Estimates above a working day are guesses; split the task until each part fits in one day.',
    details: 'The dependency graph then shows what can run in parallel.',
    tags: ['planning', 'estimation'],
    confidence: 0.6,
    authors: ['piper', 'cypress'],
    outcomes: [],
  },
];

const DEPLOY_CHECKLIST = `# Deployment checklist

1. Run the database migrations (backwards compatible only).
2. Deploy the new version to one instance and watch its error rate for ten minutes.
3. Roll out to every instance.
`;

/**
 * Each company's knowledge, as its staff would build it: lessons written by the agents, some applied
 * with their outcomes recorded and one validated by the owner; a self-review of every model run;
 * patterns seen several times; a wiki proposed by an organization agent, approved by the owner, with
 * one proposal still waiting; and evidence behind the task waiting for review, one piece verified.
 * Each actor acts as itself.
 */
export async function seedKnowledge(
  store: Store,
  tenantId: string,
  ownerId: string,
  agents: readonly DemoStaff[],
  projectIds: Map<string, string>,
  agentIds: Map<string, string>,
  runs: readonly DemoRun[],
): Promise<void> {
  const asOwner = <T>(work: (tx: TenantTx) => Promise<T>) =>
    store.withTenant({ tenantId, actor: { type: 'user', id: ownerId } }, work);
  const asAgent = <T>(code: string, work: (tx: TenantTx) => Promise<T>) =>
    store.withTenant({ tenantId, actor: { type: 'agent', id: agentIds.get(code)! } }, work);
  const staff = agents.filter((a) => a.status !== 'inactive');
  const typeOf = (code: string) => staff.find((a) => a.code === code)!.type;
  const worker = runs[0]?.agent ?? staff[0]!.code;

  for (const spec of LESSONS) {
    const author = spec.authors.find((code) => staff.some((a) => a.code === code)) ?? staff[0]!.code;
    const lesson = await asAgent(author, (tx) =>
      tx.lessons.create({
        category: spec.category,
        title: spec.title,
        summary: spec.summary,
        details: spec.details,
        tags: spec.tags,
        sourceAgentType: typeOf(author),
        sourceAgentId: agentIds.get(author)!,
        confidence: spec.confidence,
      }),
    );
    if (spec.outcomes.length > 0)
      await asAgent(worker, async (tx) => {
        for (const outcome of spec.outcomes) {
          await tx.lessons.applied(lesson.id);
          await tx.lessons.recordOutcome(lesson.id, outcome);
        }
      });
    if (spec.validated) await asOwner((tx) => tx.lessons.validate(lesson.id, { validated: true }));
  }

  // A review of each run by the agent that made it; the run that succeeded after a timeout took two
  // iterations (the first sent back).
  for (const run of runs) {
    const iterations: Array<'iterate' | 'accept'> = !run.succeeded
      ? ['iterate']
      : run.inReview
        ? ['iterate', 'accept']
        : ['accept'];
    await asAgent(run.agent, async (tx) => {
      for (const [index, decision] of iterations.entries()) {
        const accepted = decision === 'accept';
        await tx.selfReviews.create({
          taskId: run.taskId,
          executionId: run.executionId,
          iteration: index + 1,
          agentType: typeOf(run.agent),
          agentId: agentIds.get(run.agent)!,
          qualityScore: accepted ? 0.86 : 0.55,
          completenessScore: accepted ? 0.9 : run.succeeded ? 0.6 : 0.2,
          correctnessScore: accepted ? 0.88 : 0.5,
          overallScore: accepted ? 0.88 : run.succeeded ? 0.55 : 0.4,
          gaps: accepted
            ? []
            : [run.succeeded ? 'error responses are not tested' : 'the model call timed out before any code'],
          requirements: [{ text: 'endpoints covered by tests', met: accepted }],
          decision,
          reasoning: accepted ? 'Every requirement is met.' : 'Another iteration is needed.',
          durationMs: 4_200 + 900 * index,
        });
      }
    });
  }

  // Seen several times: each sighting is recorded again (the frequency counts them).
  const timedOut = runs.find((run) => !run.succeeded);
  const sightings = [
    ...(timedOut
      ? Array.from({ length: 3 }, () => ({
          agent: timedOut.agent,
          patternType: 'recurring_error',
          agentType: typeOf(timedOut.agent),
          key: 'model call timed out',
          description: 'Model calls on large prompts time out after 120 s.',
          example: { executionId: timedOut.executionId },
        }))
      : []),
    // Across agent types (none named): every run that succeeded.
    ...runs
      .filter((run) => run.succeeded)
      .map((run) => ({
        agent: run.agent,
        patternType: 'success',
        agentType: null,
        key: 'tests written with the code',
        description: 'Runs that wrote their tests with the code were accepted.',
        example: { executionId: run.executionId },
      })),
  ];
  for (const { agent, ...sighting } of sightings) await asAgent(agent, (tx) => tx.patterns.record(sighting));

  // The wiki: proposed by an organization agent (the architect where there is one), decided by the owner.
  const editor = (staff.find((a) => a.project === null && a.type !== 'orchestrator') ??
    staff.find((a) => a.project === null))!.code;
  const firstProject = [...projectIds.keys()][0]!;
  const approve = (versionId: string) => asOwner((tx) => tx.wiki.approve(versionId));
  const checklist = await asAgent(editor, (tx) =>
    tx.wiki.propose({
      title: 'Deployment checklist',
      slug: 'deployment-checklist',
      content: DEPLOY_CHECKLIST,
      tags: ['deploy', 'release'],
      submit: true,
    }),
  );
  await approve(checklist.id);
  const revised = await asAgent(editor, (tx) =>
    tx.wiki.edit(checklist.entryId, {
      content: `${DEPLOY_CHECKLIST}4. If the error rate rises, roll back and write a lesson.\n`,
      submit: true,
    }),
  );
  await approve(revised.id);
  const conventions = await asAgent(editor, (tx) =>
    tx.wiki.propose({
      title: 'Coding conventions',
      slug: 'coding-conventions',
      content:
        '# Coding conventions\n\nTypeScript strict mode; every migration has a down step; tests before deploy.\n',
      tags: ['conventions'],
      projectId: projectIds.get(firstProject)!,
      submit: true,
    }),
  );
  await approve(conventions.id);
  // Waiting for a human: readers and searches do not see it yet.
  await asAgent(editor, (tx) =>
    tx.wiki.propose({
      title: 'Rollback runbook',
      slug: 'rollback-runbook',
      content:
        '# Rollback runbook\n\nWhen a deploy fails: redeploy the previous version, then roll back its migration.\n',
      tags: ['deploy', 'incident'],
      submit: true,
    }),
  );

  // Evidence behind the first task waiting for review, written by the agent that ran it.
  const reviewed = runs.find((run) => run.inReview && run.succeeded);
  if (!reviewed) return;
  const projectId = projectIds.get(reviewed.project)!;
  const testRun = await asAgent(reviewed.agent, async (tx) => {
    const items = [
      await tx.evidence.create({
        projectId,
        taskId: reviewed.taskId,
        sourceType: 'test_result',
        title: 'CI run: 48 integration tests pass',
        content: '48 passed, 0 failed, 0 skipped in 93 s',
        reference: 'https://ci.example/runs/1042',
        credibility: 0.95,
        tags: ['ci', 'tests'],
      }),
      await tx.evidence.create({
        projectId,
        taskId: reviewed.taskId,
        sourceType: 'code_analysis',
        title: 'Static analysis of src/routes.ts: no new warnings',
        content: 'biome check: 0 errors, 0 warnings',
        credibility: 0.8,
        tags: ['lint'],
      }),
      await tx.evidence.create({
        projectId,
        taskId: reviewed.taskId,
        sourceType: 'ai_output',
        title: 'Model review: the health endpoint may expose the build version',
        content: 'The response of /health could include the build version if the framework adds it.',
        credibility: 0.35,
        tags: ['security'],
      }),
    ];
    await tx.evidence.link(items[0]!.id, { otherId: items[1]!.id, kind: 'related' });
    await tx.evidence.link(items[2]!.id, {
      otherId: items[1]!.id,
      kind: 'contradicts',
      note: 'The analysis found nothing exposed.',
    });
    return items[0]!;
  });
  // The owner checked the CI run.
  await asOwner((tx) => tx.evidence.verify(testRun.id));
}
