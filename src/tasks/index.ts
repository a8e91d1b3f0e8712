// The work domain (tasks, their graph and queue, the activity feed): what an HTTP API or the CLI may import (input contracts, row types).
export * from './activity-feed.contract.ts';
export type { ActivityEntry } from './activity-feed.schema.ts';
// The task notes: comments, attachments and checkpoints (what an HTTP API or the CLI may import).
export * from './task-attachments.contract.ts';
export { TASK_ATTACHMENT_MAX_BYTES, type TaskAttachment } from './task-attachments.schema.ts';
export * from './task-checkpoints.contract.ts';
export type { TaskCheckpoint } from './task-checkpoints.schema.ts';
export * from './task-comments.contract.ts';
export { TASK_COMMENT_BODY_MAX, type TaskComment } from './task-comments.schema.ts';
export * from './task-dependencies.contract.ts';
export type { CriticalPath, GraphTask, TaskAtDepth } from './task-dependencies.repository.ts';
export type { TaskDependency } from './task-dependencies.schema.ts';
export * from './task-queue.contract.ts';
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
