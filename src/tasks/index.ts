// The tasks domain: what an HTTP API or the CLI may import (input contracts, row types).
export * from './activity-feed.contract.ts';
export type { ActivityEntry } from './activity-feed.schema.ts';
export * from './tasks.contract.ts';
export type { ImportedTask, PurgeReport } from './tasks.repository.ts';
export {
  TASK_PHASES,
  TASK_PRIORITIES,
  TASK_STATUSES,
  TASK_TRANSITIONS,
  TASK_TYPES,
  type Task,
  type TaskPhase,
  type TaskPriority,
  type TaskStatus,
  type TaskType,
} from './tasks.schema.ts';
