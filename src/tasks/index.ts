// The work domain: what an HTTP API or the CLI may import (input contracts, row types).
export * from './task-dependencies.contract.ts';
export type { CriticalPath, GraphTask, TaskAtDepth } from './task-dependencies.repository.ts';
export type { TaskDependency } from './task-dependencies.schema.ts';
export * from './task-queue.contract.ts';
