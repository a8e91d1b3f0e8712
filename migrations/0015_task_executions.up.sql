-- Executions: one agent run on a task (seed 000's task_executions, 001/004's agent_executions), with
-- its tokens and cost, and the totals the database keeps of them: per task, per tenant, and per day
-- by project, agent and model (what the cost report reads). Cost is numeric everywhere, never a float.

CREATE TABLE task_executions (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id() REFERENCES tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  task_id uuid NOT NULL,
  agent_id uuid NOT NULL,
  -- The task's project, copied by the database (the cost report's dimension), never the caller's.
  project_id uuid NOT NULL,
  -- The agent's open work session the run belongs to (the database finds it when none is given).
  session_id uuid,
  status text NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'running', 'success', 'failure', 'timeout')),
  input jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(input) = 'object'),
  output jsonb CHECK (jsonb_typeof(output) = 'object'),
  error jsonb CHECK (jsonb_typeof(error) = 'object'),
  model_provider text CHECK (char_length(model_provider) BETWEEN 1 AND 100),
  model_name text CHECK (char_length(model_name) BETWEEN 1 AND 200),
  input_tokens bigint NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
  output_tokens bigint NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
  cached_tokens bigint NOT NULL DEFAULT 0 CHECK (cached_tokens >= 0),
  reasoning_tokens bigint NOT NULL DEFAULT 0 CHECK (reasoning_tokens >= 0),
  -- US dollars, exact to the millionth.
  cost_usd numeric(14, 6) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
  started_at timestamptz,
  finished_at timestamptz,
  duration_ms bigint CHECK (duration_ms >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT task_executions_task_fk FOREIGN KEY (tenant_id, task_id)
    REFERENCES tasks (tenant_id, id) ON DELETE CASCADE,
  -- Not cascading: an agent with a run on record is not removed from under it.
  CONSTRAINT task_executions_agent_fk FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id),
  CONSTRAINT task_executions_project_fk FOREIGN KEY (tenant_id, project_id)
    REFERENCES projects (tenant_id, id) ON DELETE CASCADE,
  -- Not cascading either: a session goes only with its agent (refused above) or its project (whose
  -- tasks, and so their runs, go in the same statement).
  CONSTRAINT task_executions_session_fk FOREIGN KEY (tenant_id, session_id)
    REFERENCES work_sessions (tenant_id, id),
  -- Timestamps follow the status (set by the trigger below): pending has not started, running has,
  -- a final run has finished; the duration is of a run that started and finished.
  CONSTRAINT task_executions_times CHECK (
    (status IN ('success', 'failure', 'timeout')) = (finished_at IS NOT NULL)
    AND (status <> 'pending' OR started_at IS NULL)
    AND (status <> 'running' OR started_at IS NOT NULL)
    AND (duration_ms IS NULL OR (started_at IS NOT NULL AND finished_at IS NOT NULL))),
  CONSTRAINT task_executions_error CHECK (error IS NULL OR status IN ('failure', 'timeout'))
);
-- A task's runs and an agent's runs (its history), newest first; the other keys' cascades.
CREATE INDEX task_executions_task_idx ON task_executions (tenant_id, task_id, created_at, id);
CREATE INDEX task_executions_agent_idx ON task_executions (tenant_id, agent_id, created_at, id);
CREATE INDEX task_executions_project_idx ON task_executions (tenant_id, project_id, created_at);
CREATE INDEX task_executions_session_idx ON task_executions (tenant_id, session_id) WHERE session_id IS NOT NULL;
SELECT agentflow.isolate_by_tenant('task_executions');
SELECT agentflow.track_changes('task_executions', 'tenant_id');
-- No DELETE: spend on record is not erased by tenant work (a purged task or project takes its runs
-- along, by cascade). Only what a run reports may be updated; the rest is fixed at insert.
GRANT SELECT, INSERT ON task_executions TO agentflow_app, agentflow_service;
GRANT UPDATE (status, output, error, input_tokens, output_tokens, cached_tokens, reasoning_tokens, cost_usd)
  ON task_executions TO agentflow_app, agentflow_service;

-- The state machine and what the database owns, for every writer (raw SQL included):
--   pending -> running -> success | failure | timeout, and pending -> failure; final runs are frozen.
--   Inserted as pending or running. started_at, finished_at and duration_ms are the database's.
--   Tokens and cost are recorded while running (or with the finish of a running run) and only grow.
--   An agent actor records and changes only its own runs; a terminated, inactive or deleted agent
--   gets no new run, nor an agent of another project than the task's. The project is the task's.
-- Not SECURITY DEFINER: it reads the task, agent and session as the writer, under its policies; a
-- row it cannot see (another tenant's) is left to row-level security and the foreign keys.
CREATE FUNCTION agentflow.guard_task_execution() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  is_agent boolean := current_setting('agentflow.actor_type', true) = 'agent';
  actor_agent uuid := CASE WHEN current_setting('agentflow.actor_type', true) = 'agent'
                           THEN nullif(current_setting('agentflow.actor_id', true), '')::uuid END;
  task record;
  agent record;
  session record;
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT t.project_id, t.deleted_at INTO task FROM tasks t WHERE t.tenant_id = NEW.tenant_id AND t.id = NEW.task_id;
    IF NOT FOUND THEN
      -- In the writer's own tenant the task does not exist; a row of another tenant (or written with
      -- no tenant set) is left to row-level security, which refuses it after this trigger.
      IF NEW.tenant_id = agentflow.current_tenant_id() THEN
        RAISE EXCEPTION 'task % not found', NEW.task_id
          USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME, CONSTRAINT = 'task_executions_task_fk',
                DETAIL = format('Key (tenant_id, task_id)=(%s, %s) is not present in table "tasks".', NEW.tenant_id, NEW.task_id);
      END IF;
      RETURN NEW;
    END IF;
    IF task.deleted_at IS NOT NULL THEN
      RAISE EXCEPTION 'task % is deleted', NEW.task_id USING ERRCODE = 'AF051', TABLE = 'tasks';
    END IF;
    NEW.project_id := task.project_id;
    IF is_agent AND NEW.agent_id IS DISTINCT FROM actor_agent THEN
      RAISE EXCEPTION 'an agent records only its own executions'
        USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME, COLUMN = 'agent_id';
    END IF;
    SELECT a.status, a.deleted_at, a.project_id, a.model_provider, a.model_name INTO agent
      FROM agents a WHERE a.tenant_id = NEW.tenant_id AND a.id = NEW.agent_id;
    IF FOUND THEN
      IF agent.deleted_at IS NOT NULL THEN
        RAISE EXCEPTION 'agent % is deleted', NEW.agent_id
          USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME, CONSTRAINT = 'task_executions_agent_fk';
      END IF;
      IF agent.status IN ('terminated', 'inactive') THEN
        RAISE EXCEPTION 'agent % is %: it runs nothing', NEW.agent_id, agent.status
          USING ERRCODE = 'AF033', TABLE = TG_TABLE_NAME, COLUMN = 'agent_id';
      END IF;
      IF agent.project_id IS NOT NULL AND agent.project_id <> NEW.project_id THEN
        RAISE EXCEPTION 'agent % works in project %, not %', NEW.agent_id, agent.project_id, NEW.project_id
          USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'agent_id';
      END IF;
      IF NEW.model_provider IS NULL AND NEW.model_name IS NULL THEN
        NEW.model_provider := agent.model_provider;
        NEW.model_name := agent.model_name;
      END IF;
    END IF;
    IF NEW.status NOT IN ('pending', 'running') THEN
      RAISE EXCEPTION 'task execution % cannot go from (new) to %', NEW.id, NEW.status
        USING ERRCODE = 'AF070', TABLE = TG_TABLE_NAME, COLUMN = 'status';
    END IF;
    IF NEW.status = 'pending' AND (NEW.input_tokens, NEW.output_tokens, NEW.cached_tokens, NEW.reasoning_tokens, NEW.cost_usd)
       IS DISTINCT FROM (0::bigint, 0::bigint, 0::bigint, 0::bigint, 0::numeric) THEN
      RAISE EXCEPTION 'task execution %: tokens and cost are recorded while it runs', NEW.id
        USING ERRCODE = 'AF072', TABLE = TG_TABLE_NAME, COLUMN = 'status';
    END IF;
    -- The session: the one given (the agent's, open, of the task's project), else the agent's open
    -- session of that project if it has one. Share-locked, so a concurrent stop waits for this run.
    IF NEW.session_id IS NULL THEN
      NEW.session_id := (SELECT s.id FROM work_sessions s
                          WHERE s.tenant_id = NEW.tenant_id AND s.agent_id = NEW.agent_id
                            AND s.status <> 'stopped' AND s.project_id = NEW.project_id
                            FOR SHARE);
    ELSE
      SELECT s.agent_id, s.project_id, s.status INTO session FROM work_sessions s
       WHERE s.tenant_id = NEW.tenant_id AND s.id = NEW.session_id FOR SHARE;
      IF FOUND THEN
        IF session.status = 'stopped' THEN
          RAISE EXCEPTION 'work session % is stopped', NEW.session_id USING ERRCODE = 'AF030', TABLE = 'work_sessions';
        END IF;
        IF session.agent_id <> NEW.agent_id OR session.project_id <> NEW.project_id THEN
          RAISE EXCEPTION 'work session % is agent %''s in project %, not agent %''s in project %', NEW.session_id,
            session.agent_id, session.project_id, NEW.agent_id, NEW.project_id
            USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'session_id';
        END IF;
      END IF;
    END IF;
    NEW.started_at := CASE WHEN NEW.status = 'running' THEN now() END;
    NEW.finished_at := NULL;
    NEW.duration_ms := NULL;
    IF current_user IN ('agentflow_app', 'agentflow_service') THEN
      NEW.created_at := now();
    END IF;
    RETURN NEW;
  END IF;

  IF OLD.status IN ('success', 'failure', 'timeout') THEN
    RAISE EXCEPTION 'task execution % is finished (%)', OLD.id, OLD.status
      USING ERRCODE = 'AF071', TABLE = TG_TABLE_NAME;
  END IF;
  IF is_agent AND OLD.agent_id IS DISTINCT FROM actor_agent THEN
    RAISE EXCEPTION 'an agent changes only its own executions'
      USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME, COLUMN = 'agent_id';
  END IF;
  IF (NEW.tenant_id, NEW.id, NEW.task_id, NEW.agent_id, NEW.project_id, NEW.session_id, NEW.input,
      NEW.model_provider, NEW.model_name, NEW.created_at)
     IS DISTINCT FROM (OLD.tenant_id, OLD.id, OLD.task_id, OLD.agent_id, OLD.project_id, OLD.session_id, OLD.input,
      OLD.model_provider, OLD.model_name, OLD.created_at) THEN
    RAISE EXCEPTION 'a task execution''s task, agent, session, input and model never change'
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME;
  END IF;
  IF NEW.status IS DISTINCT FROM OLD.status AND (OLD.status, NEW.status) NOT IN (
       ('pending', 'running'), ('pending', 'failure'),
       ('running', 'success'), ('running', 'failure'), ('running', 'timeout')) THEN
    RAISE EXCEPTION 'task execution % cannot go from % to %', OLD.id, OLD.status, NEW.status
      USING ERRCODE = 'AF070', TABLE = TG_TABLE_NAME, COLUMN = 'status';
  END IF;
  IF NEW.input_tokens < OLD.input_tokens OR NEW.output_tokens < OLD.output_tokens
     OR NEW.cached_tokens < OLD.cached_tokens OR NEW.reasoning_tokens < OLD.reasoning_tokens
     OR NEW.cost_usd < OLD.cost_usd THEN
    RAISE EXCEPTION 'task execution %: tokens and cost only grow', OLD.id
      USING ERRCODE = 'AF072', TABLE = TG_TABLE_NAME;
  END IF;
  IF OLD.status = 'pending' AND (NEW.input_tokens, NEW.output_tokens, NEW.cached_tokens, NEW.reasoning_tokens, NEW.cost_usd)
     IS DISTINCT FROM (OLD.input_tokens, OLD.output_tokens, OLD.cached_tokens, OLD.reasoning_tokens, OLD.cost_usd) THEN
    RAISE EXCEPTION 'task execution %: tokens and cost are recorded while it runs', OLD.id
      USING ERRCODE = 'AF072', TABLE = TG_TABLE_NAME, COLUMN = 'status';
  END IF;
  NEW.started_at := CASE WHEN OLD.status = 'pending' AND NEW.status = 'running' THEN now() ELSE OLD.started_at END;
  IF NEW.status IN ('success', 'failure', 'timeout') THEN
    NEW.finished_at := now();
    NEW.duration_ms := CASE WHEN NEW.started_at IS NOT NULL
                            THEN floor(extract(epoch FROM NEW.finished_at - NEW.started_at) * 1000)::bigint END;
  ELSE
    NEW.finished_at := NULL;
    NEW.duration_ms := NULL;
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.guard_task_execution() FROM PUBLIC;
CREATE TRIGGER task_executions_lifecycle BEFORE INSERT OR UPDATE ON task_executions
  FOR EACH ROW EXECUTE FUNCTION agentflow.guard_task_execution();

-- (Each counter is at least zero. No CHECK ties outcomes to runs: INSERT … ON CONFLICT checks the
-- row it would insert, a delta, before it adds it to the existing row.)
-- The totals, written only by the database (the trigger function below, as agentflow_definer): no
-- application role may insert or update them. Counters: runs recorded, runs finished by outcome,
-- tokens by kind, cost, and the summed duration of finished runs.
CREATE TABLE task_execution_totals (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id(),
  task_id uuid NOT NULL,
  executions bigint NOT NULL DEFAULT 0,
  succeeded bigint NOT NULL DEFAULT 0,
  failed bigint NOT NULL DEFAULT 0,
  timed_out bigint NOT NULL DEFAULT 0,
  input_tokens bigint NOT NULL DEFAULT 0,
  output_tokens bigint NOT NULL DEFAULT 0,
  cached_tokens bigint NOT NULL DEFAULT 0,
  reasoning_tokens bigint NOT NULL DEFAULT 0,
  cost_usd numeric(20, 6) NOT NULL DEFAULT 0,
  duration_ms bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, task_id),
  CONSTRAINT task_execution_totals_nonnegative CHECK (executions >= 0 AND succeeded >= 0 AND failed >= 0 AND timed_out >= 0
    AND input_tokens >= 0 AND output_tokens >= 0 AND cached_tokens >= 0 AND reasoning_tokens >= 0
    AND cost_usd >= 0 AND duration_ms >= 0),
  CONSTRAINT task_execution_totals_task_fk FOREIGN KEY (tenant_id, task_id)
    REFERENCES tasks (tenant_id, id) ON DELETE CASCADE
);
SELECT agentflow.isolate_by_tenant('task_execution_totals');

-- A tenant's lifetime totals; they keep the spend of runs whose task was purged since.
CREATE TABLE tenant_execution_totals (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id() REFERENCES tenants (id) ON DELETE CASCADE,
  executions bigint NOT NULL DEFAULT 0,
  succeeded bigint NOT NULL DEFAULT 0,
  failed bigint NOT NULL DEFAULT 0,
  timed_out bigint NOT NULL DEFAULT 0,
  input_tokens bigint NOT NULL DEFAULT 0,
  output_tokens bigint NOT NULL DEFAULT 0,
  cached_tokens bigint NOT NULL DEFAULT 0,
  reasoning_tokens bigint NOT NULL DEFAULT 0,
  cost_usd numeric(20, 6) NOT NULL DEFAULT 0,
  duration_ms bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id),
  CONSTRAINT tenant_execution_totals_nonnegative CHECK (executions >= 0 AND succeeded >= 0 AND failed >= 0 AND timed_out >= 0
    AND input_tokens >= 0 AND output_tokens >= 0 AND cached_tokens >= 0 AND reasoning_tokens >= 0
    AND cost_usd >= 0 AND duration_ms >= 0)
);
SELECT agentflow.isolate_by_tenant('tenant_execution_totals');

-- The same counters per UTC day, project, agent and model: what was recorded that day (tokens and
-- cost when reported, runs when recorded, outcomes when finished). '' is an unknown model.
CREATE TABLE execution_cost_daily (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id(),
  day date NOT NULL,
  project_id uuid NOT NULL,
  agent_id uuid NOT NULL,
  model_provider text NOT NULL DEFAULT '',
  model_name text NOT NULL DEFAULT '',
  executions bigint NOT NULL DEFAULT 0,
  succeeded bigint NOT NULL DEFAULT 0,
  failed bigint NOT NULL DEFAULT 0,
  timed_out bigint NOT NULL DEFAULT 0,
  input_tokens bigint NOT NULL DEFAULT 0,
  output_tokens bigint NOT NULL DEFAULT 0,
  cached_tokens bigint NOT NULL DEFAULT 0,
  reasoning_tokens bigint NOT NULL DEFAULT 0,
  cost_usd numeric(20, 6) NOT NULL DEFAULT 0,
  duration_ms bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, day, project_id, agent_id, model_provider, model_name),
  CONSTRAINT execution_cost_daily_nonnegative CHECK (executions >= 0 AND succeeded >= 0 AND failed >= 0 AND timed_out >= 0
    AND input_tokens >= 0 AND output_tokens >= 0 AND cached_tokens >= 0 AND reasoning_tokens >= 0
    AND cost_usd >= 0 AND duration_ms >= 0),
  CONSTRAINT execution_cost_daily_project_fk FOREIGN KEY (tenant_id, project_id)
    REFERENCES projects (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT execution_cost_daily_agent_fk FOREIGN KEY (tenant_id, agent_id)
    REFERENCES agents (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX execution_cost_daily_project_idx ON execution_cost_daily (tenant_id, project_id, day);
CREATE INDEX execution_cost_daily_agent_idx ON execution_cost_daily (tenant_id, agent_id, day);
SELECT agentflow.isolate_by_tenant('execution_cost_daily');

GRANT SELECT ON task_execution_totals, tenant_execution_totals, execution_cost_daily
  TO agentflow_app, agentflow_service;
GRANT SELECT, INSERT, UPDATE ON task_execution_totals, tenant_execution_totals, execution_cost_daily
  TO agentflow_definer;

-- Adds what a run's insert or update changed to the three totals, in the writer's transaction:
-- INSERT … ON CONFLICT DO UPDATE SET x = x + EXCLUDED.x, so concurrent finishes never lose one.
-- Rows are locked in one order (task, day bucket, tenant). SECURITY DEFINER, owned by
-- agentflow_definer (no application role may write the totals); it copies only the run's own values.
CREATE FUNCTION agentflow.count_task_execution() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  recorded bigint := 0;
  succeeded bigint := 0;
  failed bigint := 0;
  timed_out bigint := 0;
  d_input bigint := NEW.input_tokens;
  d_output bigint := NEW.output_tokens;
  d_cached bigint := NEW.cached_tokens;
  d_reasoning bigint := NEW.reasoning_tokens;
  d_cost numeric := NEW.cost_usd;
  d_duration bigint := 0;
BEGIN
  IF TG_OP = 'INSERT' THEN
    recorded := 1;
  ELSE
    d_input := NEW.input_tokens - OLD.input_tokens;
    d_output := NEW.output_tokens - OLD.output_tokens;
    d_cached := NEW.cached_tokens - OLD.cached_tokens;
    d_reasoning := NEW.reasoning_tokens - OLD.reasoning_tokens;
    d_cost := NEW.cost_usd - OLD.cost_usd;
    IF NEW.status IS DISTINCT FROM OLD.status AND NEW.status IN ('success', 'failure', 'timeout') THEN
      succeeded := (NEW.status = 'success')::int;
      failed := (NEW.status = 'failure')::int;
      timed_out := (NEW.status = 'timeout')::int;
      d_duration := coalesce(NEW.duration_ms, 0);
    END IF;
  END IF;
  INSERT INTO task_execution_totals AS x (tenant_id, task_id, executions, succeeded, failed, timed_out,
      input_tokens, output_tokens, cached_tokens, reasoning_tokens, cost_usd, duration_ms)
  VALUES (NEW.tenant_id, NEW.task_id, recorded, succeeded, failed, timed_out,
      d_input, d_output, d_cached, d_reasoning, d_cost, d_duration)
  ON CONFLICT (tenant_id, task_id) DO UPDATE SET
    executions = x.executions + EXCLUDED.executions, succeeded = x.succeeded + EXCLUDED.succeeded,
    failed = x.failed + EXCLUDED.failed, timed_out = x.timed_out + EXCLUDED.timed_out,
    input_tokens = x.input_tokens + EXCLUDED.input_tokens, output_tokens = x.output_tokens + EXCLUDED.output_tokens,
    cached_tokens = x.cached_tokens + EXCLUDED.cached_tokens,
    reasoning_tokens = x.reasoning_tokens + EXCLUDED.reasoning_tokens,
    cost_usd = x.cost_usd + EXCLUDED.cost_usd, duration_ms = x.duration_ms + EXCLUDED.duration_ms,
    updated_at = now();
  INSERT INTO execution_cost_daily AS x (tenant_id, day, project_id, agent_id, model_provider, model_name,
      executions, succeeded, failed, timed_out, input_tokens, output_tokens, cached_tokens, reasoning_tokens,
      cost_usd, duration_ms)
  VALUES (NEW.tenant_id, (now() AT TIME ZONE 'UTC')::date, NEW.project_id, NEW.agent_id,
      coalesce(NEW.model_provider, ''), coalesce(NEW.model_name, ''), recorded, succeeded, failed, timed_out,
      d_input, d_output, d_cached, d_reasoning, d_cost, d_duration)
  ON CONFLICT (tenant_id, day, project_id, agent_id, model_provider, model_name) DO UPDATE SET
    executions = x.executions + EXCLUDED.executions, succeeded = x.succeeded + EXCLUDED.succeeded,
    failed = x.failed + EXCLUDED.failed, timed_out = x.timed_out + EXCLUDED.timed_out,
    input_tokens = x.input_tokens + EXCLUDED.input_tokens, output_tokens = x.output_tokens + EXCLUDED.output_tokens,
    cached_tokens = x.cached_tokens + EXCLUDED.cached_tokens,
    reasoning_tokens = x.reasoning_tokens + EXCLUDED.reasoning_tokens,
    cost_usd = x.cost_usd + EXCLUDED.cost_usd, duration_ms = x.duration_ms + EXCLUDED.duration_ms,
    updated_at = now();
  INSERT INTO tenant_execution_totals AS x (tenant_id, executions, succeeded, failed, timed_out,
      input_tokens, output_tokens, cached_tokens, reasoning_tokens, cost_usd, duration_ms)
  VALUES (NEW.tenant_id, recorded, succeeded, failed, timed_out,
      d_input, d_output, d_cached, d_reasoning, d_cost, d_duration)
  ON CONFLICT (tenant_id) DO UPDATE SET
    executions = x.executions + EXCLUDED.executions, succeeded = x.succeeded + EXCLUDED.succeeded,
    failed = x.failed + EXCLUDED.failed, timed_out = x.timed_out + EXCLUDED.timed_out,
    input_tokens = x.input_tokens + EXCLUDED.input_tokens, output_tokens = x.output_tokens + EXCLUDED.output_tokens,
    cached_tokens = x.cached_tokens + EXCLUDED.cached_tokens,
    reasoning_tokens = x.reasoning_tokens + EXCLUDED.reasoning_tokens,
    cost_usd = x.cost_usd + EXCLUDED.cost_usd, duration_ms = x.duration_ms + EXCLUDED.duration_ms,
    updated_at = now();
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.count_task_execution() FROM PUBLIC;
CREATE TRIGGER task_executions_counted AFTER INSERT ON task_executions
  FOR EACH ROW EXECUTE FUNCTION agentflow.count_task_execution();
CREATE TRIGGER task_executions_recounted AFTER UPDATE ON task_executions
  FOR EACH ROW WHEN ((old.status IS DISTINCT FROM new.status)
    OR (old.input_tokens, old.output_tokens, old.cached_tokens, old.reasoning_tokens, old.cost_usd)
       IS DISTINCT FROM (new.input_tokens, new.output_tokens, new.cached_tokens, new.reasoning_tokens, new.cost_usd))
  EXECUTE FUNCTION agentflow.count_task_execution();

-- The activity feed's entries of a run: recorded (queued or started) and finished, with its outcome,
-- tokens and cost. SECURITY DEFINER and owned by agentflow_definer like record_activity (migration 13).
CREATE FUNCTION agentflow.record_execution_activity() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  title text := (SELECT t.title FROM tasks t WHERE t.tenant_id = NEW.tenant_id AND t.id = NEW.task_id);
  code text := (SELECT a.code FROM agents a WHERE a.tenant_id = NEW.tenant_id AND a.id = NEW.agent_id);
  model text := CASE WHEN NEW.model_name IS NOT NULL
                     THEN format(' (%s)', concat_ws('/', NEW.model_provider, NEW.model_name)) ELSE '' END;
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM agentflow.append_activity(NEW.tenant_id, NEW.project_id, NEW.task_id, 'execution_recorded',
      format('%s %s task "%s"%s', code, CASE WHEN NEW.status = 'running' THEN 'started running' ELSE 'queued a run of' END,
             title, model),
      jsonb_build_object('id', NEW.id, 'agentId', NEW.agent_id, 'status', NEW.status,
                         'modelProvider', NEW.model_provider, 'modelName', NEW.model_name), true);
  ELSIF NEW.status IS DISTINCT FROM OLD.status AND NEW.status IN ('success', 'failure', 'timeout') THEN
    PERFORM agentflow.append_activity(NEW.tenant_id, NEW.project_id, NEW.task_id, 'execution_finished',
      format('%s''s run of task "%s" ended in %s: %s tokens, $%s', code, title, NEW.status,
             NEW.input_tokens + NEW.output_tokens + NEW.cached_tokens + NEW.reasoning_tokens, NEW.cost_usd),
      jsonb_build_object('id', NEW.id, 'agentId', NEW.agent_id, 'status', NEW.status,
                         'inputTokens', NEW.input_tokens, 'outputTokens', NEW.output_tokens,
                         'cachedTokens', NEW.cached_tokens, 'reasoningTokens', NEW.reasoning_tokens,
                         -- Text, not a JSON number: a reader must not get the cost as a float.
                         'costUsd', NEW.cost_usd::text, 'durationMs', NEW.duration_ms), true);
  END IF;
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.record_execution_activity() FROM PUBLIC;
CREATE TRIGGER task_executions_activity AFTER INSERT OR UPDATE OF status ON task_executions
  FOR EACH ROW EXECUTE FUNCTION agentflow.record_execution_activity();

GRANT CREATE ON SCHEMA agentflow TO agentflow_definer;
ALTER FUNCTION agentflow.count_task_execution() OWNER TO agentflow_definer;
ALTER FUNCTION agentflow.record_execution_activity() OWNER TO agentflow_definer;
REVOKE CREATE ON SCHEMA agentflow FROM agentflow_definer;
