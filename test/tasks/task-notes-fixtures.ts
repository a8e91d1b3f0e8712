import type { Store } from '../../src/index.ts';
import { tasks } from '../../src/schema.ts';
import { createTimelineTenant, type TimelineFixture } from '../events/timeline-fixtures.ts';
import type { EngineHarness } from '../harness/engines.ts';

/** A timeline tenant (projects, agents) whose tasks are made by `task()`. */
export interface NotesFixture extends TimelineFixture {
  /** A new task of `projectId` (a plain insert: the tasks repository is another domain's). */
  task(title?: string): Promise<string>;
}

/** Inserts a task as the tenant's owner, through Drizzle. */
export async function insertTask(
  store: Store,
  context: { tenantId: string; actor: { type: 'user' | 'agent'; id: string } },
  projectId: string,
  title = 'A task',
): Promise<string> {
  return store.withTenant(context, async (tx) => {
    const [row] = await tx.db
      .insert(tasks)
      .values({ tenantId: context.tenantId, projectId, title })
      .returning({ id: tasks.id });
    return row!.id;
  });
}

export async function createNotesTenant(h: EngineHarness): Promise<NotesFixture> {
  const f = await createTimelineTenant(h);
  return { ...f, task: (title) => insertTask(h.store, f.context, f.projectId, title) };
}

/** The activity feed entries of a task, oldest first, as stored (read as the owner). */
export async function feedOf(
  h: EngineHarness,
  taskId: string,
): Promise<
  Array<{
    kind: string;
    summary: string;
    details: Record<string, unknown>;
    is_public: boolean;
    actor_type: string | null;
    actor_id: string | null;
  }>
> {
  return h.asOwner((c) =>
    c.query(
      `SELECT kind, summary, details, is_public, actor_type, actor_id FROM activity_feed
        WHERE task_id = $1 AND kind <> 'task_created' ORDER BY occurred_at, id`,
      [taskId],
    ),
  );
}
