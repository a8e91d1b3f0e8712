import { and, eq, exists, isNull, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { Database } from '../engine/engine.ts';
import { projects } from './projects.schema.ts';

/**
 * True for rows whose project is live: the files and state of a soft-deleted project are gone to
 * readers as the project itself is (its writers are refused by the require_live_project trigger).
 */
export function belongsToLiveProject(db: Database, tenantId: PgColumn, projectId: PgColumn): SQL {
  return exists(
    db
      .select({ one: projects.id })
      .from(projects)
      .where(and(eq(projects.tenantId, tenantId), eq(projects.id, projectId), isNull(projects.deletedAt))),
  );
}
