// The agents domain: what an HTTP API or the CLI may import (input contracts, row types).

export type { AgentIdentity, AuthenticateOptions } from './agent-credentials.authenticate.ts';
export * from './agent-credentials.contract.ts';
export type { IssuedAgentKey, RotatedAgentKey } from './agent-credentials.repository.ts';
export {
  type AgentCredential,
  type AgentCredentialUse,
  CREDENTIAL_USE_OUTCOMES,
  type CredentialUseOutcome,
} from './agent-credentials.schema.ts';
export * from './agent-states.contract.ts';
export type { AgentState } from './agent-states.schema.ts';
export * from './agents.contract.ts';
export type { Agent, AgentLevel, AgentStatus, AgentType } from './agents.schema.ts';
export { AGENT_LEVELS, AGENT_STATUSES, AGENT_TYPES } from './agents.schema.ts';
