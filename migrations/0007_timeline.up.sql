-- Work sessions of agents, and the immutable event timeline.

CREATE TABLE work_sessions (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id(),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  agent_id uuid NOT NULL,
  project_id uuid NOT NULL,
  status text NOT NULL DEFAULT 'started' CHECK (status IN ('started', 'logging', 'stopped')),
  started_at timestamptz NOT NULL DEFAULT now(),
  stopped_at timestamptz,
  duration_seconds integer CHECK (duration_seconds >= 0),
  tasks_worked_on uuid[] NOT NULL DEFAULT '{}' CHECK (cardinality(tasks_worked_on) <= 10000),
  metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT work_sessions_stopped CHECK ((status = 'stopped') = (stopped_at IS NOT NULL)
    AND (stopped_at IS NULL) = (duration_seconds IS NULL)),
  CONSTRAINT work_sessions_agent_fk FOREIGN KEY (tenant_id, agent_id)
    REFERENCES agents (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT work_sessions_project_fk FOREIGN KEY (tenant_id, project_id)
    REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);
-- At most one open session per agent, whoever writes.
CREATE UNIQUE INDEX work_sessions_open_key ON work_sessions (tenant_id, agent_id) WHERE status <> 'stopped';
CREATE INDEX work_sessions_agent_idx ON work_sessions (tenant_id, agent_id, started_at);
CREATE INDEX work_sessions_project_idx ON work_sessions (tenant_id, project_id, started_at);
CREATE TRIGGER work_sessions_live_project BEFORE INSERT OR UPDATE OF project_id ON work_sessions
  FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project();
SELECT agentflow.isolate_by_tenant('work_sessions');
SELECT agentflow.track_changes('work_sessions', 'tenant_id');
GRANT SELECT, INSERT, UPDATE, DELETE ON work_sessions TO agentflow_app, agentflow_service;

-- The timeline. Append-only, and the largest tenant table after audit_logs, so keyed like it: every
-- unique key holds tenant_id (the distribution column) and occurred_at (the partition column), and
-- every index leads with tenant_id. Pages are read newest first by (occurred_at, id).
CREATE TABLE events (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id() REFERENCES tenants (id) ON DELETE CASCADE,
  id bigint GENERATED ALWAYS AS IDENTITY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  type text NOT NULL CHECK (type IN ('session_start', 'session_log', 'session_stop',
    'task_assigned', 'task_completed', 'task_blocked', 'problem_report', 'advice_given', 'question_asked',
    'review_requested', 'review_response', 'github_pr_opened', 'github_pr_merged', 'github_issue_assigned',
    'kpi_updated', 'trust_score_changed', 'wiki_contribution')),
  project_id uuid,
  session_id uuid,
  -- The agent that wrote the event; NULL for a system event.
  author_id uuid,
  payload jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
  mentions uuid[] NOT NULL DEFAULT '{}' CHECK (cardinality(mentions) <= 100),
  metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  PRIMARY KEY (tenant_id, occurred_at, id),
  CONSTRAINT events_project_fk FOREIGN KEY (tenant_id, project_id)
    REFERENCES projects (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT events_session_fk FOREIGN KEY (tenant_id, session_id)
    REFERENCES work_sessions (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT events_author_fk FOREIGN KEY (tenant_id, author_id)
    REFERENCES agents (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX events_project_idx ON events (tenant_id, project_id, occurred_at, id) WHERE project_id IS NOT NULL;
CREATE INDEX events_session_idx ON events (tenant_id, session_id, occurred_at, id) WHERE session_id IS NOT NULL;
CREATE INDEX events_author_idx ON events (tenant_id, author_id, occurred_at, id) WHERE author_id IS NOT NULL;
CREATE INDEX events_type_idx ON events (tenant_id, type, occurred_at, id);
CREATE INDEX events_mentions_idx ON events USING gin (mentions);

-- No application role holds UPDATE or DELETE on events; this trigger refuses them to every role
-- but the table's owner, which removes events only by cascade (a purged tenant, project, session or
-- agent) and in the retention export, a SECURITY DEFINER function of the owner.
CREATE FUNCTION agentflow.refuse_event_change() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_user = (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = TG_RELID) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.refuse_event_change() FROM PUBLIC;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION agentflow.refuse_event_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION agentflow.reject_mutation();
SELECT agentflow.isolate_by_tenant('events');
GRANT SELECT, INSERT ON events TO agentflow_app, agentflow_service;
