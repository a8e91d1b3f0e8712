// The executions domain: what an HTTP API or the CLI may import (input contracts, row types).
export * from './task-executions.contract.ts';
export type {
  AgentExecution,
  CostReportRow,
  ExecutionTotals,
  TaskExecutionTotals,
} from './task-executions.repository.ts';
export {
  EXECUTION_STATUSES,
  EXECUTION_TRANSITIONS,
  type ExecutionStatus,
  FINAL_EXECUTION_STATUSES,
  type FinalExecutionStatus,
  type TaskExecution,
} from './task-executions.schema.ts';
