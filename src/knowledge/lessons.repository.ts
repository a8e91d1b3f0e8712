import {
  and,
  arrayContains,
  arrayOverlaps,
  desc,
  eq,
  getTableColumns,
  isNull,
  type SQL,
  sql,
} from 'drizzle-orm';
import { z } from 'zod';
import { NotFoundError } from '../errors/index.ts';
import { compileStatement } from '../shared/compiled-statement.ts';
import { cursorTimestamp, decodeCursor, exactTimestamp, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import {
  type CreateLessonInput,
  createLessonSchema,
  type LessonOutcome,
  type ListLessonsInput,
  lessonOutcomeSchema,
  listLessonsSchema,
  type SearchLessonsInput,
  searchLessonsSchema,
  type UpdateLessonInput,
  updateLessonSchema,
  type ValidateLessonInput,
  validateLessonSchema,
} from './lessons.contract.ts';
import { type Lesson, lessons } from './lessons.schema.ts';

/** A lesson found by a search, with its rank (ts_rank_cd: title weighs most, then summary, details). */
export type RankedLesson = Lesson & { rank: number };

// Every column but the search vector, which no caller needs.
const { searchVector: _searchVector, ...lessonColumns } = getTableColumns(lessons);

const live = (id: SQL | string) => and(eq(lessons.id, id), isNull(lessons.deletedAt));

const selectById = compileStatement(lessonColumns, ['id'], (db, p) =>
  db
    .select(lessonColumns)
    .from(lessons)
    .where(live(p.id as unknown as SQL)),
);
// Both counters move in one UPDATE … SET x = f(x): concurrent calls queue on the row lock and each
// applies to the version the one before it committed (READ COMMITTED re-reads the row), so none is lost.
const incrementApplied = compileStatement(lessonColumns, ['id'], (db, p) =>
  db
    .update(lessons)
    .set({ applicationCount: sql`${lessons.applicationCount} + 1` })
    .where(live(p.id as unknown as SQL))
    .returning(lessonColumns),
);
// Seed 000's weighted moving average: the first outcome sets the rate, each later one moves it by
// a fifth. In float8, the same operations in the same order as a serial run.
const moveSuccessRate = compileStatement(lessonColumns, ['id', 'outcome'], (db, p) =>
  db
    .update(lessons)
    .set({
      // Literals, as in SUCCESS_RATE_KEEP / SUCCESS_RATE_NEW (0.2 is not 1 - 0.8 in float8).
      successRate: sql`CASE WHEN ${lessons.successRate} IS NULL THEN ${p.outcome}::float8
        ELSE 0.8::float8 * ${lessons.successRate} + 0.2::float8 * ${p.outcome}::float8 END`,
      outcomeCount: sql`${lessons.outcomeCount} + 1`,
    })
    .where(live(p.id as unknown as SQL))
    .returning(lessonColumns),
);

// Newest first: (created_at, id) descending.
const listKey = z.tuple([cursorTimestamp, uuidSchema]);
// Search pages: (rank, confidence, id) descending.
const searchKey = z.tuple([z.number(), z.number(), uuidSchema]);

function notFound(id: string): NotFoundError {
  return new NotFoundError('lesson', id);
}

/**
 * Lessons agents learned: ranked full-text search, a count of applications and a success rate moved
 * by outcomes, validation by a human member (the database's rule). Deleted softly, then gone to readers.
 */
export const lessonsRepository = {
  async create(tx: TenantScope, input: CreateLessonInput): Promise<Lesson> {
    const values = parseInput(createLessonSchema, input, 'lesson');
    const [row] = await tx.db
      .insert(lessons)
      .values({
        tenantId: tx.tenantId,
        category: values.category,
        title: values.title,
        summary: values.summary,
        details: values.details ?? '',
        tags: values.tags ?? [],
        sourceAgentType: values.sourceAgentType,
        sourceAgentId: values.sourceAgentId ?? null,
        taskId: values.taskId ?? null,
        ...(values.confidence === undefined ? {} : { confidence: values.confidence }),
        humanValidated: values.humanValidated ?? false,
      })
      .returning(lessonColumns);
    return row!;
  },

  async get(tx: TenantScope, id: string): Promise<Lesson> {
    const lessonId = parseId(id, 'lesson');
    const [row] = await selectById.run(tx, { id: lessonId });
    if (!row) throw notFound(lessonId);
    return row;
  },

  /** Changes the lesson's content (category, title, summary, details, tags, confidence). */
  async update(tx: TenantScope, id: string, input: UpdateLessonInput): Promise<Lesson> {
    const lessonId = parseId(id, 'lesson');
    const values = parseInput(updateLessonSchema, input, 'lesson update');
    if (Object.keys(values).length === 0) return lessonsRepository.get(tx, lessonId);
    const [row] = await tx.db
      .update(lessons)
      .set(values)
      .where(and(eq(lessons.tenantId, tx.tenantId), live(lessonId)))
      .returning(lessonColumns);
    if (!row) throw notFound(lessonId);
    return row;
  },

  /**
   * Sets or clears the human validation. Only a human member of the tenant may (ForbiddenError
   * `permission_denied` otherwise, from the database); it stamps who and when.
   */
  async validate(tx: TenantScope, id: string, input: ValidateLessonInput): Promise<Lesson> {
    const lessonId = parseId(id, 'lesson');
    const { validated } = parseInput(validateLessonSchema, input, 'lesson validation');
    const [row] = await tx.db
      .update(lessons)
      .set({ humanValidated: validated })
      .where(and(eq(lessons.tenantId, tx.tenantId), live(lessonId)))
      .returning(lessonColumns);
    if (!row) throw notFound(lessonId);
    return row;
  },

  /** Counts one more application of the lesson (atomic: concurrent calls all count). */
  async applied(tx: TenantScope, id: string): Promise<Lesson> {
    const lessonId = parseId(id, 'lesson');
    const [row] = await incrementApplied.run(tx, { id: lessonId });
    if (!row) throw notFound(lessonId);
    return row;
  },

  /**
   * Records the outcome of an application: true (1) / false (0) or a score from 0 to 1. The first
   * sets the success rate; each later one makes it 0.8 × the rate + 0.2 × the outcome (atomic).
   */
  async recordOutcome(tx: TenantScope, id: string, outcome: LessonOutcome): Promise<Lesson> {
    const lessonId = parseId(id, 'lesson');
    const value = parseInput(lessonOutcomeSchema, outcome, 'lesson outcome');
    const score = typeof value === 'boolean' ? (value ? 1 : 0) : value;
    const [row] = await moveSuccessRate.run(tx, { id: lessonId, outcome: score });
    if (!row) throw notFound(lessonId);
    return row;
  },

  /** Deletes the lesson softly: gone to every reader and search, frozen. */
  async delete(tx: TenantScope, id: string): Promise<void> {
    const lessonId = parseId(id, 'lesson');
    const [row] = await tx.db
      .update(lessons)
      .set({ deletedAt: sql`now()` })
      .where(and(eq(lessons.tenantId, tx.tenantId), live(lessonId)))
      .returning({ id: lessons.id });
    if (!row) throw notFound(lessonId);
  },

  /** One page of live lessons, newest first by (created_at, id). */
  async list(tx: TenantScope, input: ListLessonsInput = {}): Promise<Page<Lesson>> {
    const query = parseInput(listLessonsSchema, input, 'lesson list');
    const conditions: SQL[] = [eq(lessons.tenantId, tx.tenantId), isNull(lessons.deletedAt)];
    if (query.category) conditions.push(eq(lessons.category, query.category));
    if (query.sourceAgentType) conditions.push(eq(lessons.sourceAgentType, query.sourceAgentType));
    if (query.humanValidated !== undefined) conditions.push(eq(lessons.humanValidated, query.humanValidated));
    if (query.tags)
      conditions.push(
        query.tagMatch === 'all'
          ? arrayContains(lessons.tags, query.tags)
          : arrayOverlaps(lessons.tags, query.tags),
      );
    if (query.cursor) {
      const [at, id] = decodeCursor('lessons', query.cursor, listKey);
      const exact = exactTimestamp(lessons.createdAt, lessons.id, at, id);
      conditions.push(sql`(${lessons.createdAt}, ${lessons.id}) < (${exact}, ${id})`);
    }
    const rows = await tx.db
      .select(lessonColumns)
      .from(lessons)
      .where(and(...conditions))
      .orderBy(desc(lessons.createdAt), desc(lessons.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'lessons', (row) => [row.createdAt.toISOString(), row.id]);
  },

  /**
   * Ranked full-text search (websearch syntax) over title (weight A), summary (B) and details (C),
   * filtered by category and by any / all of a set of tags; ordered by rank, then confidence, then
   * id, all descending. A query of stop words only finds nothing.
   */
  async search(tx: TenantScope, input: SearchLessonsInput): Promise<Page<RankedLesson>> {
    const query = parseInput(searchLessonsSchema, input, 'lesson search');
    const [afterRank, afterConfidence, afterId] = query.cursor
      ? decodeCursor('lesson search', query.cursor, searchKey)
      : [null, null, null];
    // agentflow.search_lessons (migration 18) finds the page through the GIN index, confined to
    // this unit's tenant; the lessons themselves are then read by key under row-level security.
    const found = sql`agentflow.search_lessons(${query.query}, ${query.category ?? null}::text,
      ${query.tags ? sql.param(query.tags, lessons.tags) : null}::text[], ${query.tagMatch === 'all'}, ${afterRank}::float8,
      ${afterConfidence}::float8, ${afterId}::uuid, ${query.limit + 1}::int) AS found`;
    const rows = await tx.db
      .select({ ...lessonColumns, rank: sql<number>`found.rank`.mapWith(Number) })
      .from(lessons)
      .innerJoin(found, sql`${lessons.tenantId} = ${tx.tenantId} AND ${lessons.id} = found.id`)
      .orderBy(sql`found.rank DESC`, desc(lessons.confidence), desc(lessons.id));
    return toPage(rows, query.limit, 'lesson search', (row) => [row.rank, row.confidence, row.id]);
  },
};
