import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { belongsToLiveProject } from '../projects/live-project.ts';
import { cursorTimestamp, decodeCursor, exactTimestamp, type Page, toPage } from '../shared/pagination.ts';
import { parseInput, uuidSchema } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import { type ListActivityInput, listActivitySchema } from './activity-feed.contract.ts';
import { type ActivityEntry, activityFeed } from './activity-feed.schema.ts';

// Newest first: (occurred_at, id) descending. Entries of one transaction share occurred_at.
const feedKey = z.tuple([cursorTimestamp, uuidSchema]);

/**
 * The activity feed of a project: what happened, in words for people, written by the database's
 * triggers (tasks today; comments, approvals… as their tables add theirs). Read-only here: the
 * application role may not insert, change or delete an entry. A deleted project's feed is gone
 * with it.
 */
export const activityFeedRepository = {
  async list(tx: TenantScope, input: ListActivityInput): Promise<Page<ActivityEntry>> {
    const query = parseInput(listActivitySchema, input, 'activity feed list');
    const conditions: SQL[] = [
      eq(activityFeed.tenantId, tx.tenantId),
      eq(activityFeed.projectId, query.projectId),
      belongsToLiveProject(tx.db, activityFeed.tenantId, activityFeed.projectId),
    ];
    if (query.taskId) conditions.push(eq(activityFeed.taskId, query.taskId));
    if (query.publicOnly) conditions.push(eq(activityFeed.isPublic, true));
    if (query.cursor) {
      const [at, id] = decodeCursor('activity feed', query.cursor, feedKey);
      const exact = exactTimestamp(activityFeed.occurredAt, activityFeed.id, at, id);
      conditions.push(sql`(${activityFeed.occurredAt}, ${activityFeed.id}) < (${exact}, ${id})`);
    }
    const rows = await tx.db
      .select()
      .from(activityFeed)
      .where(and(...conditions))
      .orderBy(desc(activityFeed.occurredAt), desc(activityFeed.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'activity feed', (row) => [row.occurredAt.toISOString(), row.id]);
  },
};
