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
GRANT SELECT, INSERT, UPDATE, DELETE ON agents TO agentflow_app, agentflow_service;
