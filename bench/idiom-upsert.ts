import { sql } from 'drizzle-orm';
import type { PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { schema } from '../src/index.ts';

/**
 * The project-file upsert as a user writes it with Drizzle's query builder: the idiom side of the
 * insert rows, built to the very SQL the repository sends (each bench checks that it is).
 */
export function idiomFileUpsert(
  tx: Pick<PostgresJsDatabase, 'insert'>,
  values: { tenantId: string; projectId: string; path: string },
) {
  const { projectFiles } = schema;
  return tx
    .insert(projectFiles)
    .values({ ...values, content: 'x' })
    .onConflictDoUpdate({
      target: [projectFiles.tenantId, projectFiles.projectId, projectFiles.path],
      set: { content: sql`excluded.content` },
    })
    .returning();
}
