import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AgentType } from '../agents/agents.schema.ts';
import { NotFoundError } from '../errors/index.ts';
import { cursorTimestamp, decodeCursor, exactTimestamp, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import {
  type CreateSelfReviewInput,
  createSelfReviewSchema,
  type LatestSelfReviewInput,
  type ListSelfReviewsInput,
  latestSelfReviewSchema,
  listSelfReviewsSchema,
  type ScoreTrendsInput,
  scoreTrendsSchema,
} from './self-reviews.contract.ts';
import { type SelfReview, selfReviews } from './self-reviews.schema.ts';

/** Average scores of one agent type's reviews in one UTC day or ISO week. */
export interface ScoreTrendPoint {
  agentType: AgentType;
  /** The start of the day or week (Monday), UTC. */
  bucket: Date;
  reviews: number;
  qualityScore: number;
  completenessScore: number;
  correctnessScore: number;
  overallScore: number;
}

// Newest first: (created_at, id) descending.
const listKey = z.tuple([cursorTimestamp, uuidSchema]);

/**
 * Agents' reviews of their own work, one per iteration of a task or execution; written once. The
 * latest review of an execution or a task, and average scores per agent type over time.
 */
export const selfReviewsRepository = {
  /** Records a review (ConflictError `duplicate` when the iteration already has one). */
  async create(tx: TenantScope, input: CreateSelfReviewInput): Promise<SelfReview> {
    const values = parseInput(createSelfReviewSchema, input, 'self review');
    const [row] = await tx.db
      .insert(selfReviews)
      .values({
        tenantId: tx.tenantId,
        taskId: values.taskId,
        executionId: values.executionId ?? null,
        iteration: values.iteration,
        agentType: values.agentType,
        agentId: values.agentId ?? null,
        qualityScore: values.qualityScore,
        completenessScore: values.completenessScore,
        correctnessScore: values.correctnessScore,
        overallScore: values.overallScore,
        gaps: values.gaps ?? [],
        requirements: values.requirements ?? [],
        decision: values.decision,
        reasoning: values.reasoning ?? null,
        durationMs: values.durationMs ?? null,
      })
      .returning();
    return row!;
  },

  async get(tx: TenantScope, id: string): Promise<SelfReview> {
    const reviewId = parseId(id, 'self review');
    const [row] = await tx.db
      .select()
      .from(selfReviews)
      .where(and(eq(selfReviews.tenantId, tx.tenantId), eq(selfReviews.id, reviewId)));
    if (!row) throw new NotFoundError('self review', reviewId);
    return row;
  },

  /**
   * The latest review of an execution (its highest iteration) or of a task (the newest, then the
   * highest iteration); NotFoundError when there is none.
   */
  async latest(tx: TenantScope, input: LatestSelfReviewInput): Promise<SelfReview> {
    const query = parseInput(latestSelfReviewSchema, input, 'latest self review');
    const byExecution = 'executionId' in query;
    const [row] = await tx.db
      .select()
      .from(selfReviews)
      .where(
        and(
          eq(selfReviews.tenantId, tx.tenantId),
          byExecution ? eq(selfReviews.executionId, query.executionId) : eq(selfReviews.taskId, query.taskId),
        ),
      )
      .orderBy(
        ...(byExecution
          ? [desc(selfReviews.iteration), desc(selfReviews.createdAt)]
          : [desc(selfReviews.createdAt), desc(selfReviews.iteration)]),
        desc(selfReviews.id),
      )
      .limit(1);
    if (!row)
      throw new NotFoundError(
        'self review',
        byExecution ? `of execution ${query.executionId}` : `of task ${query.taskId}`,
      );
    return row;
  },

  /** One page of reviews, newest first by (created_at, id). */
  async list(tx: TenantScope, input: ListSelfReviewsInput = {}): Promise<Page<SelfReview>> {
    const query = parseInput(listSelfReviewsSchema, input, 'self review list');
    const conditions: SQL[] = [eq(selfReviews.tenantId, tx.tenantId)];
    if (query.taskId) conditions.push(eq(selfReviews.taskId, query.taskId));
    if (query.executionId) conditions.push(eq(selfReviews.executionId, query.executionId));
    if (query.agentType) conditions.push(eq(selfReviews.agentType, query.agentType));
    if (query.agentId) conditions.push(eq(selfReviews.agentId, query.agentId));
    if (query.cursor) {
      const [at, id] = decodeCursor('self reviews', query.cursor, listKey);
      const exact = exactTimestamp(selfReviews.createdAt, selfReviews.id, at, id);
      conditions.push(sql`(${selfReviews.createdAt}, ${selfReviews.id}) < (${exact}, ${id})`);
    }
    const rows = await tx.db
      .select()
      .from(selfReviews)
      .where(and(...conditions))
      .orderBy(desc(selfReviews.createdAt), desc(selfReviews.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'self reviews', (row) => [row.createdAt.toISOString(), row.id]);
  },

  /**
   * Average scores per agent type and UTC day or ISO week (Monday) over reviews created in
   * [from, to), oldest bucket first, then by agent type. Bounded: at most 366 days or 3660 days of weeks.
   */
  async scoreTrends(tx: TenantScope, input: ScoreTrendsInput): Promise<ScoreTrendPoint[]> {
    const query = parseInput(scoreTrendsSchema, input, 'score trends');
    const bucket = sql`date_trunc(${query.bucket}, ${selfReviews.createdAt}, 'UTC')`;
    const conditions: SQL[] = [
      eq(selfReviews.tenantId, tx.tenantId),
      sql`${selfReviews.createdAt} >= ${query.from.toISOString()}::timestamptz`,
      sql`${selfReviews.createdAt} < ${query.to.toISOString()}::timestamptz`,
    ];
    if (query.agentType) conditions.push(eq(selfReviews.agentType, query.agentType));
    return tx.db
      .select({
        agentType: selfReviews.agentType,
        bucket: sql<Date>`${bucket}`.mapWith((value: string | Date) => new Date(value)),
        reviews: sql<number>`count(*)::int`.mapWith(Number),
        qualityScore: sql<number>`avg(${selfReviews.qualityScore})`.mapWith(Number),
        completenessScore: sql<number>`avg(${selfReviews.completenessScore})`.mapWith(Number),
        correctnessScore: sql<number>`avg(${selfReviews.correctnessScore})`.mapWith(Number),
        overallScore: sql<number>`avg(${selfReviews.overallScore})`.mapWith(Number),
      })
      .from(selfReviews)
      .where(and(...conditions))
      .groupBy(sql`1`, sql`2`)
      .orderBy(sql`2`, sql`1`);
  },
};
