-- Artifacts (what an agent's work produced, per task and optionally per execution) and approvals
-- (a human's decision on a task in review, and what the agent needs to resume after a restart).
-- Seeds 000 (artifacts, approvals, awaiting_approval) and 001 (awaiting_approval, checkpoints).

CREATE TABLE artifacts (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id(),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  task_id uuid NOT NULL,
  -- The run that produced it (task_executions, migration 15), if any.
  execution_id uuid,
  type text NOT NULL CHECK (type IN ('code', 'diff', 'document', 'design', 'test_report', 'config', 'log', 'other')),
  path text NOT NULL CHECK (char_length(path) BETWEEN 1 AND 1024),
  content text CHECK (octet_length(content) <= 1048576),
  content_type text NOT NULL DEFAULT 'text/plain'
    CHECK (content_type ~ '^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$' AND char_length(content_type) <= 255),
  -- Bytes: of the content when it is stored here (the database counts them), else as given.
  size_bytes bigint NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
  metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  -- Set only by the database, from approval requests and decisions.
  approval_status text NOT NULL DEFAULT 'none' CHECK (approval_status IN ('none', 'pending', 'approved', 'rejected')),
  created_by_agent_id uuid,
  created_by_user_id uuid REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT artifacts_task_fk FOREIGN KEY (tenant_id, task_id) REFERENCES tasks (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT artifacts_agent_fk FOREIGN KEY (tenant_id, created_by_agent_id) REFERENCES agents (tenant_id, id),
  CONSTRAINT artifacts_execution_fk FOREIGN KEY (tenant_id, execution_id)
    REFERENCES task_executions (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT artifacts_one_creator CHECK (created_by_agent_id IS NULL OR created_by_user_id IS NULL)
);
CREATE INDEX artifacts_task_idx ON artifacts (tenant_id, task_id, created_at, id);
CREATE INDEX artifacts_execution_idx ON artifacts (tenant_id, execution_id) WHERE execution_id IS NOT NULL;
CREATE INDEX artifacts_agent_idx ON artifacts (tenant_id, created_by_agent_id) WHERE created_by_agent_id IS NOT NULL;
SELECT agentflow.isolate_by_tenant('artifacts');
SELECT agentflow.track_changes('artifacts', 'tenant_id');
-- No DELETE: an artifact goes with its task (the purge's cascade runs as the table owner).
GRANT SELECT, INSERT, UPDATE ON artifacts TO agentflow_app, agentflow_service;

CREATE TABLE approvals (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id(),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  task_id uuid NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 500),
  description text CHECK (char_length(description) <= 50000),
  -- Artifacts of the task the request covers; the database checks each is the task's.
  artifact_ids uuid[] NOT NULL DEFAULT '{}' CHECK (cardinality(artifact_ids) <= 100),
  -- What the agent needs to resume after a restart (seed 000/001's awaiting_approval state).
  resume_state jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(resume_state) = 'object'),
  -- Where an approval takes the task: completed, or back to in_progress (a plan approved, work goes on).
  on_approve text NOT NULL DEFAULT 'complete' CHECK (on_approve IN ('complete', 'continue')),
  requested_by_agent_id uuid,
  requested_by_user_id uuid REFERENCES users (id),
  reason text CHECK (char_length(reason) BETWEEN 1 AND 5000),
  decided_by uuid REFERENCES users (id),
  decided_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT approvals_task_fk FOREIGN KEY (tenant_id, task_id) REFERENCES tasks (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT approvals_agent_fk FOREIGN KEY (tenant_id, requested_by_agent_id) REFERENCES agents (tenant_id, id),
  CONSTRAINT approvals_one_requester CHECK (requested_by_agent_id IS NULL OR requested_by_user_id IS NULL),
  CONSTRAINT approvals_decided CHECK ((status = 'pending') = (decided_at IS NULL)
    AND (decided_at IS NULL) = (decided_by IS NULL)),
  CONSTRAINT approvals_rejection_reason CHECK (status <> 'rejected' OR reason IS NOT NULL)
);
-- At most one pending approval per task, whoever writes.
CREATE UNIQUE INDEX approvals_pending_key ON approvals (tenant_id, task_id) WHERE status = 'pending';
CREATE INDEX approvals_task_idx ON approvals (tenant_id, task_id, created_at, id);
-- The humans' inbox: pending approvals of the tenant, oldest first.
CREATE INDEX approvals_inbox_idx ON approvals (tenant_id, created_at, id) WHERE status = 'pending';
SELECT agentflow.isolate_by_tenant('approvals');
SELECT agentflow.track_changes('approvals', 'tenant_id');
-- No DELETE: a decision is final and audited; an approval goes with its task (cascade, as the owner).
GRANT SELECT, INSERT, UPDATE ON approvals TO agentflow_app, agentflow_service;

-- A new artifact: of a live task, created by the unit's actor (an application role cannot name
-- another), not yet under review; the database counts the bytes of stored content.
CREATE FUNCTION agentflow.prepare_artifact() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  actor_type text := current_setting('agentflow.actor_type', true);
BEGIN
  NEW.approval_status := 'none';
  IF current_user IN ('agentflow_app', 'agentflow_service') THEN
    NEW.created_by_agent_id := NULL;
    NEW.created_by_user_id := NULL;
    IF actor_type = 'agent' THEN
      NEW.created_by_agent_id := nullif(current_setting('agentflow.actor_id', true), '')::uuid;
    ELSIF actor_type = 'user' THEN
      NEW.created_by_user_id := nullif(current_setting('agentflow.actor_id', true), '')::uuid;
    END IF;
    NEW.created_at := now();
  END IF;
  IF NEW.content IS NOT NULL THEN
    NEW.size_bytes := octet_length(NEW.content);
  END IF;
  IF EXISTS (SELECT 1 FROM tasks t WHERE t.tenant_id = NEW.tenant_id AND t.id = NEW.task_id
                                     AND t.deleted_at IS NOT NULL) THEN
    RAISE EXCEPTION 'task % is deleted', NEW.task_id
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME, CONSTRAINT = 'artifacts_task_fk';
  END IF;
  -- The run that produced it is a run of the same task (unknown or another tenant's: the key says so).
  IF NEW.execution_id IS NOT NULL AND EXISTS (
       SELECT 1 FROM task_executions e
        WHERE e.tenant_id = NEW.tenant_id AND e.id = NEW.execution_id AND e.task_id <> NEW.task_id) THEN
    RAISE EXCEPTION 'execution % is not a run of task %', NEW.execution_id, NEW.task_id
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'execution_id';
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.prepare_artifact() FROM PUBLIC;
CREATE TRIGGER artifacts_prepare BEFORE INSERT ON artifacts
  FOR EACH ROW EXECUTE FUNCTION agentflow.prepare_artifact();

-- An artifact never changes (a new version is a new artifact); only its approval status moves, and
-- only by the approvals' own triggers (trigger depth > 1), never by a caller's UPDATE.
CREATE FUNCTION agentflow.guard_artifact() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  IF (NEW.tenant_id, NEW.id, NEW.task_id, NEW.execution_id, NEW.type, NEW.path, NEW.content, NEW.content_type,
      NEW.size_bytes, NEW.metadata, NEW.created_by_agent_id, NEW.created_by_user_id, NEW.created_at)
     IS DISTINCT FROM
     (OLD.tenant_id, OLD.id, OLD.task_id, OLD.execution_id, OLD.type, OLD.path, OLD.content, OLD.content_type,
      OLD.size_bytes, OLD.metadata, OLD.created_by_agent_id, OLD.created_by_user_id, OLD.created_at) THEN
    RAISE EXCEPTION 'artifact % never changes: add a new artifact instead', OLD.id
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME;
  END IF;
  IF NEW.approval_status IS DISTINCT FROM OLD.approval_status AND pg_trigger_depth() < 2 THEN
    RAISE EXCEPTION 'an artifact''s approval status is set by approval requests and decisions only'
      USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME, COLUMN = 'approval_status';
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.guard_artifact() FROM PUBLIC;
CREATE TRIGGER artifacts_guard BEFORE UPDATE ON artifacts
  FOR EACH ROW EXECUTE FUNCTION agentflow.guard_artifact();

CREATE TRIGGER artifacts_activity AFTER INSERT ON artifacts
  FOR EACH ROW EXECUTE FUNCTION agentflow.record_activity('artifact_added', 'path', 'type', 'task_id', 'execution_id');

-- A request: pending, undecided, by the unit's actor, on a live task in progress (locked, so a
-- concurrent request or transition waits), covering artifacts of that task only (each once).
CREATE FUNCTION agentflow.request_approval() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  actor_type text := current_setting('agentflow.actor_type', true);
  task record;
  pending uuid;
  stray uuid;
BEGIN
  NEW.status := 'pending';
  NEW.reason := NULL;
  NEW.decided_by := NULL;
  NEW.decided_at := NULL;
  NEW.artifact_ids := ARRAY(SELECT DISTINCT a FROM unnest(NEW.artifact_ids) AS a ORDER BY a);
  IF current_user IN ('agentflow_app', 'agentflow_service') THEN
    NEW.requested_by_agent_id := NULL;
    NEW.requested_by_user_id := NULL;
    IF actor_type = 'agent' THEN
      NEW.requested_by_agent_id := nullif(current_setting('agentflow.actor_id', true), '')::uuid;
    ELSIF actor_type = 'user' THEN
      NEW.requested_by_user_id := nullif(current_setting('agentflow.actor_id', true), '')::uuid;
    END IF;
    NEW.created_at := now();
  END IF;
  SELECT t.status, t.deleted_at INTO task
    FROM tasks t WHERE t.tenant_id = NEW.tenant_id AND t.id = NEW.task_id FOR UPDATE;
  -- Not found (unknown, or another tenant's): row-level security or the foreign key refuses it.
  IF NOT FOUND THEN
    RETURN NEW;
  END IF;
  IF task.deleted_at IS NOT NULL THEN
    RAISE EXCEPTION 'task % is deleted', NEW.task_id
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME, CONSTRAINT = 'approvals_task_fk';
  END IF;
  -- The unique index approvals_pending_key says it too; this names the approval waiting.
  SELECT a.id INTO pending FROM approvals a
   WHERE a.tenant_id = NEW.tenant_id AND a.task_id = NEW.task_id AND a.status = 'pending';
  IF FOUND THEN
    RAISE EXCEPTION 'task % awaits approval % already', NEW.task_id, pending
      USING ERRCODE = 'AF084', TABLE = TG_TABLE_NAME, COLUMN = 'task_id';
  END IF;
  IF task.status <> 'in_progress' THEN
    RAISE EXCEPTION 'task % is %: approval is requested of a task in progress', NEW.task_id, task.status
      USING ERRCODE = 'AF080', TABLE = TG_TABLE_NAME, COLUMN = 'task_id';
  END IF;
  SELECT a INTO stray FROM unnest(NEW.artifact_ids) AS a
   WHERE NOT EXISTS (SELECT 1 FROM artifacts x
                      WHERE x.tenant_id = NEW.tenant_id AND x.id = a AND x.task_id = NEW.task_id)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'artifact % is not an artifact of task %', stray, NEW.task_id
      USING ERRCODE = 'AF083', TABLE = TG_TABLE_NAME, COLUMN = 'artifact_ids';
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.request_approval() FROM PUBLIC;
CREATE TRIGGER approvals_request BEFORE INSERT ON approvals
  FOR EACH ROW EXECUTE FUNCTION agentflow.request_approval();

-- A decision: only of a pending approval (a decision is final), only its status, reason and
-- decider change, and for the application roles only by a human member of the tenant whose role
-- approves (owner, admin, manager), who is recorded as the decider; the database stamps the time.
CREATE FUNCTION agentflow.decide_approval() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  approves boolean := false;
BEGIN
  IF OLD.status <> 'pending' THEN
    RAISE EXCEPTION 'approval % is already %: a decision is final', OLD.id, OLD.status
      USING ERRCODE = 'AF081', TABLE = TG_TABLE_NAME, COLUMN = 'status';
  END IF;
  IF (NEW.tenant_id, NEW.id, NEW.task_id, NEW.title, NEW.description, NEW.artifact_ids, NEW.resume_state,
      NEW.on_approve, NEW.requested_by_agent_id, NEW.requested_by_user_id, NEW.created_at)
     IS DISTINCT FROM
     (OLD.tenant_id, OLD.id, OLD.task_id, OLD.title, OLD.description, OLD.artifact_ids, OLD.resume_state,
      OLD.on_approve, OLD.requested_by_agent_id, OLD.requested_by_user_id, OLD.created_at) THEN
    RAISE EXCEPTION 'an approval request never changes: only its decision is recorded'
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME;
  END IF;
  IF NEW.status NOT IN ('approved', 'rejected') THEN
    RAISE EXCEPTION 'approval % changes only by a decision: approved or rejected', OLD.id
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'status';
  END IF;
  -- Nested, not ANDed: SQL does not promise to evaluate AND left to right, and a service actor's id
  -- is not a uuid.
  IF current_user IN ('agentflow_app', 'agentflow_service') THEN
    IF current_setting('agentflow.actor_type', true) = 'user' THEN
      approves := EXISTS (SELECT 1 FROM memberships m
                           WHERE m.tenant_id = NEW.tenant_id
                             AND m.user_id = current_setting('agentflow.actor_id', true)::uuid
                             AND m.role IN ('owner', 'admin', 'manager'));
    END IF;
    IF NOT approves THEN
      RAISE EXCEPTION 'approval % is decided by a human owner, admin or manager of the tenant', OLD.id
        USING ERRCODE = 'AF082', TABLE = TG_TABLE_NAME;
    END IF;
    NEW.decided_by := current_setting('agentflow.actor_id', true)::uuid;
  END IF;
  NEW.decided_at := now();
  IF NEW.status = 'rejected' AND NEW.reason IS NULL THEN
    RAISE EXCEPTION 'a rejection needs a reason'
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'reason',
            CONSTRAINT = 'approvals_rejection_reason';
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.decide_approval() FROM PUBLIC;
CREATE TRIGGER approvals_decide BEFORE UPDATE ON approvals
  FOR EACH ROW EXECUTE FUNCTION agentflow.decide_approval();

-- What a request and a decision do, in the same transaction, as the caller (its policies apply):
-- a request puts the task in review and its artifacts pending; a decision moves the task on
-- (approved: completed, or in_progress when the request said `continue`; rejected: in_progress,
-- the reason in the task's metadata under `review`) and marks the artifacts approved or rejected.
CREATE FUNCTION agentflow.apply_approval() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE tasks t SET status = 'in_review'
     WHERE t.tenant_id = NEW.tenant_id AND t.id = NEW.task_id;
  ELSE
    UPDATE tasks t
       SET status = CASE WHEN NEW.status = 'approved' AND NEW.on_approve = 'complete' THEN 'completed'
                         ELSE 'in_progress' END,
           metadata = t.metadata || jsonb_build_object('review', jsonb_strip_nulls(jsonb_build_object(
             'approvalId', NEW.id, 'decision', NEW.status, 'reason', NEW.reason,
             'decidedBy', NEW.decided_by, 'decidedAt', NEW.decided_at)))
     WHERE t.tenant_id = NEW.tenant_id AND t.id = NEW.task_id AND t.status = 'in_review';
    IF NOT FOUND THEN
      RAISE EXCEPTION 'task % is not in review: approval % cannot move it on', NEW.task_id, NEW.id
        USING ERRCODE = 'AF080', TABLE = 'tasks', COLUMN = 'status';
    END IF;
  END IF;
  UPDATE artifacts x SET approval_status = NEW.status
   WHERE x.tenant_id = NEW.tenant_id AND x.id = ANY (NEW.artifact_ids) AND x.task_id = NEW.task_id;
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.apply_approval() FROM PUBLIC;
CREATE TRIGGER approvals_apply AFTER INSERT OR UPDATE OF status ON approvals
  FOR EACH ROW EXECUTE FUNCTION agentflow.apply_approval();

CREATE TRIGGER approvals_activity AFTER INSERT ON approvals
  FOR EACH ROW EXECUTE FUNCTION agentflow.record_activity('approval_requested', 'title', 'task_id', 'artifact_ids', 'on_approve');

-- The feed entry of a decision. SECURITY DEFINER, owned by agentflow_definer like the feed's other
-- trigger functions: only they may append to the feed.
CREATE FUNCTION agentflow.record_approval_decision() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  PERFORM agentflow.append_activity(NEW.tenant_id,
    (SELECT t.project_id FROM tasks t WHERE t.tenant_id = NEW.tenant_id AND t.id = NEW.task_id), NEW.task_id,
    'approval_' || NEW.status,
    format('Approval "%s" %s%s', NEW.title, NEW.status, coalesce(': ' || NEW.reason, '')),
    jsonb_build_object('id', NEW.id, 'status', NEW.status, 'reason', NEW.reason, 'decidedBy', NEW.decided_by,
                       'artifactIds', NEW.artifact_ids), true);
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.record_approval_decision() FROM PUBLIC;
CREATE TRIGGER approvals_decision_activity AFTER UPDATE OF status ON approvals
  FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION agentflow.record_approval_decision();

-- A task awaiting a decision leaves review only by that decision: neither a transition nor raw SQL
-- moves it (cancelling it too needs a rejection first). The decision's own update finds the
-- approval decided already, so it passes.
CREATE FUNCTION agentflow.hold_task_in_review() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  pending uuid;
BEGIN
  SELECT a.id INTO pending FROM approvals a
   WHERE a.tenant_id = OLD.tenant_id AND a.task_id = OLD.id AND a.status = 'pending';
  IF FOUND THEN
    RAISE EXCEPTION 'task % awaits approval %: only its decision moves it on', OLD.id, pending
      USING ERRCODE = 'AF084', TABLE = TG_TABLE_NAME, COLUMN = 'status';
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.hold_task_in_review() FROM PUBLIC;
CREATE TRIGGER tasks_awaiting_approval BEFORE UPDATE OF status ON tasks
  FOR EACH ROW WHEN (OLD.status = 'in_review' AND NEW.status IS DISTINCT FROM OLD.status)
  EXECUTE FUNCTION agentflow.hold_task_in_review();

GRANT CREATE ON SCHEMA agentflow TO agentflow_definer;
ALTER FUNCTION agentflow.record_approval_decision() OWNER TO agentflow_definer;
REVOKE CREATE ON SCHEMA agentflow FROM agentflow_definer;
