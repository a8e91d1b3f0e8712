// The retention domain: what an HTTP API or the CLI may import (input contracts, report types).
export * from './retention.contract.ts';
export type { RetentionReport, RetentionResult } from './retention.repository.ts';
