import { DatabaseError, NotFoundError, toDatabaseError } from '../errors/index.ts';

/**
 * The composite foreign key to projects (and the trigger refusing deleted projects) fail when the
 * project is unknown, deleted, or another tenant's: to the caller, that project does not exist.
 */
export function projectNotFound(error: unknown, projectId: string): unknown {
  const dbError = toDatabaseError(error);
  return dbError instanceof DatabaseError &&
    dbError.kind === 'foreign_key_violation' &&
    dbError.constraint?.endsWith('_project_fk')
    ? new NotFoundError('project', projectId, { cause: dbError })
    : error;
}
