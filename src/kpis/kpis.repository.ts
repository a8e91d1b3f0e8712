import { and, desc, eq, exists, getTableColumns, isNull, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { agents } from '../agents/agents.schema.ts';
import type { Database } from '../engine/engine.ts';
import { NotFoundError } from '../errors/index.ts';
import { compileStatement } from '../shared/compiled-statement.ts';
import { cursorTimestamp, decodeCursor, exactTimestamp, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import {
  type KpiHistoryInput,
  kpiHistorySchema,
  type LatestKpisInput,
  latestKpisSchema,
  type RecordKpiInput,
  recordKpiSchema,
} from './kpis.contract.ts';
import { type Kpi, kpis } from './kpis.schema.ts';

/** What `kpis.recomputeTrustScore` did: scores are exact decimal text ('72.35'), as agents.trustScore. */
export interface TrustScoreChange {
  agentId: string;
  previous: string;
  new: string;
  /** The formula that computed `new` (`trust-v1`); `new` equals `previous` when no record has a score. */
  formulaVersion: string;
  /** How many KPI records the formula weighed (at most 10). */
  records: number;
}

const historyKey = z.tuple([cursorTimestamp, uuidSchema]);
const latestKey = z.tuple([uuidSchema]);

const columns = getTableColumns(kpis);

/** The KPI rows of agents that are not deleted: a deleted agent's history is gone to readers. */
function ofLiveAgent(db: Database): SQL {
  return exists(
    db
      .select({ one: agents.id })
      .from(agents)
      .where(and(eq(agents.tenantId, kpis.tenantId), eq(agents.id, kpis.agentId), isNull(agents.deletedAt))),
  );
}

const selectById = compileStatement(columns, ['id'], (db, p) =>
  db
    .select()
    .from(kpis)
    .where(and(eq(kpis.id, p.id), ofLiveAgent(db))),
);

/**
 * The KPI history of the tenant's agents. Records are added, never changed: the database computes
 * each one's trend against the agent's previous record and writes the `kpi_updated` event
 * (migration 9), so raw SQL gets the same.
 */
export const kpisRepository = {
  /**
   * Records an agent's KPIs. The database stamps `recordedAt` when none is given, stores the trend
   * against the agent's previous record and writes a `kpi_updated` event, all in this transaction;
   * records of one agent are written one at a time. A record older than the agent's latest is a
   * ConflictError (`out_of_order`); at the same time, a ConflictError (`duplicate`, `recordedAt`); an
   * unknown or deleted agent, a NotFoundError.
   */
  async record(tx: TenantScope, input: RecordKpiInput): Promise<Kpi> {
    const values = parseInput(recordKpiSchema, input, 'KPI record');
    const [row] = await tx.db
      .insert(kpis)
      .values({
        tenantId: tx.tenantId,
        agentId: values.agentId,
        recordedAt: values.recordedAt ?? sql`NULL`,
        metrics: values.metrics,
        changeReason: values.changeReason ?? null,
      })
      .returning();
    return row!;
  },

  async get(tx: TenantScope, id: string): Promise<Kpi> {
    const kpiId = parseId(id, 'KPI record');
    const [row] = await selectById.run(tx, { id: kpiId });
    if (!row) throw new NotFoundError('kpi', kpiId);
    return row;
  },

  /** One page of an agent's records, newest first (empty for an unknown or deleted agent). */
  async history(tx: TenantScope, agentId: string, input: KpiHistoryInput = {}): Promise<Page<Kpi>> {
    const agent = parseId(agentId, 'agent');
    const query = parseInput(kpiHistorySchema, input, 'KPI history');
    const conditions: SQL[] = [eq(kpis.agentId, agent), ofLiveAgent(tx.db)];
    if (query.cursor) {
      const [at, id] = decodeCursor('kpi history', query.cursor, historyKey);
      // recorded_at is unique per agent; its exact value (microseconds) is read back by id.
      conditions.push(sql`${kpis.recordedAt} < ${exactTimestamp(kpis.recordedAt, kpis.id, at, id)}`);
    }
    const rows = await tx.db
      .select()
      .from(kpis)
      .where(and(...conditions))
      .orderBy(desc(kpis.recordedAt))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'kpi history', (row) => [row.recordedAt.toISOString(), row.id]);
  },

  /**
   * The newest record of every agent of the tenant that has one, in one query (each agent's newest
   * record is one step down the (agent, recorded_at) key), paged by agent id.
   */
  async latest(tx: TenantScope, input: LatestKpisInput = {}): Promise<Page<Kpi>> {
    const query = parseInput(latestKpisSchema, input, 'latest KPIs');
    const newest = tx.db
      .select()
      .from(kpis)
      .where(and(eq(kpis.tenantId, agents.tenantId), eq(kpis.agentId, agents.id)))
      .orderBy(desc(kpis.recordedAt))
      .limit(1)
      .as('newest');
    const conditions: SQL[] = [isNull(agents.deletedAt)];
    if (query.cursor) {
      const [agentId] = decodeCursor('latest kpis', query.cursor, latestKey);
      conditions.push(sql`${agents.id} > ${agentId}`);
    }
    const rows = await tx.db
      .select(newest._.selectedFields)
      .from(agents)
      .innerJoinLateral(newest, sql`true`)
      .where(and(...conditions))
      .orderBy(agents.id)
      .limit(query.limit + 1);
    return toPage(rows as Kpi[], query.limit, 'latest kpis', (row) => [row.agentId]);
  },

  /**
   * Recomputes the agent's trust score with the current formula (trust-v1: the SQL function
   * agentflow.trust_score_v1 of migration 9, documented in the README) and stores it; a changed
   * score writes a `trust_score_changed` event naming the formula. NotFoundError for an unknown or
   * deleted agent.
   */
  async recomputeTrustScore(tx: TenantScope, agentId: string): Promise<TrustScoreChange> {
    const agent = parseId(agentId, 'agent');
    const [row] = await tx.query<{ previous: string; current: string; formula: string; records: number }>(
      `SELECT previous::numeric(5, 2)::text AS previous, current::numeric(5, 2)::text AS current, formula, records
         FROM agentflow.recompute_trust_score($1, $2)`,
      [tx.tenantId, agent],
    );
    if (!row) throw new NotFoundError('agent', agent);
    return {
      agentId: agent,
      previous: row.previous,
      new: row.current,
      formulaVersion: row.formula,
      records: Number(row.records),
    };
  },
};
