import { and, arrayContains, asc, desc, eq, or, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { ConflictError, NotFoundError, ValidationError } from '../errors/index.ts';
import { type TaskExecution, taskExecutions } from '../executions/task-executions.schema.ts';
import { cursorTimestamp, decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import {
  type CiteEvidenceInput,
  type CreateEvidenceInput,
  citeEvidenceSchema,
  createEvidenceSchema,
  type LinkEvidenceInput,
  type ListCitationsInput,
  type ListEvidenceInput,
  linkEvidenceSchema,
  listCitationsSchema,
  listEvidenceSchema,
  type UpdateEvidenceInput,
  updateEvidenceSchema,
} from './evidence.contract.ts';
import {
  type Evidence,
  type EvidenceLinkKind,
  type ExecutionEvidence,
  evidence,
  evidenceLinks,
  executionEvidence,
} from './evidence.schema.ts';

// Most credible first: (credibility, id) descending; credibility travels as its decimal text.
const evidenceKey = z.tuple([z.string().regex(/^(0(\.\d{1,3})?|1(\.0{1,3})?)$/), uuidSchema]);

/** The most links `evidence.links` returns for one piece of evidence, per kind. */
export const EVIDENCE_LINKS_MAX = 1000;

/** The other evidence linked to one piece of evidence, from either end of the stored pair. */
export interface EvidenceLinks {
  related: Array<Evidence & { note: string | null }>;
  contradicting: Array<Evidence & { note: string | null }>;
}

// The runs citing evidence, newest citation first: (cited_at, execution_id) descending.
const citingKey = z.tuple([cursorTimestamp, uuidSchema]);

/** How, when and by whom a run cited a piece of evidence. */
export type Citation = Pick<ExecutionEvidence, 'note' | 'citedAt' | 'citedByAgentId' | 'citedByUserId'>;

const citation = {
  note: executionEvidence.note,
  citedAt: executionEvidence.citedAt,
  citedByAgentId: executionEvidence.citedByAgentId,
  citedByUserId: executionEvidence.citedByUserId,
};

/** Fails with NotFoundError unless the run is the tenant's. */
async function requireExecution(tx: TenantScope, executionId: string): Promise<void> {
  const [row] = await tx.db
    .select({ id: taskExecutions.id })
    .from(taskExecutions)
    .where(and(eq(taskExecutions.tenantId, tx.tenantId), eq(taskExecutions.id, executionId)));
  if (!row) throw new NotFoundError('task execution', executionId);
}

/** The pair as stored: ids in order, so A–B and B–A are one row. */
const orderedPair = (a: string, b: string) => (a < b ? { lowId: a, highId: b } : { lowId: b, highId: a });

/**
 * Evidence behind tasks and projects (seed 004): credibility, verification and links. The author
 * and the verifier are the database's, from the unit's actor (migration's guard_evidence).
 */
export const evidenceRepository = {
  async create(tx: TenantScope, input: CreateEvidenceInput): Promise<Evidence> {
    const values = parseInput(createEvidenceSchema, input, 'evidence');
    const [row] = await tx.db
      .insert(evidence)
      .values({
        tenantId: tx.tenantId,
        projectId: values.projectId,
        taskId: values.taskId ?? null,
        sourceType: values.sourceType,
        title: values.title,
        content: values.content ?? null,
        reference: values.reference ?? null,
        credibility: values.credibility.toFixed(3),
        tags: values.tags,
        metadata: values.metadata ?? {},
      })
      .returning();
    return row!;
  },

  async get(tx: TenantScope, id: string): Promise<Evidence> {
    const evidenceId = parseId(id, 'evidence');
    const [row] = await tx.db
      .select()
      .from(evidence)
      .where(and(eq(evidence.tenantId, tx.tenantId), eq(evidence.id, evidenceId)));
    if (!row) throw new NotFoundError('evidence', evidenceId);
    return row;
  },

  /** Changes what may change; the content or a reference must remain (ValidationError otherwise). */
  async update(tx: TenantScope, id: string, patch: UpdateEvidenceInput): Promise<Evidence> {
    const evidenceId = parseId(id, 'evidence');
    const values = parseInput(updateEvidenceSchema, patch, 'evidence update');
    const [row] = await tx.db
      .update(evidence)
      .set({
        ...(values.taskId !== undefined ? { taskId: values.taskId } : {}),
        ...(values.title !== undefined ? { title: values.title } : {}),
        ...(values.content !== undefined ? { content: values.content } : {}),
        ...(values.reference !== undefined ? { reference: values.reference } : {}),
        ...(values.credibility !== undefined ? { credibility: values.credibility.toFixed(3) } : {}),
        ...(values.tags !== undefined ? { tags: values.tags } : {}),
        ...(values.metadata !== undefined ? { metadata: values.metadata } : {}),
      })
      .where(and(eq(evidence.tenantId, tx.tenantId), eq(evidence.id, evidenceId)))
      .returning();
    if (!row) throw new NotFoundError('evidence', evidenceId);
    return row;
  },

  /** Marks evidence verified by the unit's actor, now; verifying it again changes nothing. */
  async verify(tx: TenantScope, id: string): Promise<Evidence> {
    const evidenceId = parseId(id, 'evidence');
    const [row] = await tx.db
      .update(evidence)
      .set({ isVerified: true })
      .where(
        and(eq(evidence.tenantId, tx.tenantId), eq(evidence.id, evidenceId), eq(evidence.isVerified, false)),
      )
      .returning();
    return row ?? evidenceRepository.get(tx, evidenceId);
  },

  /** Removes evidence and its links. */
  async delete(tx: TenantScope, id: string): Promise<void> {
    const evidenceId = parseId(id, 'evidence');
    const removed = await tx.db
      .delete(evidence)
      .where(and(eq(evidence.tenantId, tx.tenantId), eq(evidence.id, evidenceId)))
      .returning({ id: evidence.id });
    if (removed.length === 0) throw new NotFoundError('evidence', evidenceId);
  },

  /** One page, most credible first; `taskId` gives the evidence behind a task. */
  async list(tx: TenantScope, input: ListEvidenceInput = {}): Promise<Page<Evidence>> {
    const query = parseInput(listEvidenceSchema, input, 'evidence list');
    const conditions: SQL[] = [eq(evidence.tenantId, tx.tenantId)];
    if (query.projectId) conditions.push(eq(evidence.projectId, query.projectId));
    if (query.taskId) conditions.push(eq(evidence.taskId, query.taskId));
    if (query.sourceType) conditions.push(eq(evidence.sourceType, query.sourceType));
    if (query.verified !== undefined) conditions.push(eq(evidence.isVerified, query.verified));
    if (query.tags) conditions.push(arrayContains(evidence.tags, query.tags));
    if (query.cursor) {
      const [credibility, id] = decodeCursor('evidence', query.cursor, evidenceKey);
      conditions.push(
        sql`(${evidence.credibility}, ${evidence.id}) < (${credibility}::numeric, ${id}::uuid)`,
      );
    }
    const rows = await tx.db
      .select()
      .from(evidence)
      .where(and(...conditions))
      .orderBy(desc(evidence.credibility), desc(evidence.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'evidence', (row) => [row.credibility, row.id]);
  },

  /**
   * Links two pieces of evidence as related or contradicting, once for the pair (whichever end is
   * named first). Linking a pair again with the same kind changes nothing; with the other kind it
   * is a ConflictError: evidence does not both support and contradict the same evidence.
   */
  async link(tx: TenantScope, id: string, input: LinkEvidenceInput): Promise<void> {
    const evidenceId = parseId(id, 'evidence');
    const { otherId, kind, note } = parseInput(linkEvidenceSchema, input, 'evidence link');
    if (otherId === evidenceId)
      throw new ValidationError('evidence is not linked to itself', [
        { path: 'otherId', message: 'names the evidence itself' },
      ]);
    const pair = orderedPair(evidenceId, otherId);
    const inserted = await tx.db
      .insert(evidenceLinks)
      .values({ tenantId: tx.tenantId, ...pair, kind, note: note ?? null })
      .onConflictDoNothing()
      .returning({ kind: evidenceLinks.kind });
    if (inserted.length > 0) return;
    const [existing] = await tx.db
      .select({ kind: evidenceLinks.kind })
      .from(evidenceLinks)
      .where(
        and(
          eq(evidenceLinks.tenantId, tx.tenantId),
          eq(evidenceLinks.lowId, pair.lowId),
          eq(evidenceLinks.highId, pair.highId),
        ),
      );
    if (existing && existing.kind !== kind)
      throw new ConflictError(
        'duplicate',
        `evidence ${evidenceId} and ${otherId} are already linked as ${existing.kind}`,
        { entity: 'evidence link', field: 'kind' },
      );
  },

  /** Removes the link between two pieces of evidence (NotFoundError when there is none). */
  async unlink(tx: TenantScope, id: string, otherId: string): Promise<void> {
    const pair = orderedPair(parseId(id, 'evidence'), parseId(otherId, 'evidence'));
    const removed = await tx.db
      .delete(evidenceLinks)
      .where(
        and(
          eq(evidenceLinks.tenantId, tx.tenantId),
          eq(evidenceLinks.lowId, pair.lowId),
          eq(evidenceLinks.highId, pair.highId),
        ),
      )
      .returning({ kind: evidenceLinks.kind });
    if (removed.length === 0) throw new NotFoundError('evidence link', `${pair.lowId}/${pair.highId}`);
  },

  /** The evidence linked to `id`, from either end, most credible first, at most EVIDENCE_LINKS_MAX of each kind. */
  async links(tx: TenantScope, id: string): Promise<EvidenceLinks> {
    const evidenceId = parseId(id, 'evidence');
    await evidenceRepository.get(tx, evidenceId);
    const otherEnd = sql`CASE WHEN ${evidenceLinks.lowId} = ${evidenceId}::uuid THEN ${evidenceLinks.highId} ELSE ${evidenceLinks.lowId} END`;
    const of = async (kind: EvidenceLinkKind) => {
      const rows = await tx.db
        .select({ other: evidence, note: evidenceLinks.note })
        .from(evidenceLinks)
        .innerJoin(evidence, and(eq(evidence.tenantId, evidenceLinks.tenantId), eq(evidence.id, otherEnd)))
        .where(
          and(
            eq(evidenceLinks.tenantId, tx.tenantId),
            or(eq(evidenceLinks.lowId, evidenceId), eq(evidenceLinks.highId, evidenceId)),
            eq(evidenceLinks.kind, kind),
          ),
        )
        .orderBy(desc(evidence.credibility), asc(evidence.id))
        .limit(EVIDENCE_LINKS_MAX);
      return rows.map((row) => ({ ...row.other, note: row.note }));
    };
    return { related: await of('related'), contradicting: await of('contradicts') };
  },

  /**
   * Records that a run cites evidence of its project, as the unit's actor: the run's agent or a
   * human member, while the run is open (ConflictError `execution_finished` after). Citing the
   * same evidence again changes nothing and returns the first citation.
   */
  async cite(tx: TenantScope, executionId: string, input: CiteEvidenceInput): Promise<ExecutionEvidence> {
    const runId = parseId(executionId, 'task execution');
    const { evidenceId, note } = parseInput(citeEvidenceSchema, input, 'evidence citation');
    const [row] = await tx.db
      .insert(executionEvidence)
      .values({ tenantId: tx.tenantId, executionId: runId, evidenceId, note: note ?? null })
      .onConflictDoNothing()
      .returning();
    if (row) return row;
    const [existing] = await tx.db
      .select()
      .from(executionEvidence)
      .where(
        and(
          eq(executionEvidence.tenantId, tx.tenantId),
          eq(executionEvidence.executionId, runId),
          eq(executionEvidence.evidenceId, evidenceId),
        ),
      );
    return existing!;
  },

  /** One page of the evidence a run cites, most credible first, with each citation. */
  async cited(
    tx: TenantScope,
    executionId: string,
    input: ListCitationsInput = {},
  ): Promise<Page<Evidence & Citation>> {
    const runId = parseId(executionId, 'task execution');
    const query = parseInput(listCitationsSchema, input, 'cited evidence');
    await requireExecution(tx, runId);
    const conditions: SQL[] = [
      eq(executionEvidence.tenantId, tx.tenantId),
      eq(executionEvidence.executionId, runId),
    ];
    if (query.cursor) {
      const [credibility, id] = decodeCursor('cited evidence', query.cursor, evidenceKey);
      conditions.push(
        sql`(${evidence.credibility}, ${evidence.id}) < (${credibility}::numeric, ${id}::uuid)`,
      );
    }
    const rows = await tx.db
      .select({ cited: evidence, citation })
      .from(executionEvidence)
      .innerJoin(
        evidence,
        and(eq(evidence.tenantId, executionEvidence.tenantId), eq(evidence.id, executionEvidence.evidenceId)),
      )
      .where(and(...conditions))
      .orderBy(desc(evidence.credibility), desc(evidence.id))
      .limit(query.limit + 1);
    return toPage(
      rows.map((row) => ({ ...row.cited, ...row.citation })),
      query.limit,
      'cited evidence',
      (row) => [row.credibility, row.id],
    );
  },

  /** One page of the runs citing a piece of evidence, newest citation first, with each citation. */
  async citingRuns(
    tx: TenantScope,
    id: string,
    input: ListCitationsInput = {},
  ): Promise<Page<TaskExecution & Citation>> {
    const evidenceId = parseId(id, 'evidence');
    const query = parseInput(listCitationsSchema, input, 'citing runs');
    await evidenceRepository.get(tx, evidenceId);
    const conditions: SQL[] = [
      eq(executionEvidence.tenantId, tx.tenantId),
      eq(executionEvidence.evidenceId, evidenceId),
    ];
    if (query.cursor) {
      const [at, runId] = decodeCursor('citing runs', query.cursor, citingKey);
      // The cursor citation's own time, to the microsecond, by its key (exactTimestamp's idea:
      // a Date holds milliseconds); a citation that is gone pages on from the time as given.
      const exact = sql`(SELECT coalesce(max(c.cited_at), ${at.toISOString()}::timestamptz)
        FROM execution_evidence c
       WHERE c.tenant_id = ${tx.tenantId}::uuid AND c.execution_id = ${runId}::uuid AND c.evidence_id = ${evidenceId}::uuid)`;
      conditions.push(
        sql`(${executionEvidence.citedAt}, ${executionEvidence.executionId}) < (${exact}, ${runId})`,
      );
    }
    const rows = await tx.db
      .select({ run: taskExecutions, citation })
      .from(executionEvidence)
      .innerJoin(
        taskExecutions,
        and(
          eq(taskExecutions.tenantId, executionEvidence.tenantId),
          eq(taskExecutions.id, executionEvidence.executionId),
        ),
      )
      .where(and(...conditions))
      .orderBy(desc(executionEvidence.citedAt), desc(executionEvidence.executionId))
      .limit(query.limit + 1);
    return toPage(
      rows.map((row) => ({ ...row.run, ...row.citation })),
      query.limit,
      'citing runs',
      (row) => [row.citedAt.toISOString(), row.id],
    );
  },
};
