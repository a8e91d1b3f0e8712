import { and, desc, eq, getTableColumns, isNull, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors/index.ts';
import { eventsRepository, pageOfEvents } from '../events/events.repository.ts';
import { type Event, events } from '../events/events.schema.ts';
import { compileStatement } from '../shared/compiled-statement.ts';
import { cursorTimestamp, decodeCursor, exactTimestamp, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import { type Task, tasks } from '../tasks/tasks.schema.ts';
import {
  type ListWorkSessionsInput,
  type LogWorkSessionInput,
  listWorkSessionsSchema,
  logWorkSessionSchema,
  type StartWorkSessionInput,
  startWorkSessionSchema,
} from './work-sessions.contract.ts';
import { type WorkSession, workSessions } from './work-sessions.schema.ts';

// Newest first: (started_at, id) descending. Sessions started in one transaction share started_at.
const sessionsKey = z.tuple([cursorTimestamp, uuidSchema]);

const columns = getTableColumns(workSessions);
const selectById = compileStatement(columns, ['id'], (db, p) =>
  db.select().from(workSessions).where(eq(workSessions.id, p.id)),
);
// The status, the stop time and the duration are the database's (migration 7's trigger).
const stopById = compileStatement(columns, ['id'], (db, p) =>
  db.update(workSessions).set({ status: 'stopped' }).where(eq(workSessions.id, p.id)).returning(),
);
const addTask = compileStatement(columns, ['id', 'taskId'], (db, p) =>
  db
    .update(workSessions)
    .set({ tasksWorkedOn: sql`array_append(${workSessions.tasksWorkedOn}, ${p.taskId}::uuid)` })
    .where(and(eq(workSessions.id, p.id), sql`NOT (${p.taskId}::uuid = ANY (${workSessions.tasksWorkedOn}))`))
    .returning(),
);

function stopped(sessionId: string): ConflictError {
  return new ConflictError('session_stopped', `work session ${sessionId} is stopped`, {
    entity: 'work session',
  });
}

/** What changed for an agent since its previous session stopped, as a session start returns it. */
export interface SessionUpdates {
  /** When the previous session stopped; null for the agent's first session. */
  since: Date | null;
  /** Events that mention the agent since then, newest first; `nextCursor` pages on with events.list. */
  mentions: Page<Event>;
  /**
   * Tasks assigned to the agent since then (a task_assigned event mentioning it), still live and
   * still its own, most recently changed first; at most `updatesLimit` of them.
   */
  tasks: Task[];
}

export interface StartedWorkSession {
  session: WorkSession;
  updates: SessionUpdates;
}

/**
 * Work sessions of agents. At most one open session per agent (a unique index); a stopped session
 * is frozen; the database writes session_start and session_stop events in the same transaction.
 */
export const workSessionsRepository = {
  /** Starts a session (ConflictError `session_open` when the agent has one open) and pulls its updates. */
  async start(tx: TenantScope, input: StartWorkSessionInput): Promise<StartedWorkSession> {
    const values = parseInput(startWorkSessionSchema, input, 'work session');
    const [session] = await tx.db
      .insert(workSessions)
      .values({
        tenantId: tx.tenantId,
        agentId: values.agentId,
        projectId: values.projectId,
        metadata: values.metadata ?? {},
      })
      .returning();
    // The newest stopped session is the previous one: only one is ever open. Its stop time comes
    // back also as ISO text, to the microsecond a Date cannot hold, for the comparison below.
    const [previous] = await tx.db
      .select({
        stoppedAt: workSessions.stoppedAt,
        exactStop: sql<string>`to_jsonb(${workSessions.stoppedAt}) #>> '{}'`,
      })
      .from(workSessions)
      .where(
        and(
          eq(workSessions.tenantId, tx.tenantId),
          eq(workSessions.agentId, values.agentId),
          eq(workSessions.status, 'stopped'),
        ),
      )
      .orderBy(desc(workSessions.startedAt))
      .limit(1);
    const mentions = await pageOfEvents(
      tx,
      {
        tenantId: tx.tenantId,
        conditions: [eq(events.tenantId, tx.tenantId)],
        mention: values.agentId,
        // Strictly after the stop: what the previous session's own last transaction wrote is not news.
        ...(previous ? { from: sql`${previous.exactStop}::timestamptz + interval '1 microsecond'` } : {}),
      },
      values.updatesLimit,
    );
    // The same tasks migration 13's session_start event counts.
    const since = previous ? sql`${previous.exactStop}::timestamptz` : sql`'-infinity'::timestamptz`;
    const assigned = await tx.db
      .select()
      .from(tasks)
      .where(
        and(
          eq(tasks.tenantId, tx.tenantId),
          eq(tasks.assigneeAgentId, values.agentId),
          isNull(tasks.deletedAt),
          sql`EXISTS (SELECT 1 FROM event_mentions m
                        JOIN events e ON e.tenant_id = m.tenant_id AND e.occurred_at = m.occurred_at AND e.id = m.event_id
                       WHERE m.tenant_id = ${tx.tenantId} AND m.agent_id = ${values.agentId}
                         AND m.occurred_at > ${since}
                         AND e.type = 'task_assigned' AND e.payload ->> 'taskId' = ${tasks.id}::text)`,
        ),
      )
      .orderBy(desc(tasks.updatedAt), desc(tasks.id))
      .limit(values.updatesLimit);
    return {
      session: session!,
      updates: { since: previous?.stoppedAt ?? null, mentions, tasks: assigned },
    };
  },

  /** Writes a session_log event in an open session, by its agent; the first one moves it to `logging`. */
  async log(tx: TenantScope, id: string, input: LogWorkSessionInput): Promise<Event> {
    const sessionId = parseId(id, 'work session');
    const { mentions, ...payload } = parseInput(logWorkSessionSchema, input, 'session log');
    // Read first for a clear NotFoundError / ConflictError; the database checks again (a stop
    // racing this log is refused by its trigger, under a share lock on the session).
    const session = await workSessionsRepository.get(tx, sessionId);
    if (session.status === 'stopped') throw stopped(sessionId);
    return eventsRepository.append(tx, {
      type: 'session_log',
      sessionId,
      projectId: session.projectId,
      authorId: session.agentId,
      payload,
      ...(mentions ? { mentions } : {}),
    });
  },

  /** Records that the session worked on a task; a task already recorded is not added again. */
  async recordTask(tx: TenantScope, id: string, taskId: string): Promise<WorkSession> {
    const sessionId = parseId(id, 'work session');
    const task = parseId(taskId, 'task');
    const [row] = await addTask.run(tx, { id: sessionId, taskId: task });
    if (row) return row;
    const current = await workSessionsRepository.get(tx, sessionId);
    if (current.status === 'stopped') throw stopped(sessionId);
    return current;
  },

  /** Stops an open session; the database stamps the stop and computes the duration. */
  async stop(tx: TenantScope, id: string): Promise<WorkSession> {
    const sessionId = parseId(id, 'work session');
    const [row] = await stopById.run(tx, { id: sessionId });
    if (!row) throw new NotFoundError('work session', sessionId);
    return row;
  },

  async get(tx: TenantScope, id: string): Promise<WorkSession> {
    const sessionId = parseId(id, 'work session');
    const [row] = await selectById.run(tx, { id: sessionId });
    if (!row) throw new NotFoundError('work session', sessionId);
    return row;
  },

  /** One page of sessions, newest first by (started_at, id). */
  async list(tx: TenantScope, input: ListWorkSessionsInput = {}): Promise<Page<WorkSession>> {
    const query = parseInput(listWorkSessionsSchema, input, 'work session list');
    const conditions: SQL[] = [eq(workSessions.tenantId, tx.tenantId)];
    if (query.agentId) conditions.push(eq(workSessions.agentId, query.agentId));
    if (query.projectId) conditions.push(eq(workSessions.projectId, query.projectId));
    if (query.status) conditions.push(eq(workSessions.status, query.status));
    if (query.cursor) {
      const [at, id] = decodeCursor('work sessions', query.cursor, sessionsKey);
      const exact = exactTimestamp(workSessions.startedAt, workSessions.id, at, id);
      conditions.push(sql`(${workSessions.startedAt}, ${workSessions.id}) < (${exact}, ${id})`);
    }
    const rows = await tx.db
      .select()
      .from(workSessions)
      .where(and(...conditions))
      .orderBy(desc(workSessions.startedAt), desc(workSessions.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'work sessions', (row) => [row.startedAt.toISOString(), row.id]);
  },
};
