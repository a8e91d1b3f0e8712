-- Agents: the AI staff of a tenant, at the organization level or in one project.

CREATE TABLE agents (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id() REFERENCES tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  project_id uuid,
  level text NOT NULL CHECK (level IN ('organization', 'project')),
  type text NOT NULL CHECK (type IN ('orchestrator', 'project_manager', 'architect', 'analyst', 'ui_designer',
    'frontend_dev', 'backend_dev', 'tester', 'bug_fixer', 'reviewer', 'git_agent')),
  code text NOT NULL CHECK (code ~ '^[a-z0-9]([a-z0-9-]{0,98}[a-z0-9])?$'),
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  role_title text NOT NULL CHECK (char_length(role_title) BETWEEN 1 AND 200),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'probation', 'inactive', 'terminated')),
  trust_score numeric(5, 2) NOT NULL DEFAULT 50 CHECK (trust_score BETWEEN 0 AND 100),
  model_provider text CHECK (char_length(model_provider) BETWEEN 1 AND 100),
  model_name text CHECK (char_length(model_name) BETWEEN 1 AND 200),
  capabilities text[] NOT NULL DEFAULT '{}' CHECK (cardinality(capabilities) <= 100),
  settings jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  terminated_at timestamptz,
  deleted_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  -- An organization agent belongs to no project; a project agent to exactly one.
  CONSTRAINT agents_level_project CHECK ((level = 'organization') = (project_id IS NULL)),
  CONSTRAINT agents_terminated_at CHECK ((status = 'terminated') = (terminated_at IS NOT NULL)),
  CONSTRAINT agents_project_fk FOREIGN KEY (tenant_id, project_id)
    REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);
-- A code names an agent in the tenant for good (audit rows, keys, logs), deleted or not.
CREATE UNIQUE INDEX agents_code_key ON agents (tenant_id, code);
-- Names are unique per scope among live agents: the organization, or one project.
CREATE UNIQUE INDEX agents_org_name_live_key ON agents (tenant_id, name) WHERE project_id IS NULL AND deleted_at IS NULL;
CREATE UNIQUE INDEX agents_project_name_live_key ON agents (tenant_id, project_id, name) WHERE deleted_at IS NULL;
CREATE INDEX agents_capabilities_idx ON agents USING gin (capabilities);
CREATE TRIGGER agents_live_project BEFORE INSERT OR UPDATE OF project_id ON agents
  FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project();
SELECT agentflow.isolate_by_tenant('agents');
SELECT agentflow.track_changes('agents', 'tenant_id');
-- An agent is never removed by tenant work, only soft-deleted: its row names it in audit rows,
-- events and keys for good. Hard deletes are for the service role (purges).
GRANT SELECT, INSERT, UPDATE ON agents TO agentflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON agents TO agentflow_service;

-- The status lifecycle, and the freeze of a deleted agent, for every writer (raw SQL included):
--   active <-> probation, active <-> inactive, probation <-> inactive, any of them -> terminated;
--   terminated is final. A new agent does not start terminated. terminated_at belongs to the
-- database: set when the agent is terminated, kept as it is otherwise. A soft-deleted agent is
-- gone to readers, and no column of it changes any more (trust_score included). Other columns
-- (trust_score, written by the KPI recompute) are not this trigger's business.
CREATE FUNCTION agentflow.guard_agent() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.status = 'terminated' THEN
      RAISE EXCEPTION 'agent % cannot go from (new) to terminated', NEW.id
        USING ERRCODE = 'AF010', TABLE = TG_TABLE_NAME, COLUMN = 'status';
    END IF;
    NEW.terminated_at := NULL;
    RETURN NEW;
  END IF;
  IF OLD.deleted_at IS NOT NULL THEN
    RAISE EXCEPTION 'agent % is deleted', OLD.id USING ERRCODE = 'AF011', TABLE = TG_TABLE_NAME;
  END IF;
  IF NEW.status IS DISTINCT FROM OLD.status THEN
    IF (OLD.status, NEW.status) NOT IN (
         ('active', 'probation'), ('active', 'inactive'), ('active', 'terminated'),
         ('probation', 'active'), ('probation', 'inactive'), ('probation', 'terminated'),
         ('inactive', 'active'), ('inactive', 'probation'), ('inactive', 'terminated')) THEN
      RAISE EXCEPTION 'agent % cannot go from % to %', OLD.id, OLD.status, NEW.status
        USING ERRCODE = 'AF010', TABLE = TG_TABLE_NAME, COLUMN = 'status';
    END IF;
    NEW.terminated_at := CASE WHEN NEW.status = 'terminated' THEN now() END;
  ELSE
    NEW.terminated_at := OLD.terminated_at;
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.guard_agent() FROM PUBLIC;
CREATE TRIGGER agents_lifecycle BEFORE INSERT OR UPDATE ON agents
  FOR EACH ROW EXECUTE FUNCTION agentflow.guard_agent();

-- Tenant work acting as an agent needs an agent of that tenant that is neither terminated nor
-- deleted. The unit of work calls this in its set-up statement, beside require_usable_tenant (no
-- extra round trip), in every unit: one primary-key lookup, so a termination or deletion applies
-- to the next unit at once. The message says no more than the caller already knows (its own
-- tenant and actor): whether the id names another tenant's agent stays hidden. Callable by every
-- role, like require_usable_tenant: the set-up runs before the role switch takes effect.
CREATE FUNCTION agentflow.require_usable_actor(tenant uuid, actor_type text, actor_id uuid) RETURNS void
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  IF actor_type = 'agent' AND NOT EXISTS (
       SELECT 1 FROM agents a
        WHERE a.tenant_id = tenant AND a.id = actor_id AND a.status <> 'terminated' AND a.deleted_at IS NULL) THEN
    RAISE EXCEPTION 'agent % cannot act in tenant %: it does not exist there, or is terminated or deleted',
      actor_id, tenant USING ERRCODE = 'AF012';
  END IF;
END $$;

-- "Agents with capability X" for tenant work. Under the app role's tenant policy PostgreSQL may not
-- use agents_capabilities_idx: @> and && are not LEAKPROOF, so they may only filter rows after the
-- policy's tenant condition, i.e. every agent of the tenant. This function runs as
-- agentflow_definer (the service policy, which lets the index serve) and is confined to the
-- unit's own tenant by current_tenant_id(), so it returns nothing the caller could not read.
CREATE FUNCTION agentflow.agents_with_capabilities(wanted text[], match_all boolean) RETURNS SETOF uuid
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp ROWS 100
  AS $$
BEGIN
  IF match_all THEN
    RETURN QUERY SELECT a.id FROM agents a
                  WHERE a.tenant_id = agentflow.current_tenant_id() AND a.capabilities @> wanted;
  ELSE
    RETURN QUERY SELECT a.id FROM agents a
                  WHERE a.tenant_id = agentflow.current_tenant_id() AND a.capabilities && wanted;
  END IF;
END $$;
REVOKE ALL ON FUNCTION agentflow.agents_with_capabilities(text[], boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentflow.agents_with_capabilities(text[], boolean) TO agentflow_app;

GRANT CREATE ON SCHEMA agentflow TO agentflow_definer;
ALTER FUNCTION agentflow.require_usable_actor(uuid, text, uuid) OWNER TO agentflow_definer;
ALTER FUNCTION agentflow.agents_with_capabilities(text[], boolean) OWNER TO agentflow_definer;
REVOKE CREATE ON SCHEMA agentflow FROM agentflow_definer;
