import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { NotFoundError } from '../errors/index.ts';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput, uuidSchema } from '../shared/validation.ts';
import type { TenantScope } from '../store/scope.ts';
import {
  type ListPatternsInput,
  listPatternsSchema,
  type RecordPatternInput,
  recordPatternSchema,
} from './patterns.contract.ts';
import { type Pattern, patterns } from './patterns.schema.ts';

// Most frequent first: (frequency, id) descending. A pattern seen again between two pages moves up.
const listKey = z.tuple([z.number().int(), uuidSchema]);

/** Patterns detected in agents' work, one row per fingerprint (type, agent type, normalised key). */
export const patternsRepository = {
  /**
   * Records a sighting: a new pattern starts at frequency 1; the same one again (same fingerprint)
   * adds 1 and moves last_seen, in one INSERT … ON CONFLICT, so concurrent sightings all count.
   */
  async record(tx: TenantScope, input: RecordPatternInput): Promise<Pattern> {
    const values = parseInput(recordPatternSchema, input, 'pattern');
    const [row] = await tx.db
      .insert(patterns)
      .values({
        tenantId: tx.tenantId,
        patternType: values.patternType,
        agentType: values.agentType ?? null,
        patternKey: values.key,
        description: values.description,
        example: values.example ?? null,
      })
      .onConflictDoUpdate({
        target: [patterns.tenantId, patterns.fingerprint],
        set: {
          frequency: sql`${patterns.frequency} + 1`,
          // now() is the transaction's start: a later sighting may commit first, so never go back.
          lastSeen: sql`greatest(${patterns.lastSeen}, now())`,
          example: sql`coalesce(excluded.example, ${patterns.example})`,
        },
      })
      .returning();
    return row!;
  },

  async get(tx: TenantScope, id: string): Promise<Pattern> {
    const patternId = parseId(id, 'pattern');
    const [row] = await tx.db
      .select()
      .from(patterns)
      .where(and(eq(patterns.tenantId, tx.tenantId), eq(patterns.id, patternId)));
    if (!row) throw new NotFoundError('pattern', patternId);
    return row;
  },

  /** One page of patterns, most frequent first by (frequency, id). */
  async list(tx: TenantScope, input: ListPatternsInput = {}): Promise<Page<Pattern>> {
    const query = parseInput(listPatternsSchema, input, 'pattern list');
    const conditions: SQL[] = [eq(patterns.tenantId, tx.tenantId)];
    if (query.patternType) conditions.push(eq(patterns.patternType, query.patternType));
    if (query.agentType) conditions.push(eq(patterns.agentType, query.agentType));
    if (query.cursor) {
      const [frequency, id] = decodeCursor('patterns', query.cursor, listKey);
      conditions.push(sql`(${patterns.frequency}, ${patterns.id}) < (${frequency}, ${id})`);
    }
    const rows = await tx.db
      .select()
      .from(patterns)
      .where(and(...conditions))
      .orderBy(desc(patterns.frequency), desc(patterns.id))
      .limit(query.limit + 1);
    return toPage(rows, query.limit, 'patterns', (row) => [row.frequency, row.id]);
  },
};
