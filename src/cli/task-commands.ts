import type { Command } from 'commander';
import { z } from 'zod';
import { NotFoundError } from '../errors/index.ts';
import { MAX_PAGE_LIMIT } from '../shared/pagination.ts';
import { parseInput, slugSchema, uuidSchema } from '../shared/validation.ts';
import type { Store } from '../store/store.ts';
import type { TenantTx } from '../store/unit-of-work.ts';
import { TASK_STATUSES, type Task, type TaskStatus, taskStatusSchema } from '../tasks/index.ts';
import type { GraphTask } from '../tasks/task-dependencies.repository.ts';
import { everyPage, print, printable } from './output.ts';

/** What the task commands need from the CLI's shared plumbing. */
export interface TaskCommandContext {
  withStore<T>(command: Command, work: (store: Store) => Promise<T>): Promise<T>;
  json(command: Command): boolean;
}

/**
 * Reads a tenant's data as the tenant's owner (tenant work, under row-level security): the owner
 * is the human every tenant has, and the commands using it only read. `actor` names the command
 * in the audit trail of the owner lookup; `codes` maps each agent's id to its code.
 */
export async function asOwnerOf<T>(
  store: Store,
  tenantSlug: string,
  work: (tx: TenantTx, codes: Map<string, string>) => Promise<T>,
  actor = 'cli:task',
): Promise<T> {
  const tenant = parseInput(slugSchema, tenantSlug, 'tenant slug');
  const { tenantId, ownerId } = await store.asService({ actor }, async (svc) => {
    const found = await svc.tenants.getBySlug(tenant);
    const [owner] = await svc.query<{ user_id: string }>(
      `SELECT user_id FROM memberships WHERE tenant_id = $1 AND role = 'owner' ORDER BY created_at LIMIT 1`,
      [found.id],
    );
    if (!owner) throw new NotFoundError('owner of tenant', tenant);
    return { tenantId: found.id, ownerId: owner.user_id };
  });
  return store.withTenant({ tenantId, actor: { type: 'user', id: ownerId } }, async (tx) => {
    const codes = new Map<string, string>();
    const agents = await tx.query<{ id: string; code: string }>('SELECT id, code FROM agents');
    for (const agent of agents) codes.set(agent.id, agent.code);
    return work(tx, codes);
  });
}

/** The id of the tenant's live project `slug` (NotFoundError when there is none). */
export const projectIdOf = async (tx: TenantTx, slug: string) =>
  (await tx.projects.getBySlug(parseInput(slugSchema, slug, 'project slug'))).id;

function assigneeOf(task: Task, codes: Map<string, string>): string {
  if (task.assigneeAgentId) return codes.get(task.assigneeAgentId) ?? task.assigneeAgentId;
  return task.assigneeUserId ? `user:${task.assigneeUserId.slice(0, 8)}` : '-';
}

function taskLine(task: Task, codes: Map<string, string>): string {
  const github = task.githubIssueNumber ? ` #${task.githubIssueNumber}` : '';
  return `${task.id}  ${task.priority}  ${task.status.padEnd(11)}  ${assigneeOf(task, codes).padEnd(10)}  ${printable(task.title)}${github}`;
}

const statusList = z
  .string()
  .transform((text) => text.split(',').map((s) => s.trim()))
  .pipe(z.array(taskStatusSchema).min(1));

/** Prints the open tasks of a project as a tree: each task, then what it waits for, indented. */
export function formatGraph(tasks: GraphTask[]): string[] {
  const byId = new Map(tasks.map((task) => [task.id, task]));
  const dependedOn = new Set(tasks.flatMap((task) => task.dependsOn));
  const lines: string[] = [];
  const shown = new Set<string>();
  const walk = (task: GraphTask, depth: number) => {
    const label = `${task.priority} ${task.status} ${printable(task.title, 60)} (${task.estimateHours ?? '1'} h)`;
    if (shown.has(task.id)) {
      lines.push(`${'  '.repeat(depth)}- ${label} [above]`);
      return;
    }
    shown.add(task.id);
    lines.push(`${'  '.repeat(depth)}- ${label}  ${task.id}`);
    for (const id of task.dependsOn) {
      const dependency = byId.get(id);
      if (dependency) walk(dependency, depth + 1);
    }
  };
  // Roots: open tasks nothing open waits for, latest in the order first (the goals).
  for (const task of [...tasks].reverse()) if (!dependedOn.has(task.id)) walk(task, 0);
  return lines;
}

/** `agentflow task list|show|graph`: a tenant's tasks, for operators. */
export function addTaskCommands(program: Command, context: TaskCommandContext): void {
  const task = program.command('task').description("a tenant's tasks (read as its owner)");
  task
    .command('list')
    .description("list a project's live tasks, newest first")
    .requiredOption('--tenant <slug>', 'the tenant')
    .requiredOption('--project <slug>', 'the project')
    .option('--status <list>', `only these statuses, comma-separated (${TASK_STATUSES.join(', ')})`)
    .option('--limit <n>', 'at most this many (1-1000)', (v) => Number(v), 100)
    .action(
      async (
        options: { tenant: string; project: string; status?: string; limit: number },
        command: Command,
      ) => {
        const status: TaskStatus[] | undefined =
          options.status === undefined ? undefined : parseInput(statusList, options.status, 'status list');
        await context.withStore(command, (store) =>
          asOwnerOf(store, options.tenant, async (tx, codes) => {
            const projectId = await projectIdOf(tx, options.project);
            const page = await tx.tasks.list({
              projectId,
              limit: options.limit,
              ...(status ? { status } : {}),
            });
            if (context.json(command)) print(JSON.stringify(page.items));
            else for (const item of page.items) print(taskLine(item, codes));
          }),
        );
      },
    );
  task
    .command('show')
    .description('show one task: its fields, what it waits for and what waits for it, its recent activity')
    .requiredOption('--tenant <slug>', 'the tenant')
    .argument('<task-id>', 'the task id')
    .action(async (taskId: string, options: { tenant: string }, command: Command) => {
      const id = parseInput(uuidSchema, taskId, 'task id');
      await context.withStore(command, (store) =>
        asOwnerOf(store, options.tenant, async (tx, codes) => {
          const found = await tx.tasks.get(id);
          const [dependencies, dependents, activity] = [
            await tx.taskDependencies.dependencies(id, { maxDepth: 1, limit: MAX_PAGE_LIMIT }),
            await tx.taskDependencies.dependents(id, { maxDepth: 1, limit: MAX_PAGE_LIMIT }),
            await tx.activityFeed.list({ projectId: found.projectId, taskId: id, limit: 10 }),
          ];
          if (context.json(command)) {
            print(
              JSON.stringify({
                task: found,
                dependencies: dependencies.items,
                dependents: dependents.items,
                activity: activity.items,
              }),
            );
            return;
          }
          print(taskLine(found, codes));
          print(
            `  type ${found.type}, retries ${found.retryCount}/${found.maxRetries}, estimate ${found.estimateHours ?? '-'} h, deadline ${found.deadline?.toISOString() ?? '-'}`,
          );
          if (found.githubRepository)
            print(
              `  github ${found.githubRepository} issue #${found.githubIssueNumber ?? '-'} pr #${found.githubPrNumber ?? '-'}`,
            );
          if (found.blockedReason) print(`  blocked: ${printable(found.blockedReason)}`);
          print('  waits for:');
          for (const d of dependencies.items) print(`    ${taskLine(d, codes)}`);
          print('  waited for by:');
          for (const d of dependents.items) print(`    ${taskLine(d, codes)}`);
          print('  recent activity:');
          for (const entry of activity.items)
            print(`    ${entry.occurredAt.toISOString()}  ${printable(entry.summary)}`);
        }),
      );
    });
  task
    .command('graph')
    .description("print a project's open tasks as a dependency tree, and its critical path")
    .requiredOption('--tenant <slug>', 'the tenant')
    .requiredOption('--project <slug>', 'the project')
    .action(async (options: { tenant: string; project: string }, command: Command) => {
      await context.withStore(command, (store) =>
        asOwnerOf(store, options.tenant, async (tx) => {
          const projectId = await projectIdOf(tx, options.project);
          const order = await everyPage((cursor) =>
            tx.taskDependencies.topologicalOrder({
              projectId,
              limit: MAX_PAGE_LIMIT,
              ...(cursor ? { cursor } : {}),
            }),
          );
          const path = await tx.taskDependencies.criticalPath(projectId);
          if (context.json(command)) {
            print(JSON.stringify({ order, criticalPath: path }));
            return;
          }
          print(`open tasks of ${options.project} (${order.length}), each followed by what it waits for:`);
          for (const line of formatGraph(order)) print(`  ${line}`);
          print(`critical path: ${path.totalHours} h over ${path.tasks.length} task(s)`);
          for (const [i, step] of path.tasks.entries())
            print(
              `  ${i + 1}. ${step.priority} ${step.status} ${printable(step.title, 60)} (${step.estimateHours ?? '1'} h)`,
            );
        }),
      );
    });
}
