// The agents domain: what an HTTP API or the CLI may import (input contracts, row types).
export * from './agent-states.contract.ts';
export type { AgentState } from './agent-states.schema.ts';
