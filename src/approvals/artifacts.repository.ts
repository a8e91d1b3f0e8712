import { and, asc, eq, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { NotFoundError } from '../errors/index.ts';
import { cursorTimestamp, decodeCursor, exactTimestamp, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import {
  type CreateArtifactInput,
  createArtifactSchema,
  type ListArtifactsInput,
  listArtifactsSchema,
} from './artifacts.contract.ts';
import { type Artifact, artifacts } from './artifacts.schema.ts';

// Oldest first: (created_at, id) ascending. Artifacts made in one transaction share created_at.
const artifactsKey = z.tuple([cursorTimestamp, uuidSchema]);

/**
 * Artifacts of tasks (and of executions). An artifact never changes once created; its approval
 * status is the database's, moved by approval requests and decisions (migration 16).
 */
export const artifactsRepository = {
  /** Adds an artifact to a live task, created by the unit's actor; a feed entry is written with it. */
  async create(tx: TenantScope, input: CreateArtifactInput): Promise<Artifact> {
    const values = parseInput(createArtifactSchema, input, 'artifact');
    const [row] = await tx.db
      .insert(artifacts)
      .values({
        tenantId: tx.tenantId,
        taskId: values.taskId,
        executionId: values.executionId ?? null,
        type: values.type,
        path: values.path,
        content: values.content ?? null,
        ...(values.contentType === undefined ? {} : { contentType: values.contentType }),
        sizeBytes: values.sizeBytes ?? 0,
        metadata: values.metadata ?? {},
      })
      .returning();
    return row!;
  },

  async get(tx: TenantScope, id: string): Promise<Artifact> {
    const artifactId = parseId(id, 'artifact');
    const [row] = await tx.db
      .select()
      .from(artifacts)
      .where(and(eq(artifacts.tenantId, tx.tenantId), eq(artifacts.id, artifactId)));
    if (!row) throw new NotFoundError('artifact', artifactId);
    return row;
  },

  /** One page of artifacts, oldest first by (created_at, id). */
  async list(tx: TenantScope, input: ListArtifactsInput = {}): Promise<Page<Artifact>> {
    const query = parseInput(listArtifactsSchema, input, 'artifact list');
    const conditions: SQL[] = [eq(artifacts.tenantId, tx.tenantId)];
    if (query.taskId) conditions.push(eq(artifacts.taskId, query.taskId));
    if (query.executionId) conditions.push(eq(artifacts.executionId, query.executionId));
    if (query.approvalStatus) conditions.push(eq(artifacts.approvalStatus, query.approvalStatus));
    if (query.cursor) {
      const [at, id] = decodeCursor('artifacts', query.cursor, artifactsKey);
      const exact = exactTimestamp(artifacts.createdAt, artifacts.id, at, id);
      conditions.push(sql`(${artifacts.createdAt}, ${artifacts.id}) > (${exact}, ${id})`);
    }
    const rows = await tx.db
      .select()
      .from(artifacts)
      .where(and(...conditions))
      .orderBy(asc(artifacts.createdAt), asc(artifacts.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'artifacts', (row) => [row.createdAt.toISOString(), row.id]);
  },
};
