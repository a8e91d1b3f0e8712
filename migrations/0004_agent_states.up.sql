-- The one durable agent-state document per project, written with optimistic concurrency (version).

CREATE TABLE agent_states (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id(),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL,
  state jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(state) = 'object'),
  version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT agent_states_project_key UNIQUE (tenant_id, project_id),
  CONSTRAINT agent_states_project_fk FOREIGN KEY (tenant_id, project_id)
    REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);
-- No state is added to or changed for a soft-deleted project (0003_projects).
CREATE TRIGGER agent_states_live_project BEFORE INSERT OR UPDATE ON agent_states
  FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project();
SELECT agentflow.isolate_by_tenant('agent_states');
SELECT agentflow.track_changes('agent_states', 'tenant_id');
GRANT SELECT, INSERT, UPDATE, DELETE ON agent_states TO agentflow_app, agentflow_service;
