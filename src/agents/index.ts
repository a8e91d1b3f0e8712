// The agents domain: what an HTTP API or the CLI may import (input contracts, row types).
export * from './agent-states.contract.ts';
export type { AgentState } from './agent-states.schema.ts';
export * from './agents.contract.ts';
export type { Agent, AgentLevel, AgentStatus, AgentType } from './agents.schema.ts';
export { AGENT_LEVELS, AGENT_STATUSES, AGENT_TYPES } from './agents.schema.ts';
