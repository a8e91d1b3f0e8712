// The work sessions domain: what an HTTP API or the CLI may import (input contracts, row types).
export * from './work-sessions.contract.ts';
export type { SessionUpdates, StartedWorkSession } from './work-sessions.repository.ts';
export { WORK_SESSION_STATUSES, type WorkSession, type WorkSessionStatus } from './work-sessions.schema.ts';
