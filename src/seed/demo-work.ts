import type { Store } from '../store/store.ts';
import type { TenantTx } from '../store/unit-of-work.ts';
import type { TaskPriority, TaskType } from '../tasks/index.ts';

/** One task of a project's demo backlog; `after` names the tasks (by key) it waits for. */
interface DemoTask {
  key: string;
  title: string;
  type: TaskType;
  priority: TaskPriority;
  estimateHours: string;
  after: string[];
  /** A GitHub issue number, for tasks imported from the project's repository. */
  issue?: number;
}

/** The backlog every demo project starts with: a small release plan with its dependencies. */
const BACKLOG: readonly DemoTask[] = [
  {
    key: 'model',
    title: 'Design the data model',
    type: 'feature',
    priority: 'P1',
    estimateHours: '6',
    after: [],
  },
  {
    key: 'api',
    title: 'Implement the API endpoints',
    type: 'feature',
    priority: 'P1',
    estimateHours: '12',
    after: ['model'],
  },
  {
    key: 'ui',
    title: 'Build the dashboard screens',
    type: 'feature',
    priority: 'P2',
    estimateHours: '10',
    after: ['model'],
  },
  {
    key: 'tests',
    title: 'Write the integration tests',
    type: 'test',
    priority: 'P2',
    estimateHours: '5',
    after: ['api'],
  },
  {
    key: 'ci',
    title: 'Set up the CI pipeline',
    type: 'config',
    priority: 'P2',
    estimateHours: '3',
    after: [],
  },
  {
    key: 'release',
    title: 'Release v1.0',
    type: 'chore',
    priority: 'P0',
    estimateHours: '2',
    after: ['tests', 'ui', 'ci'],
  },
  {
    key: 'flaky',
    title: 'Fix the flaky login test',
    type: 'bug',
    priority: 'P3',
    estimateHours: '1.5',
    after: [],
    issue: 11,
  },
  {
    key: 'docs',
    title: 'Document the setup steps',
    type: 'docs',
    priority: 'P3',
    estimateHours: '1',
    after: [],
    issue: 12,
  },
];

/** What a demo model run costs: exact decimal text, as the database keeps it. */
const RUN_COSTS = ['0.184250', '0.042180', '0.731900', '0.009875'];

interface DemoProject {
  slug: string;
  name: string;
  repoUrl: string | null;
}

interface DemoStaff {
  code: string;
  project: string | null;
  status?: string;
}

/** A model run the demo made: which task, which agent, and whether it succeeded. */
export interface DemoRun {
  project: string;
  taskId: string;
  executionId: string;
  agent: string;
  succeeded: boolean;
  /** Whether the task was left waiting for a human's approval (in review). */
  inReview: boolean;
}

/**
 * A project's work, as its team would leave it: a backlog with dependencies (GitHub issues imported
 * where the project has a repository), the first task claimed from the queue, run and completed,
 * the next one run, reviewed and waiting for a human's approval with its artifact, comments and a
 * checkpoint. Each agent acts as itself; the owner plans. Returns the model runs, in the order made.
 */
export async function seedWork(
  store: Store,
  tenantId: string,
  ownerId: string,
  projects: readonly DemoProject[],
  agents: readonly DemoStaff[],
  projectIds: Map<string, string>,
  agentIds: Map<string, string>,
): Promise<DemoRun[]> {
  const runs: DemoRun[] = [];
  const asOwner = <T>(work: (tx: TenantTx) => Promise<T>) =>
    store.withTenant({ tenantId, actor: { type: 'user', id: ownerId } }, work);
  const asAgent = <T>(code: string, work: (tx: TenantTx) => Promise<T>) =>
    store.withTenant({ tenantId, actor: { type: 'agent', id: agentIds.get(code)! } }, work);
  for (const project of projects) {
    const projectId = projectIds.get(project.slug)!;
    const team = agents.filter((a) => a.project === project.slug && a.status !== 'inactive');
    const repository = project.repoUrl?.replace('https://github.com/', '') ?? null;
    const ids = await asOwner(async (tx) => {
      const created = new Map<string, string>();
      for (const spec of BACKLOG) {
        const fields = {
          title: `${spec.title} (${project.name})`,
          type: spec.type,
          priority: spec.priority,
          estimateHours: spec.estimateHours,
        };
        if (spec.issue && repository) {
          const { task } = await tx.tasks.importGithubIssue({
            projectId,
            repository,
            issueId: 9_000_000 + spec.issue,
            issueNumber: spec.issue,
            title: fields.title,
            body: `Imported from ${repository}#${spec.issue}.`,
            labels: spec.type === 'bug' ? ['bug'] : ['documentation'],
            priority: spec.priority,
          });
          await tx.tasks.update(task.id, { estimateHours: spec.estimateHours });
          created.set(spec.key, task.id);
        } else {
          created.set(spec.key, (await tx.tasks.create({ projectId, ...fields })).id);
        }
      }
      for (const spec of BACKLOG)
        for (const before of spec.after)
          await tx.taskDependencies.add({
            taskId: created.get(spec.key)!,
            dependsOnId: created.get(before)!,
          });
      return created;
    });
    const [first, second] = team;
    if (!first) continue;
    // The first agent takes the most urgent ready task from the queue, runs it and completes it.
    await asAgent(first.code, async (tx) => {
      const claimed = await tx.taskQueue.claim(agentIds.get(first.code)!, { projectId });
      if (!claimed) return;
      const run = await tx.taskExecutions.create({
        taskId: claimed.id,
        status: 'running',
        input: { prompt: claimed.title },
        inputTokens: 18_200,
      });
      await tx.taskExecutions.finish(run.id, {
        status: 'success',
        output: { summary: 'Schema and migrations drafted' },
        outputTokens: 4_100,
        cachedTokens: 6_000,
        costUsd: RUN_COSTS[0]!,
      });
      runs.push({
        project: project.slug,
        taskId: claimed.id,
        executionId: run.id,
        agent: first.code,
        succeeded: true,
        inReview: false,
      });
      await tx.taskCheckpoints.create(claimed.id, { state: { step: 'done', files: 4 }, label: 'final' });
      await tx.tasks.transition(claimed.id, { status: 'completed', result: { pullRequest: 'merged' } });
    });
    // The next one (by the second agent, else the first) is run twice (a timeout, then a success),
    // then put up for review: an approval waits for a human.
    const worker = second ?? first;
    await asAgent(worker.code, async (tx) => {
      const claimed = await tx.taskQueue.claim(agentIds.get(worker.code)!, { projectId });
      if (!claimed) return;
      const timedOut = await tx.taskExecutions.create({
        taskId: claimed.id,
        status: 'running',
        inputTokens: 9_000,
      });
      await tx.taskExecutions.finish(timedOut.id, {
        status: 'timeout',
        error: { message: 'model call timed out after 120 s' },
        costUsd: RUN_COSTS[3]!,
      });
      const retried = { project: project.slug, taskId: claimed.id, agent: worker.code, inReview: true };
      runs.push({ ...retried, executionId: timedOut.id, succeeded: false });
      const run = await tx.taskExecutions.create({
        taskId: claimed.id,
        status: 'running',
        inputTokens: 22_400,
      });
      await tx.taskCheckpoints.create(claimed.id, {
        state: { step: 'implementing', done: 3, of: 5 },
        label: 'halfway',
      });
      await tx.taskExecutions.finish(run.id, {
        status: 'success',
        output: { summary: 'Endpoints implemented with tests' },
        outputTokens: 7_900,
        reasoningTokens: 2_300,
        costUsd: RUN_COSTS[2]!,
      });
      runs.push({ ...retried, executionId: run.id, succeeded: true });
      const artifact = await tx.artifacts.create({
        taskId: claimed.id,
        executionId: run.id,
        type: 'diff',
        path: 'src/routes.ts',
        content: '+ app.get("/health", () => ({ ok: true }));\n',
      });
      await tx.taskComments.create(claimed.id, {
        body: 'Implementation done; the health endpoint needs a human review before release.',
        isAiGenerated: true,
        aiMetadata: { model: 'gpt-5-mini', confidence: 0.82 },
      });
      await tx.approvals.request({
        taskId: claimed.id,
        title: `Review: ${claimed.title}`,
        description: 'Please review the diff and approve the release of this change.',
        artifactIds: [artifact.id],
        resumeState: { step: 'awaiting_review', branch: `${worker.code}/task-${claimed.id.slice(0, 8)}` },
      });
    });
    // A third ready task is claimed and left in progress.
    await asAgent(first.code, (tx) => tx.taskQueue.claim(agentIds.get(first.code)!, { projectId }));
    await asOwner((tx) =>
      tx.taskComments.create(ids.get('release')!, {
        body: 'Target: end of the month. Keep the scope small.',
      }),
    );
  }
  return runs;
}
