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
-- No DELETE: removing a session would cascade to its events, which are append-only. Sessions go
-- with their agent, project or tenant (the cascade runs as the table owner).
GRANT SELECT, INSERT, UPDATE ON work_sessions TO agentflow_app, agentflow_service;

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
  -- System events (written by the database) have no author; every other event has one.
  CONSTRAINT events_system_author CHECK ((type IN ('session_start', 'session_stop', 'kpi_updated',
    'trust_score_changed')) = (author_id IS NULL)),
  CONSTRAINT events_session_required CHECK (type NOT IN ('session_start', 'session_log', 'session_stop')
    OR session_id IS NOT NULL),
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
-- A project, session or author belongs to one tenant: without this the planner multiplies the
-- selectivities of tenant_id and project_id, expects a few rows where a project has thousands, and
-- sorts them all instead of reading the newest page off events_project_idx.
CREATE STATISTICS events_keys_stats (dependencies) ON tenant_id, project_id, session_id, author_id FROM events;
-- A point read by id (the primary key leads with occurred_at); not unique, so partitions need no id in it.
CREATE INDEX events_id_idx ON events (tenant_id, id);

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

-- Makes a log table append-only the way events are: <table>_append_only (UPDATE, DELETE but the
-- owner's) and <table>_no_truncate. What the retention purge (migration 9) accepts; db verify checks it.
CREATE FUNCTION agentflow.keep_append_only(target regclass) RETURNS void
  LANGUAGE plpgsql
  AS $$
DECLARE
  tbl text := (SELECT relname FROM pg_class WHERE oid = target);
BEGIN
  EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION agentflow.refuse_event_change()',
                 tbl || '_append_only', target);
  EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION agentflow.reject_mutation()',
                 tbl || '_no_truncate', target);
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.keep_append_only(regclass) FROM PUBLIC;
SELECT agentflow.keep_append_only('events');
SELECT agentflow.isolate_by_tenant('events');
GRANT SELECT, INSERT ON events TO agentflow_app, agentflow_service;
-- currval() for the guard below. The sequence tells how many events all tenants wrote, which any
-- event's id tells already.
GRANT SELECT ON SEQUENCE events_id_seq TO agentflow_app, agentflow_service;

-- One agent's mentions, newest first, is a page read as often as a project's: a GIN index on
-- events.mentions finds them but cannot give them in time order, so a page read and sorted every
-- event that ever mentioned the agent (measured: 48 times slower at 1,000,000 events than at
-- 10,000). This table holds one row per (event, mentioned agent), keyed for that page: a backward
-- range scan of its primary key, joined to the events by theirs, reads one page whatever the table
-- holds. Written only by the trigger below, from the events' own mentions; append-only like them.
CREATE TABLE event_mentions (
  tenant_id uuid NOT NULL,
  agent_id uuid NOT NULL,
  occurred_at timestamptz NOT NULL,
  event_id bigint NOT NULL,
  PRIMARY KEY (tenant_id, agent_id, occurred_at, event_id),
  CONSTRAINT event_mentions_event_fk FOREIGN KEY (tenant_id, occurred_at, event_id)
    REFERENCES events (tenant_id, occurred_at, id) ON DELETE CASCADE,
  CONSTRAINT event_mentions_agent_fk FOREIGN KEY (tenant_id, agent_id)
    REFERENCES agents (tenant_id, id) ON DELETE CASCADE
);
-- The cascade from a removed event (retention, a purged project) finds its rows by this index.
CREATE INDEX event_mentions_event_idx ON event_mentions (tenant_id, occurred_at, event_id);
SELECT agentflow.keep_append_only('event_mentions');
SELECT agentflow.isolate_by_tenant('event_mentions');
GRANT SELECT ON event_mentions TO agentflow_app, agentflow_service;
GRANT INSERT ON event_mentions TO agentflow_definer;

-- Fills event_mentions from each statement's new events. SECURITY DEFINER, owned by
-- agentflow_definer (0002_tenancy), because no application role may insert there; it acts under the
-- service role's policies and copies only what the events themselves say.
CREATE FUNCTION agentflow.index_event_mentions() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  INSERT INTO event_mentions (tenant_id, agent_id, occurred_at, event_id)
  SELECT n.tenant_id, m.id, n.occurred_at, n.id FROM new_events n, unnest(n.mentions) AS m(id);
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.index_event_mentions() FROM PUBLIC;
GRANT CREATE ON SCHEMA agentflow TO agentflow_definer;
ALTER FUNCTION agentflow.index_event_mentions() OWNER TO agentflow_definer;
REVOKE CREATE ON SCHEMA agentflow FROM agentflow_definer;
-- After events_checked (triggers of one kind fire in name order): only checked mentions are indexed.
CREATE TRIGGER events_mentions_indexed AFTER INSERT ON events REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION agentflow.index_event_mentions();

-- Who may write what, checked per row before the insert (settings only, no query):
-- - system events (session_start, session_stop, kpi_updated, trust_score_changed) come only from
--   the database's own triggers: an INSERT of one at trigger depth 1 is a caller's, and refused;
-- - an agent actor writes only as itself: its events' author defaults to it and may be no other;
-- - the time is the database's: an application role's event occurs at now(), the time of its
--   transaction (the owner may load history, for a bench or an import).
-- Not SECURITY DEFINER: it runs as the writer, so row-level security bounds what it reads.
CREATE FUNCTION agentflow.prepare_event() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  actor_type text := current_setting('agentflow.actor_type', true);
BEGIN
  -- An id is the sequence's: INSERT … OVERRIDING SYSTEM VALUE would let a caller pick one (and
  -- repeat another event's). The row's own nextval() is this session's currval().
  IF current_user IN ('agentflow_app', 'agentflow_service')
     AND NEW.id IS DISTINCT FROM currval('events_id_seq'::regclass) THEN
    RAISE EXCEPTION 'event ids are the database''s: % was given', NEW.id
      USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME, COLUMN = 'id';
  END IF;
  IF NEW.type IN ('session_start', 'session_stop', 'kpi_updated', 'trust_score_changed') THEN
    IF pg_trigger_depth() < 2 THEN
      RAISE EXCEPTION 'event type % is written by the database only', NEW.type
        USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME, COLUMN = 'type';
    END IF;
  ELSIF actor_type = 'agent' THEN
    NEW.author_id := coalesce(NEW.author_id, nullif(current_setting('agentflow.actor_id', true), '')::uuid);
    IF NEW.author_id IS DISTINCT FROM nullif(current_setting('agentflow.actor_id', true), '')::uuid THEN
      RAISE EXCEPTION 'an agent writes events only as itself, not as %', NEW.author_id
        USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME, COLUMN = 'author_id';
    END IF;
  END IF;
  IF current_user IN ('agentflow_app', 'agentflow_service') THEN
    NEW.occurred_at := now();
  END IF;
  -- An event of a session belongs to the session's project.
  IF NEW.session_id IS NOT NULL AND NEW.project_id IS NULL THEN
    NEW.project_id := (SELECT s.project_id FROM work_sessions s
                        WHERE s.tenant_id = NEW.tenant_id AND s.id = NEW.session_id);
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.prepare_event() FROM PUBLIC;
-- Called only for a row it would change or refuse: a condition is far cheaper than a PL/pgSQL call,
-- and an ordinary event of a batch (the database's time, its author given) needs neither.
CREATE TRIGGER events_prepare BEFORE INSERT ON events
  FOR EACH ROW WHEN (NEW.occurred_at IS DISTINCT FROM now()
    OR NEW.id IS DISTINCT FROM currval('events_id_seq'::regclass)
    OR NEW.type IN ('session_start', 'session_stop', 'kpi_updated', 'trust_score_changed')
    OR (NEW.session_id IS NOT NULL AND NEW.project_id IS NULL)
    OR (current_setting('agentflow.actor_type', true) = 'agent'
        AND NEW.author_id IS DISTINCT FROM nullif(current_setting('agentflow.actor_id', true), '')::uuid))
  EXECUTE FUNCTION agentflow.prepare_event();

-- What needs other rows, checked once per statement over all its events (a batch of 1,000 pays one
-- query per rule, not 1,000):
-- - an author is a live agent, not terminated;
-- - every mention names a live agent of the event's tenant;
-- - an event of a session is of the session's project, and (unless the database writes it) by the
--   session's agent into an open session. The session row is share-locked, so a concurrent stop
--   waits for this transaction, or this one sees the session stopped: nothing is logged after a stop;
-- - the first session_log of a session moves it from started to logging.
CREATE FUNCTION agentflow.check_events() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  bad record;
BEGIN
  SELECT e.author_id, a.status, a.deleted_at INTO bad
    FROM (SELECT DISTINCT n.tenant_id, n.author_id FROM new_events n WHERE n.author_id IS NOT NULL) e
    JOIN agents a ON a.tenant_id = e.tenant_id AND a.id = e.author_id
   WHERE a.status = 'terminated' OR a.deleted_at IS NOT NULL
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'agent % is %', bad.author_id, CASE WHEN bad.deleted_at IS NULL THEN 'terminated' ELSE 'deleted' END
      USING ERRCODE = 'AF033', TABLE = TG_TABLE_NAME, COLUMN = 'author_id';
  END IF;

  SELECT m.id INTO bad
    FROM (SELECT DISTINCT n.tenant_id, u.id FROM new_events n, unnest(n.mentions) AS u(id)) m
   WHERE NOT EXISTS (SELECT 1 FROM agents a
                      WHERE a.tenant_id = m.tenant_id AND a.id = m.id AND a.deleted_at IS NULL)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'agent % not found', bad.id
      USING ERRCODE = 'AF032', TABLE = TG_TABLE_NAME, COLUMN = 'mentions';
  END IF;

  IF NOT EXISTS (SELECT 1 FROM new_events n WHERE n.session_id IS NOT NULL) THEN
    RETURN NULL;
  END IF;
  PERFORM 1 FROM work_sessions s
   WHERE (s.tenant_id, s.id) IN (SELECT n.tenant_id, n.session_id FROM new_events n WHERE n.session_id IS NOT NULL)
     FOR SHARE;
  SELECT n.session_id, s.status, s.agent_id, n.author_id, s.project_id, n.project_id AS event_project INTO bad
    FROM new_events n
    JOIN work_sessions s ON s.tenant_id = n.tenant_id AND s.id = n.session_id
   WHERE n.project_id IS DISTINCT FROM s.project_id
      OR (n.author_id IS NOT NULL AND (n.author_id <> s.agent_id OR s.status = 'stopped'))
   LIMIT 1;
  IF FOUND THEN
    IF bad.event_project IS DISTINCT FROM bad.project_id THEN
      RAISE EXCEPTION 'work session % is of project %, not %', bad.session_id, bad.project_id, bad.event_project
        USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'project_id';
    ELSIF bad.status = 'stopped' THEN
      RAISE EXCEPTION 'work session % is stopped', bad.session_id
        USING ERRCODE = 'AF030', TABLE = 'work_sessions';
    END IF;
    RAISE EXCEPTION 'work session % is agent %''s, not %''s', bad.session_id, bad.agent_id, bad.author_id
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'author_id';
  END IF;
  UPDATE work_sessions s SET status = 'logging'
   WHERE s.status = 'started'
     AND (s.tenant_id, s.id) IN (SELECT n.tenant_id, n.session_id FROM new_events n WHERE n.type = 'session_log');
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.check_events() FROM PUBLIC;
CREATE TRIGGER events_checked AFTER INSERT ON events REFERENCING NEW TABLE AS new_events
  FOR EACH STATEMENT EXECUTE FUNCTION agentflow.check_events();

-- A session starts now, as started, by an agent that may work: not terminated, not deleted, and a
-- project agent only in its own project. An agent actor starts only its own sessions.
CREATE FUNCTION agentflow.start_work_session() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  agent record;
BEGIN
  IF current_setting('agentflow.actor_type', true) = 'agent'
     AND NEW.agent_id IS DISTINCT FROM nullif(current_setting('agentflow.actor_id', true), '')::uuid THEN
    RAISE EXCEPTION 'an agent starts only its own work sessions'
      USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME, COLUMN = 'agent_id';
  END IF;
  NEW.status := 'started';
  NEW.stopped_at := NULL;
  NEW.duration_seconds := NULL;
  NEW.tasks_worked_on := '{}';
  IF current_user IN ('agentflow_app', 'agentflow_service') THEN
    NEW.started_at := now();
  END IF;
  SELECT a.status, a.deleted_at, a.project_id INTO agent
    FROM agents a WHERE a.tenant_id = NEW.tenant_id AND a.id = NEW.agent_id;
  -- Not found (unknown, or another tenant's): row-level security or the foreign key refuses it.
  IF NOT FOUND THEN
    RETURN NEW;
  END IF;
  IF agent.deleted_at IS NOT NULL THEN
    RAISE EXCEPTION 'agent % is deleted', NEW.agent_id
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME, CONSTRAINT = 'work_sessions_agent_fk';
  END IF;
  IF agent.status = 'terminated' THEN
    RAISE EXCEPTION 'agent % is terminated', NEW.agent_id
      USING ERRCODE = 'AF033', TABLE = TG_TABLE_NAME, COLUMN = 'agent_id';
  END IF;
  IF agent.project_id IS NOT NULL AND agent.project_id <> NEW.project_id THEN
    RAISE EXCEPTION 'agent % works in project %, not %', NEW.agent_id, agent.project_id, NEW.project_id
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'project_id';
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.start_work_session() FROM PUBLIC;
CREATE TRIGGER work_sessions_start BEFORE INSERT ON work_sessions
  FOR EACH ROW EXECUTE FUNCTION agentflow.start_work_session();

-- A session moves started → logging → stopped (or started → stopped) and is frozen once stopped;
-- its agent, project, start and tasks already recorded never change; the database stamps the stop
-- and computes the duration. An agent actor changes only its own sessions.
CREATE FUNCTION agentflow.change_work_session() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  IF OLD.status = 'stopped' THEN
    RAISE EXCEPTION 'work session % is stopped', OLD.id
      USING ERRCODE = 'AF030', TABLE = TG_TABLE_NAME;
  END IF;
  IF current_setting('agentflow.actor_type', true) = 'agent'
     AND OLD.agent_id IS DISTINCT FROM nullif(current_setting('agentflow.actor_id', true), '')::uuid THEN
    RAISE EXCEPTION 'an agent changes only its own work sessions'
      USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME, COLUMN = 'agent_id';
  END IF;
  IF (NEW.tenant_id, NEW.id, NEW.agent_id, NEW.project_id, NEW.started_at, NEW.created_at)
     IS DISTINCT FROM (OLD.tenant_id, OLD.id, OLD.agent_id, OLD.project_id, OLD.started_at, OLD.created_at) THEN
    RAISE EXCEPTION 'a work session''s agent, project and start never change'
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME;
  END IF;
  IF NOT NEW.tasks_worked_on @> OLD.tasks_worked_on
     OR cardinality(NEW.tasks_worked_on) <> (SELECT count(DISTINCT t) FROM unnest(NEW.tasks_worked_on) AS t) THEN
    RAISE EXCEPTION 'tasks worked on are only added, each once'
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'tasks_worked_on';
  END IF;
  IF NEW.status = 'started' AND OLD.status = 'logging' THEN
    RAISE EXCEPTION 'work session % is logging, it cannot go back to started', OLD.id
      USING ERRCODE = 'AF031', TABLE = TG_TABLE_NAME, COLUMN = 'status';
  END IF;
  IF NEW.status = 'stopped' THEN
    NEW.stopped_at := now();
    NEW.duration_seconds := floor(extract(epoch FROM NEW.stopped_at - NEW.started_at))::integer;
  ELSE
    NEW.stopped_at := NULL;
    NEW.duration_seconds := NULL;
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.change_work_session() FROM PUBLIC;
CREATE TRIGGER work_sessions_change BEFORE UPDATE ON work_sessions
  FOR EACH ROW EXECUTE FUNCTION agentflow.change_work_session();

-- The system events of a session, in the transaction that starts or stops it. session_start counts
-- what changed for the agent since its previous session stopped (events mentioning it, up to 1,000;
-- tasks once a tasks table exists); the repository returns the events themselves.
CREATE FUNCTION agentflow.record_session_event() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  previous record;
  mentioned integer;
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
    INSERT INTO events (tenant_id, type, project_id, session_id, payload)
    VALUES (NEW.tenant_id, 'session_start', NEW.project_id, NEW.id, jsonb_build_object(
      'agentId', NEW.agent_id,
      'previousSessionId', previous.id,
      'since', previous.stopped_at,
      'pulledUpdates', jsonb_build_object('mentions', mentioned, 'tasks', 0)));
  ELSIF NEW.status = 'stopped' THEN
    INSERT INTO events (tenant_id, type, project_id, session_id, payload)
    VALUES (NEW.tenant_id, 'session_stop', NEW.project_id, NEW.id, jsonb_build_object(
      'agentId', NEW.agent_id,
      'durationSeconds', NEW.duration_seconds,
      'tasksWorkedOn', cardinality(NEW.tasks_worked_on)));
  END IF;
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.record_session_event() FROM PUBLIC;
CREATE TRIGGER work_sessions_events AFTER INSERT OR UPDATE OF status ON work_sessions
  FOR EACH ROW EXECUTE FUNCTION agentflow.record_session_event();

-- The timeline outlives what it mentions: a hard delete of a project by tenant work would cascade
-- into its events and sessions (run as the tables' owner, past the append-only guard). Tenant work
-- deletes projects softly (projects.delete); only the service role purges (agents: migration 6).
REVOKE DELETE ON projects FROM agentflow_app;
