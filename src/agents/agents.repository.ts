import {
  and,
  arrayContains,
  arrayOverlaps,
  asc,
  eq,
  getTableColumns,
  inArray,
  isNull,
  type SQL,
  sql,
} from 'drizzle-orm';
import { z } from 'zod';
import { ConflictError, NotFoundError } from '../errors/index.ts';
import { compileStatement } from '../shared/compiled-statement.ts';
import { decodeCursor, type Page, toPage } from '../shared/pagination.ts';
import { parseId, parseInput } from '../shared/validation.ts';
import type { ServiceScope, TenantScope } from '../store/scope.ts';
import {
  AGENT_TRANSITIONS,
  agentCodeSchema,
  agentStatusSchema,
  type CreateAgentInput,
  createAgentSchema,
  type ListAgentsInput,
  listAgentsSchema,
  type UpdateAgentInput,
  updateAgentSchema,
} from './agents.contract.ts';
import { type Agent, type AgentStatus, agents } from './agents.schema.ts';

// Codes are unique per tenant, deleted agents included: the code alone is a total order.
const agentsKey = z.tuple([agentCodeSchema]);

const live = isNull(agents.deletedAt);
const columns = getTableColumns(agents);
const selectById = compileStatement(columns, ['id'], (db, p) =>
  db
    .select()
    .from(agents)
    .where(and(eq(agents.id, p.id), live)),
);
const selectByCode = compileStatement(columns, ['code'], (db, p) =>
  db
    .select()
    .from(agents)
    .where(and(eq(agents.code, p.code), live)),
);
const softDeleteAgent = compileStatement({ id: agents.id }, ['id'], (db, p) =>
  db
    .update(agents)
    .set({ deletedAt: sql`now()` })
    .where(and(eq(agents.id, p.id), live))
    .returning({ id: agents.id }),
);

async function insertAgent(tx: TenantScope | ServiceScope, tenantId: string, input: CreateAgentInput) {
  const { level: _level, ...values } = parseInput(createAgentSchema, input, 'agent');
  const level = values.projectId ? 'project' : 'organization';
  const [row] = await tx.db
    .insert(agents)
    .values({ ...values, projectId: values.projectId ?? null, level, tenantId })
    .returning();
  return row!;
}

/**
 * Agents holding all (or any) of `wanted`, through the GIN index agents_capabilities_idx. Under the
 * tenant policy the index cannot serve @> / && (not LEAKPROOF: they may only filter the tenant's
 * rows), so tenant work asks agentflow.agents_with_capabilities (migration 6), which runs under the
 * service policy confined to the unit's tenant; the service role uses the operators directly.
 */
function withCapabilities(tx: TenantScope | ServiceScope, wanted: string[], match: 'all' | 'any'): SQL {
  if (tx.kind === 'tenant') {
    const array = sql.param(wanted, agents.capabilities);
    return sql`${agents.id} IN (SELECT agentflow.agents_with_capabilities(${array}, ${match === 'all'}))`;
  }
  return match === 'all'
    ? arrayContains(agents.capabilities, wanted)
    : arrayOverlaps(agents.capabilities, wanted);
}

async function listAgents(
  tx: TenantScope | ServiceScope,
  tenantId: string,
  input: ListAgentsInput,
): Promise<Page<Agent>> {
  const query = parseInput(listAgentsSchema, input, 'agent list');
  // The explicit tenant lets the service role list one tenant, and the code-ordered scan use agents_code_key.
  const conditions: SQL[] = [eq(agents.tenantId, tenantId), live];
  if (query.status) conditions.push(eq(agents.status, query.status));
  if (query.type) conditions.push(eq(agents.type, query.type));
  if (query.level) conditions.push(eq(agents.level, query.level));
  if (query.projectId) conditions.push(eq(agents.projectId, query.projectId));
  if (query.capabilities) conditions.push(withCapabilities(tx, query.capabilities, query.capabilityMatch));
  if (query.cursor) {
    const [code] = decodeCursor('agents', query.cursor, agentsKey);
    conditions.push(sql`${agents.code} > ${code}`);
  }
  const rows = await tx.db
    .select()
    .from(agents)
    .where(and(...conditions))
    .orderBy(asc(agents.code))
    .limit(query.limit + 1);
  return toPage(rows, query.limit, 'agents', (row) => [row.code]);
}

/**
 * Agents of the current tenant: the AI staff, at the organization level or in one project.
 * Deleted agents are invisible here and frozen in the database; their names are free again, their
 * codes never.
 */
export const agentsRepository = {
  /** Creates an agent; its level follows from `projectId`. A taken code or name is ConflictError `duplicate`. */
  async create(tx: TenantScope, input: CreateAgentInput): Promise<Agent> {
    return insertAgent(tx, tx.tenantId, input);
  },

  async get(tx: TenantScope, id: string): Promise<Agent> {
    const agentId = parseId(id, 'agent');
    const [row] = await selectById.run(tx, { id: agentId });
    if (!row) throw new NotFoundError('agent', agentId);
    return row;
  },

  async getByCode(tx: TenantScope, code: string): Promise<Agent> {
    const value = parseInput(agentCodeSchema, code, 'agent code');
    const [row] = await selectByCode.run(tx, { code: value });
    if (!row) throw new NotFoundError('agent', value);
    return row;
  },

  /** One page of live agents in code order, with optional filters (capabilities: all or any of a set). */
  async list(tx: TenantScope, input: ListAgentsInput = {}): Promise<Page<Agent>> {
    return listAgents(tx, tx.tenantId, input);
  },

  /** Changes name, role title, model, capabilities or settings; nothing else (see updateAgentSchema). */
  async update(tx: TenantScope, id: string, patch: UpdateAgentInput): Promise<Agent> {
    const agentId = parseId(id, 'agent');
    const values = parseInput(updateAgentSchema, patch, 'agent update');
    if (Object.keys(values).length === 0) return agentsRepository.get(tx, agentId);
    const [row] = await tx.db
      .update(agents)
      .set(values)
      .where(and(eq(agents.id, agentId), live))
      .returning();
    if (!row) throw new NotFoundError('agent', agentId);
    return row;
  },

  /**
   * Moves the agent along its lifecycle (AGENT_TRANSITIONS); anything else, the same status
   * included, is ConflictError `invalid_transition` naming both states. The database sets
   * `terminated_at`.
   */
  async changeStatus(tx: TenantScope, id: string, status: AgentStatus): Promise<Agent> {
    const agentId = parseId(id, 'agent');
    const next = parseInput(agentStatusSchema, status, 'agent status');
    const allowedFrom = (Object.keys(AGENT_TRANSITIONS) as AgentStatus[]).filter((from) =>
      AGENT_TRANSITIONS[from].includes(next),
    );
    // The allowed-from condition makes the check and the write one atomic statement.
    const [row] = await tx.db
      .update(agents)
      .set({ status: next })
      .where(and(eq(agents.id, agentId), live, inArray(agents.status, allowedFrom)))
      .returning();
    if (row) return row;
    const current = await agentsRepository.get(tx, agentId);
    throw new ConflictError(
      'invalid_transition',
      `agent ${agentId} cannot go from ${current.status} to ${next}`,
      {
        entity: 'agent',
        field: 'status',
      },
    );
  },

  /** Soft delete: the row stays for the audit trail and its code stays taken; the agent can no longer act. */
  async delete(tx: TenantScope, id: string): Promise<void> {
    const agentId = parseId(id, 'agent');
    const [row] = await softDeleteAgent.run(tx, { id: agentId });
    if (!row) throw new NotFoundError('agent', agentId);
  },
};

/** What operators do for a tenant they name (the CLI): the same rules, audited as `service`. */
export const agentAdminRepository = {
  async create(tx: ServiceScope, tenantId: string, input: CreateAgentInput): Promise<Agent> {
    return insertAgent(tx, parseId(tenantId, 'tenant'), input);
  },

  async list(tx: ServiceScope, tenantId: string, input: ListAgentsInput = {}): Promise<Page<Agent>> {
    return listAgents(tx, parseId(tenantId, 'tenant'), input);
  },

  /** The live agent of `tenantId` with this code: what operators name agents by. */
  async getByCode(tx: ServiceScope, tenantId: string, code: string): Promise<Agent> {
    const tenant = parseId(tenantId, 'tenant');
    const value = parseInput(agentCodeSchema, code, 'agent code');
    const [row] = await tx.db
      .select()
      .from(agents)
      .where(and(eq(agents.tenantId, tenant), eq(agents.code, value), live));
    if (!row) throw new NotFoundError('agent', value);
    return row;
  },
};
