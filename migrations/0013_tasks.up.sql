-- Tasks: one table for the four seeds' tasks (DESIGN.md "One vocabulary for task status"), and the
-- activity feed the database writes from what happens to them (and, later, to what hangs off them).

CREATE TABLE tasks (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id() REFERENCES tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL,
  title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 500),
  prompt text CHECK (char_length(prompt) <= 100000),
  description text CHECK (char_length(description) <= 50000),
  type text NOT NULL DEFAULT 'feature'
    CHECK (type IN ('feature', 'bug', 'refactor', 'docs', 'config', 'test', 'chore', 'task')),
  status text NOT NULL DEFAULT 'backlog' CHECK (status IN ('draft', 'backlog', 'assigned', 'in_progress',
    'blocked', 'in_review', 'completed', 'failed', 'cancelled')),
  phase text CHECK (phase IN ('analyzing', 'orchestrating', 'agent_working', 'completing')),
  priority text NOT NULL DEFAULT 'P2' CHECK (priority IN ('P0', 'P1', 'P2', 'P3')),
  deadline timestamptz,
  success_criteria jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(success_criteria) = 'array' AND jsonb_array_length(success_criteria) <= 100),
  assignee_agent_id uuid,
  assignee_user_id uuid,
  github_repository text CHECK (github_repository ~ '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$' AND char_length(github_repository) <= 200),
  github_issue_id bigint CHECK (github_issue_id > 0),
  github_issue_number integer CHECK (github_issue_number > 0),
  github_pr_number integer CHECK (github_pr_number > 0),
  analysis jsonb CHECK (jsonb_typeof(analysis) = 'object'),
  -- Agent types still to work on the task, in order, and those that have (seed 001's orchestration).
  agent_queue text[] NOT NULL DEFAULT '{}' CHECK (cardinality(agent_queue) <= 50),
  completed_agents text[] NOT NULL DEFAULT '{}' CHECK (cardinality(completed_agents) <= 50),
  retry_count integer NOT NULL DEFAULT 0,
  max_retries integer NOT NULL DEFAULT 3 CHECK (max_retries BETWEEN 0 AND 100),
  blocked_reason text CHECK (char_length(blocked_reason) BETWEEN 1 AND 5000),
  error jsonb CHECK (jsonb_typeof(error) = 'object'),
  result jsonb CHECK (jsonb_typeof(result) = 'object'),
  metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  estimate_hours numeric(8, 2) CHECK (estimate_hours >= 0),
  started_at timestamptz,
  completed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT tasks_project_fk FOREIGN KEY (tenant_id, project_id)
    REFERENCES projects (tenant_id, id) ON DELETE CASCADE,
  -- Not cascading: an agent or a member with work assigned is not removed from under it.
  CONSTRAINT tasks_agent_fk FOREIGN KEY (tenant_id, assignee_agent_id) REFERENCES agents (tenant_id, id),
  CONSTRAINT tasks_member_fk FOREIGN KEY (tenant_id, assignee_user_id) REFERENCES memberships (tenant_id, user_id),
  CONSTRAINT tasks_one_assignee CHECK (assignee_agent_id IS NULL OR assignee_user_id IS NULL),
  CONSTRAINT tasks_assigned_has_assignee CHECK (status NOT IN ('assigned', 'in_progress')
    OR assignee_agent_id IS NOT NULL OR assignee_user_id IS NOT NULL),
  CONSTRAINT tasks_phase_in_progress CHECK (phase IS NULL OR status = 'in_progress'),
  CONSTRAINT tasks_blocked_reason CHECK ((status = 'blocked') = (blocked_reason IS NOT NULL)),
  CONSTRAINT tasks_completed_at CHECK ((status = 'completed') = (completed_at IS NOT NULL)),
  CONSTRAINT tasks_retries CHECK (retry_count BETWEEN 0 AND max_retries),
  CONSTRAINT tasks_github_issue CHECK ((github_issue_id IS NULL) = (github_issue_number IS NULL)
    AND (github_issue_number IS NULL OR github_repository IS NOT NULL)),
  CONSTRAINT tasks_agent_types CHECK (agent_queue <@ ARRAY['orchestrator', 'project_manager', 'architect',
    'analyst', 'ui_designer', 'frontend_dev', 'backend_dev', 'tester', 'bug_fixer', 'reviewer', 'git_agent']
    AND completed_agents <@ ARRAY['orchestrator', 'project_manager', 'architect', 'analyst', 'ui_designer',
    'frontend_dev', 'backend_dev', 'tester', 'bug_fixer', 'reviewer', 'git_agent'])
);
-- One live task per GitHub issue and per pull request in a project (seed 002).
CREATE UNIQUE INDEX tasks_github_issue_id_live_key ON tasks (tenant_id, project_id, github_issue_id)
  WHERE github_issue_id IS NOT NULL AND deleted_at IS NULL;
CREATE UNIQUE INDEX tasks_github_issue_number_live_key ON tasks (tenant_id, project_id, github_issue_number)
  WHERE github_issue_number IS NOT NULL AND deleted_at IS NULL;
CREATE UNIQUE INDEX tasks_github_pr_live_key ON tasks (tenant_id, project_id, github_pr_number)
  WHERE github_pr_number IS NOT NULL AND deleted_at IS NULL;
-- A project's live tasks in list order (newest first), and the work queue's candidates.
CREATE INDEX tasks_project_idx ON tasks (tenant_id, project_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX tasks_agent_idx ON tasks (tenant_id, assignee_agent_id, status) WHERE assignee_agent_id IS NOT NULL;
CREATE INDEX tasks_member_idx ON tasks (tenant_id, assignee_user_id) WHERE assignee_user_id IS NOT NULL;
CREATE TRIGGER tasks_live_project BEFORE INSERT OR UPDATE OF project_id ON tasks
  FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project();
SELECT agentflow.isolate_by_tenant('tasks');
SELECT agentflow.track_changes('tasks', 'tenant_id');
-- Tenant work deletes tasks softly; the service role purges (tasks.purge).
GRANT SELECT, INSERT, UPDATE ON tasks TO agentflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON tasks TO agentflow_service;

-- The state machine, for every writer (raw SQL included). Allowed moves (from -> to):
--   draft -> backlog, cancelled
--   backlog -> draft, assigned, in_progress, blocked, cancelled
--   assigned -> backlog, in_progress, blocked, cancelled
--   in_progress -> backlog, assigned, blocked, in_review, completed, failed, cancelled
--   blocked -> backlog, assigned, in_progress, failed, cancelled
--   in_review -> in_progress, completed, failed, cancelled
--   failed -> backlog, assigned, in_progress (a retry: counts against max_retries), cancelled
--   completed and cancelled are final.
-- The database owns the timestamps and counters the transitions set: started_at (first start),
-- completed_at, retry_count; a deleted task is frozen. Assignment: the assignee agent is of the
-- task's project (or the organization's), neither deleted, terminated nor inactive, and an agent on
-- probation never holds P0 work.
CREATE FUNCTION agentflow.guard_task() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  agent record;
BEGIN
  -- Another tenant's row is row-level security's to refuse, with its own error: checked here first,
  -- a rule of this trigger would answer instead and tell the row's state apart.
  IF current_user = 'agentflow_app' AND NEW.tenant_id IS DISTINCT FROM agentflow.current_tenant_id() THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'INSERT' THEN
    IF NEW.status NOT IN ('draft', 'backlog', 'assigned') THEN
      RAISE EXCEPTION 'task % cannot go from (new) to %', NEW.id, NEW.status
        USING ERRCODE = 'AF050', TABLE = TG_TABLE_NAME, COLUMN = 'status';
    END IF;
    NEW.retry_count := 0;
    NEW.started_at := NULL;
    NEW.completed_at := NULL;
    NEW.deleted_at := NULL;
  ELSE
    IF OLD.deleted_at IS NOT NULL THEN
      RAISE EXCEPTION 'task % is deleted', OLD.id USING ERRCODE = 'AF051', TABLE = TG_TABLE_NAME;
    END IF;
    IF (NEW.tenant_id, NEW.id, NEW.created_at) IS DISTINCT FROM (OLD.tenant_id, OLD.id, OLD.created_at) THEN
      RAISE EXCEPTION 'a task''s id and creation time never change'
        USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME;
    END IF;
    IF OLD.status IN ('completed', 'cancelled') AND NEW.status = OLD.status
       AND (NEW.assignee_agent_id, NEW.assignee_user_id) IS DISTINCT FROM (OLD.assignee_agent_id, OLD.assignee_user_id) THEN
      RAISE EXCEPTION 'task % is %: its assignee no longer changes', OLD.id, OLD.status
        USING ERRCODE = 'AF050', TABLE = TG_TABLE_NAME, COLUMN = 'assignee_agent_id';
    END IF;
    NEW.retry_count := OLD.retry_count;
    NEW.started_at := OLD.started_at;
    NEW.completed_at := OLD.completed_at;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
      IF (OLD.status, NEW.status) NOT IN (
           ('draft', 'backlog'), ('draft', 'cancelled'),
           ('backlog', 'draft'), ('backlog', 'assigned'), ('backlog', 'in_progress'), ('backlog', 'blocked'),
           ('backlog', 'cancelled'),
           ('assigned', 'backlog'), ('assigned', 'in_progress'), ('assigned', 'blocked'), ('assigned', 'cancelled'),
           ('in_progress', 'backlog'), ('in_progress', 'assigned'), ('in_progress', 'blocked'),
           ('in_progress', 'in_review'), ('in_progress', 'completed'), ('in_progress', 'failed'),
           ('in_progress', 'cancelled'),
           ('blocked', 'backlog'), ('blocked', 'assigned'), ('blocked', 'in_progress'), ('blocked', 'failed'),
           ('blocked', 'cancelled'),
           ('in_review', 'in_progress'), ('in_review', 'completed'), ('in_review', 'failed'),
           ('in_review', 'cancelled'),
           ('failed', 'backlog'), ('failed', 'assigned'), ('failed', 'in_progress'), ('failed', 'cancelled')) THEN
        RAISE EXCEPTION 'task % cannot go from % to %', OLD.id, OLD.status, NEW.status
          USING ERRCODE = 'AF050', TABLE = TG_TABLE_NAME, COLUMN = 'status';
      END IF;
      IF OLD.status = 'failed' AND NEW.status <> 'cancelled' THEN
        IF OLD.retry_count >= OLD.max_retries THEN
          RAISE EXCEPTION 'task % has used its % retries', OLD.id, OLD.max_retries
            USING ERRCODE = 'AF052', TABLE = TG_TABLE_NAME, COLUMN = 'retry_count';
        END IF;
        NEW.retry_count := OLD.retry_count + 1;
        NEW.error := NULL;
      END IF;
      IF NEW.status = 'in_progress' THEN
        NEW.started_at := coalesce(OLD.started_at, now());
      ELSIF NEW.status = 'completed' THEN
        NEW.completed_at := now();
      END IF;
    END IF;
    -- Fewer retries than already used would make the count a lie.
    IF NEW.max_retries < NEW.retry_count THEN
      RAISE EXCEPTION 'task % has used % retries already', OLD.id, NEW.retry_count
        USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'max_retries', CONSTRAINT = 'tasks_retries';
    END IF;
  END IF;
  -- The phase and the blocked reason belong to their status.
  IF NEW.status <> 'in_progress' THEN
    NEW.phase := NULL;
  ELSIF NEW.phase IS NULL THEN
    NEW.phase := 'agent_working';
  END IF;
  IF NEW.status <> 'blocked' THEN
    NEW.blocked_reason := NULL;
  END IF;

  IF NEW.assignee_agent_id IS NOT NULL AND (TG_OP = 'INSERT'
       OR NEW.assignee_agent_id IS DISTINCT FROM OLD.assignee_agent_id
       OR NEW.priority IS DISTINCT FROM OLD.priority
       OR NEW.project_id IS DISTINCT FROM OLD.project_id) THEN
    SELECT a.status, a.deleted_at, a.project_id INTO agent
      FROM agents a WHERE a.tenant_id = NEW.tenant_id AND a.id = NEW.assignee_agent_id;
    -- Not found (unknown, or another tenant's): the foreign key refuses it.
    IF FOUND THEN
      IF agent.deleted_at IS NOT NULL THEN
        RAISE EXCEPTION 'agent % is deleted', NEW.assignee_agent_id
          USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME, CONSTRAINT = 'tasks_agent_fk';
      END IF;
      IF agent.status IN ('terminated', 'inactive') THEN
        RAISE EXCEPTION 'agent % is %: it receives no work', NEW.assignee_agent_id, agent.status
          USING ERRCODE = 'AF033', TABLE = TG_TABLE_NAME, COLUMN = 'assignee_agent_id';
      END IF;
      IF agent.status = 'probation' AND NEW.priority = 'P0' THEN
        RAISE EXCEPTION 'agent % is on probation: it receives no P0 work', NEW.assignee_agent_id
          USING ERRCODE = 'AF053', TABLE = TG_TABLE_NAME, COLUMN = 'assignee_agent_id';
      END IF;
      IF agent.project_id IS NOT NULL AND agent.project_id <> NEW.project_id THEN
        RAISE EXCEPTION 'agent % works in project %, not %', NEW.assignee_agent_id, agent.project_id, NEW.project_id
          USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'assignee_agent_id';
      END IF;
    END IF;
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.guard_task() FROM PUBLIC;
CREATE TRIGGER tasks_lifecycle BEFORE INSERT OR UPDATE ON tasks
  FOR EACH ROW EXECUTE FUNCTION agentflow.guard_task();

-- The activity feed: what happened in a project, in words for people, written only by the database
-- (the triggers of the tables it summarises), never by callers. Append-only.
CREATE TABLE activity_feed (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id() REFERENCES tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL,
  task_id uuid,
  kind text NOT NULL CHECK (kind ~ '^[a-z][a-z_]{0,62}$'),
  summary text NOT NULL CHECK (char_length(summary) BETWEEN 1 AND 1000),
  details jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
  actor_type text CHECK (actor_type IN ('user', 'agent', 'service')),
  actor_id text,
  is_public boolean NOT NULL DEFAULT true,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT activity_feed_project_fk FOREIGN KEY (tenant_id, project_id)
    REFERENCES projects (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT activity_feed_task_fk FOREIGN KEY (tenant_id, task_id)
    REFERENCES tasks (tenant_id, id) ON DELETE CASCADE
);
-- A project's feed, newest first, page by page; a task's the same.
CREATE INDEX activity_feed_project_idx ON activity_feed (tenant_id, project_id, occurred_at, id);
CREATE INDEX activity_feed_task_idx ON activity_feed (tenant_id, task_id, occurred_at, id) WHERE task_id IS NOT NULL;
SELECT agentflow.keep_append_only('activity_feed');
SELECT agentflow.isolate_by_tenant('activity_feed');
GRANT SELECT ON activity_feed TO agentflow_app, agentflow_service;
-- The cascade of a purged project or task, run as the tables' owner, removes its entries.
GRANT INSERT ON activity_feed TO agentflow_definer;

-- Appends one entry, as the actor of the transaction, at the time of the change (clock_timestamp:
-- the entries of one transaction keep their order in the feed). Called only by the feed's trigger
-- functions, SECURITY DEFINER like it and owned by agentflow_definer: no application role may
-- execute it, and a trigger function cannot be called, nor attached to a table by a role without
-- EXECUTE on it.
CREATE FUNCTION agentflow.append_activity(tenant uuid, project uuid, task uuid, activity_kind text,
    activity_summary text, activity_details jsonb, public boolean) RETURNS void
  LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
  INSERT INTO activity_feed (tenant_id, project_id, task_id, kind, summary, details, actor_type, actor_id, is_public,
                             occurred_at)
  VALUES (tenant, project, task, activity_kind, left(activity_summary, 1000), activity_details,
          nullif(current_setting('agentflow.actor_type', true), ''),
          nullif(current_setting('agentflow.actor_id', true), ''), public, clock_timestamp())
$$;
REVOKE EXECUTE ON FUNCTION agentflow.append_activity(uuid, uuid, uuid, text, text, jsonb, boolean) FROM PUBLIC;

-- The feed entry of a row of any table that hangs off a task or a project, for AFTER INSERT
-- triggers: TG_ARGV[0] is the kind, TG_ARGV[1] the column whose text summarises the row, the rest
-- columns copied into the details. The project is the row's own or its task's; `is_public` is the
-- row's when it has one.
CREATE FUNCTION agentflow.record_activity() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  row_values jsonb := to_jsonb(NEW);
  task uuid := (row_values ->> 'task_id')::uuid;
  project uuid := (row_values ->> 'project_id')::uuid;
  details jsonb := jsonb_build_object('id', row_values -> 'id');
  i integer;
BEGIN
  IF project IS NULL AND task IS NOT NULL THEN
    project := (SELECT t.project_id FROM tasks t WHERE t.tenant_id = NEW.tenant_id AND t.id = task);
  END IF;
  IF project IS NULL THEN
    RETURN NULL;
  END IF;
  FOR i IN 2 .. TG_NARGS - 1 LOOP
    details := details || jsonb_build_object(TG_ARGV[i], row_values -> TG_ARGV[i]);
  END LOOP;
  PERFORM agentflow.append_activity(NEW.tenant_id, project, task, TG_ARGV[0],
    coalesce(row_values ->> TG_ARGV[1], TG_ARGV[0]), details,
    coalesce((row_values ->> 'is_public')::boolean, true));
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.record_activity() FROM PUBLIC;

-- The feed entries of a task's changes. A trigger function SECURITY DEFINER (like record_activity):
-- no role may call it, and the feed is written as its definer.
CREATE FUNCTION agentflow.record_task_activity() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM agentflow.append_activity(NEW.tenant_id, NEW.project_id, NEW.id, 'task_created',
      format('Task "%s" created (%s, %s)', NEW.title, NEW.priority, NEW.status),
      jsonb_build_object('status', NEW.status, 'priority', NEW.priority, 'type', NEW.type), true);
  ELSIF NEW.deleted_at IS NOT NULL AND OLD.deleted_at IS NULL THEN
    PERFORM agentflow.append_activity(NEW.tenant_id, NEW.project_id, NEW.id, 'task_deleted',
      format('Task "%s" deleted', NEW.title), '{}'::jsonb, true);
    RETURN NULL;
  ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
    PERFORM agentflow.append_activity(NEW.tenant_id, NEW.project_id, NEW.id, 'task_status_changed',
      format('Task "%s" moved from %s to %s', NEW.title, OLD.status, NEW.status),
      jsonb_build_object('from', OLD.status, 'to', NEW.status, 'retryCount', NEW.retry_count), true);
  END IF;
  IF NEW.assignee_agent_id IS NOT NULL
     AND (TG_OP = 'INSERT' OR NEW.assignee_agent_id IS DISTINCT FROM OLD.assignee_agent_id) THEN
    PERFORM agentflow.append_activity(NEW.tenant_id, NEW.project_id, NEW.id, 'task_assigned',
      format('Task "%s" assigned to %s', NEW.title,
             (SELECT a.code FROM agents a WHERE a.tenant_id = NEW.tenant_id AND a.id = NEW.assignee_agent_id)),
      jsonb_build_object('assigneeAgentId', NEW.assignee_agent_id), true);
  ELSIF NEW.assignee_user_id IS NOT NULL
     AND (TG_OP = 'INSERT' OR NEW.assignee_user_id IS DISTINCT FROM OLD.assignee_user_id) THEN
    PERFORM agentflow.append_activity(NEW.tenant_id, NEW.project_id, NEW.id, 'task_assigned',
      format('Task "%s" assigned to %s', NEW.title,
             (SELECT u.name FROM users u WHERE u.id = NEW.assignee_user_id)),
      jsonb_build_object('assigneeUserId', NEW.assignee_user_id), true);
  END IF;
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.record_task_activity() FROM PUBLIC;
CREATE TRIGGER tasks_activity AFTER INSERT OR UPDATE ON tasks
  FOR EACH ROW EXECUTE FUNCTION agentflow.record_task_activity();

-- What a task's changes mean on the timeline, in the same transaction: the events the seeds name
-- (task_assigned, task_blocked, task_completed, github_issue_assigned), and the task in the acting
-- agent's open work session (the tasks it touched). Every timeline event but the system ones has an
-- agent for author (events_system_author): the acting agent, else, when a person or a service acts,
-- the task's agent, the one the event is about (unless terminated or deleted: it may author nothing,
-- and a deleted one is not mentioned either).
-- A change with no agent to author it leaves no event (the activity feed has it). Not SECURITY
-- DEFINER: written as the caller, under its policies.
CREATE FUNCTION agentflow.record_task_change() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  actor_agent uuid := CASE WHEN current_setting('agentflow.actor_type', true) = 'agent'
                           THEN nullif(current_setting('agentflow.actor_id', true), '')::uuid END;
  status_changed boolean := TG_OP = 'UPDATE' AND NEW.status IS DISTINCT FROM OLD.status;
  newly_assigned boolean := NEW.assignee_agent_id IS NOT NULL
    AND (TG_OP = 'INSERT' OR NEW.assignee_agent_id IS DISTINCT FROM OLD.assignee_agent_id);
  assignee_mention uuid[] := '{}';
  assignee record;
  author uuid := actor_agent;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.deleted_at IS NOT NULL THEN
    RETURN NULL;
  END IF;
  IF newly_assigned OR (status_changed AND NEW.status IN ('blocked', 'completed')) THEN
    -- Mentioned while it exists (a mention names a live agent); the author unless terminated.
    SELECT a.id, a.status INTO assignee FROM agents a
     WHERE a.tenant_id = NEW.tenant_id AND a.id = NEW.assignee_agent_id AND a.deleted_at IS NULL;
    IF FOUND THEN
      assignee_mention := ARRAY[assignee.id];
      IF author IS NULL AND assignee.status <> 'terminated' THEN
        author := assignee.id;
      END IF;
    END IF;
    IF author IS NOT NULL AND newly_assigned THEN
      INSERT INTO events (tenant_id, type, project_id, author_id, mentions, payload)
      VALUES (NEW.tenant_id, 'task_assigned', NEW.project_id, author, assignee_mention, jsonb_strip_nulls(
        jsonb_build_object('taskId', NEW.id, 'title', NEW.title, 'description', left(NEW.description, 10000),
                           'priority', NEW.priority, 'deadline', NEW.deadline, 'assigneeId', NEW.assignee_agent_id)));
      IF NEW.github_issue_number IS NOT NULL THEN
        INSERT INTO events (tenant_id, type, project_id, author_id, mentions, payload)
        VALUES (NEW.tenant_id, 'github_issue_assigned', NEW.project_id, author, assignee_mention, jsonb_build_object(
          'repository', NEW.github_repository, 'number', NEW.github_issue_number, 'title', NEW.title,
          'url', format('https://github.com/%s/issues/%s', NEW.github_repository, NEW.github_issue_number),
          'assignee', (SELECT a.code FROM agents a WHERE a.tenant_id = NEW.tenant_id AND a.id = NEW.assignee_agent_id)));
      END IF;
    END IF;
    IF author IS NOT NULL AND status_changed AND NEW.status = 'blocked' THEN
      INSERT INTO events (tenant_id, type, project_id, author_id, mentions, payload)
      VALUES (NEW.tenant_id, 'task_blocked', NEW.project_id, author, assignee_mention,
              jsonb_build_object('taskId', NEW.id, 'reason', NEW.blocked_reason));
    ELSIF author IS NOT NULL AND status_changed AND NEW.status = 'completed' THEN
      INSERT INTO events (tenant_id, type, project_id, author_id, mentions, payload)
      VALUES (NEW.tenant_id, 'task_completed', NEW.project_id, author, assignee_mention,
              jsonb_strip_nulls(jsonb_build_object('taskId', NEW.id, 'title', NEW.title, 'durationMinutes',
                floor(extract(epoch FROM NEW.completed_at - NEW.started_at) / 60)::integer)));
    END IF;
  END IF;
  IF actor_agent IS NOT NULL THEN
    UPDATE work_sessions s SET tasks_worked_on = array_append(s.tasks_worked_on, NEW.id)
     WHERE s.tenant_id = NEW.tenant_id AND s.agent_id = actor_agent AND s.status <> 'stopped'
       AND NOT NEW.id = ANY (s.tasks_worked_on);
  END IF;
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.record_task_change() FROM PUBLIC;
CREATE TRIGGER tasks_recorded AFTER INSERT OR UPDATE ON tasks
  FOR EACH ROW EXECUTE FUNCTION agentflow.record_task_change();

GRANT CREATE ON SCHEMA agentflow TO agentflow_definer;
ALTER FUNCTION agentflow.append_activity(uuid, uuid, uuid, text, text, jsonb, boolean) OWNER TO agentflow_definer;
ALTER FUNCTION agentflow.record_activity() OWNER TO agentflow_definer;
ALTER FUNCTION agentflow.record_task_activity() OWNER TO agentflow_definer;
REVOKE CREATE ON SCHEMA agentflow FROM agentflow_definer;

-- DESIGN.md's soft deletes: a project deleted softly takes its live tasks with it, in the same
-- transaction, whoever writes (raw SQL included). They are then frozen (guard_task) and purged with
-- the project (agentflow.purge_deleted_work). Runs as the caller, under its policies.
CREATE FUNCTION agentflow.delete_project_tasks() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  UPDATE tasks t SET deleted_at = NEW.deleted_at
   WHERE t.tenant_id = NEW.tenant_id AND t.project_id = NEW.id AND t.deleted_at IS NULL;
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.delete_project_tasks() FROM PUBLIC;
CREATE TRIGGER projects_delete_tasks AFTER UPDATE OF deleted_at ON projects
  FOR EACH ROW WHEN (OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL)
  EXECUTE FUNCTION agentflow.delete_project_tasks();

-- The purge of what tenant work deleted softly (svc.tasks.purgeDeleted): tasks deleted more than
-- `older_than_days` days ago, then projects deleted that long ago (their timeline, sessions, agents
-- and feed go with them by cascade, run as the tables' owners). Each removed row leaves its own
-- audit row (the tables' audit triggers); this function adds one per tenant and table saying what
-- the purge removed (count, cutoff), naming the service actor, like the retention purge (migration
-- 9). SECURITY DEFINER (the cascades into append-only tables), EXECUTE for the service role only.
CREATE FUNCTION agentflow.purge_deleted_work(older_than_days integer)
  RETURNS TABLE (purged_tenant uuid, purged_table text, purged_rows bigint)
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  cutoff timestamptz;
  acting_type text := coalesce(nullif(current_setting('agentflow.actor_type', true), ''), 'system');
  acting_id text := coalesce(nullif(current_setting('agentflow.actor_id', true), ''), session_user::text);
  running_role text := coalesce(nullif(current_setting('role', true), 'none'), session_user::text);
  acting_context jsonb := nullif(current_setting('agentflow.request_context', true), '')::jsonb;
BEGIN
  IF older_than_days IS NULL OR older_than_days < 0 OR older_than_days > 36500 THEN
    RAISE EXCEPTION 'older_than_days must be a whole number of days from 0 to 36500, not %', older_than_days
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  cutoff := now() - make_interval(days => older_than_days);
  -- Tasks first, so that the count is of tasks; then projects (whose tasks are deleted with them).
  RETURN QUERY
    WITH gone AS (DELETE FROM tasks t WHERE t.deleted_at < cutoff RETURNING t.tenant_id),
    counted AS (SELECT g.tenant_id, count(*) AS n FROM gone g GROUP BY g.tenant_id),
    audited AS (
      INSERT INTO audit_logs (tenant_id, actor_type, actor_id, db_role, action, table_name, row_id,
                              old_values, new_values, request_context)
      SELECT c.tenant_id, acting_type, acting_id, running_role, 'delete', 'tasks', NULL,
             jsonb_build_object('purge', jsonb_build_object('purged', c.n, 'cutoff', cutoff,
                                                            'olderThanDays', older_than_days)),
             NULL, acting_context
        FROM counted c
      RETURNING 1)
    SELECT c.tenant_id, 'tasks'::text, c.n FROM counted c;
  RETURN QUERY
    WITH gone AS (DELETE FROM projects p WHERE p.deleted_at < cutoff RETURNING p.tenant_id),
    counted AS (SELECT g.tenant_id, count(*) AS n FROM gone g GROUP BY g.tenant_id),
    audited AS (
      INSERT INTO audit_logs (tenant_id, actor_type, actor_id, db_role, action, table_name, row_id,
                              old_values, new_values, request_context)
      SELECT c.tenant_id, acting_type, acting_id, running_role, 'delete', 'projects', NULL,
             jsonb_build_object('purge', jsonb_build_object('purged', c.n, 'cutoff', cutoff,
                                                            'olderThanDays', older_than_days)),
             NULL, acting_context
        FROM counted c
      RETURNING 1)
    SELECT c.tenant_id, 'projects'::text, c.n FROM counted c;
END $$;
REVOKE ALL ON FUNCTION agentflow.purge_deleted_work(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentflow.purge_deleted_work(integer) TO agentflow_service;

-- What a work session start counts (migration 7 counted no tasks, there were none): the tasks
-- assigned to the agent since its previous session stopped (a task_assigned event mentioning it
-- since then), still live and still its own; the repository returns them (workSessions.start).
CREATE OR REPLACE FUNCTION agentflow.record_session_event() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  previous record;
  mentioned integer;
  assigned integer;
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT s.id, s.stopped_at INTO previous
      FROM work_sessions s
     WHERE s.tenant_id = NEW.tenant_id AND s.agent_id = NEW.agent_id AND s.status = 'stopped'
     ORDER BY s.started_at DESC LIMIT 1;
    SELECT count(*) INTO mentioned
      FROM (SELECT 1 FROM event_mentions m
             WHERE m.tenant_id = NEW.tenant_id AND m.agent_id = NEW.agent_id
               AND m.occurred_at > coalesce(previous.stopped_at, '-infinity')
             LIMIT 1000) AS m;
    SELECT count(*) INTO assigned
      FROM (SELECT 1 FROM tasks t
             WHERE t.tenant_id = NEW.tenant_id AND t.assignee_agent_id = NEW.agent_id AND t.deleted_at IS NULL
               AND EXISTS (SELECT 1 FROM event_mentions m
                             JOIN events e ON e.tenant_id = m.tenant_id AND e.occurred_at = m.occurred_at
                                          AND e.id = m.event_id
                            WHERE m.tenant_id = NEW.tenant_id AND m.agent_id = NEW.agent_id
                              AND m.occurred_at > coalesce(previous.stopped_at, '-infinity')
                              AND e.type = 'task_assigned' AND e.payload ->> 'taskId' = t.id::text)
             LIMIT 1000) AS t;
    INSERT INTO events (tenant_id, type, project_id, session_id, payload)
    VALUES (NEW.tenant_id, 'session_start', NEW.project_id, NEW.id, jsonb_build_object(
      'agentId', NEW.agent_id,
      'previousSessionId', previous.id,
      'since', previous.stopped_at,
      'pulledUpdates', jsonb_build_object('mentions', mentioned, 'tasks', assigned)));
  ELSIF NEW.status = 'stopped' THEN
    INSERT INTO events (tenant_id, type, project_id, session_id, payload)
    VALUES (NEW.tenant_id, 'session_stop', NEW.project_id, NEW.id, jsonb_build_object(
      'agentId', NEW.agent_id,
      'durationSeconds', NEW.duration_seconds,
      'tasksWorkedOn', cardinality(NEW.tasks_worked_on)));
  END IF;
  RETURN NULL;
END $$;
