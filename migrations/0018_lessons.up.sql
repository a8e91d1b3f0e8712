-- Knowledge the agents learn (seed 000): lessons with ranked full-text search and a success rate
-- moved by outcomes, self-reviews per task / execution and iteration, and detected patterns counted
-- by a stable fingerprint.

-- Tags of a lesson: lowercase words, none NULL, none repeated (the contract normalises them).
CREATE FUNCTION agentflow.valid_tags(tags text[]) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE SET search_path = pg_catalog, public, pg_temp
  AS $$
    SELECT cardinality(tags) <= 50
       AND NOT EXISTS (SELECT 1 FROM unnest(tags) AS t(tag) WHERE tag IS NULL OR tag !~ '^[a-z0-9][a-z0-9._+#/-]{0,49}$')
       AND cardinality(tags) = (SELECT count(DISTINCT tag) FROM unnest(tags) AS t(tag))
  $$;
-- A CHECK runs its function with the writer's privileges: the roles that write lessons may execute it.
REVOKE EXECUTE ON FUNCTION agentflow.valid_tags(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentflow.valid_tags(text[]) TO agentflow_app, agentflow_service;

CREATE TABLE lessons (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id() REFERENCES tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  category text NOT NULL CHECK (category ~ '^[a-z0-9]([a-z0-9_-]{0,48}[a-z0-9])?$'),
  title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 300),
  summary text NOT NULL CHECK (char_length(summary) BETWEEN 1 AND 2000),
  details text NOT NULL DEFAULT '' CHECK (char_length(details) <= 50000),
  tags text[] NOT NULL DEFAULT '{}' CHECK (agentflow.valid_tags(tags)),
  source_agent_type text NOT NULL CHECK (source_agent_type IN ('orchestrator', 'project_manager', 'architect',
    'analyst', 'ui_designer', 'frontend_dev', 'backend_dev', 'tester', 'bug_fixer', 'reviewer', 'git_agent')),
  source_agent_id uuid,
  task_id uuid,
  confidence double precision NOT NULL DEFAULT 0.5 CHECK (confidence BETWEEN 0 AND 1),
  application_count integer NOT NULL DEFAULT 0 CHECK (application_count >= 0),
  -- How many outcomes moved success_rate; also the position of each outcome in commit order.
  outcome_count integer NOT NULL DEFAULT 0 CHECK (outcome_count >= 0),
  success_rate double precision CHECK (success_rate BETWEEN 0 AND 1),
  human_validated boolean NOT NULL DEFAULT false,
  -- The user who validated it: a record of who, like an audit row's actor (no foreign key: a member
  -- who leaves the tenant does not take the record of their validation with them).
  validated_by uuid,
  validated_at timestamptz,
  -- Weighted fields for ranked search: title A, summary B, details C. The configuration is named as
  -- a regconfig, so to_tsvector is IMMUTABLE and may back a stored column.
  search_vector tsvector NOT NULL GENERATED ALWAYS AS (
    setweight(to_tsvector('english'::regconfig, title), 'A')
    || setweight(to_tsvector('english'::regconfig, summary), 'B')
    || setweight(to_tsvector('english'::regconfig, details), 'C')) STORED,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT lessons_outcomes CHECK ((outcome_count = 0) = (success_rate IS NULL)),
  CONSTRAINT lessons_validated CHECK (human_validated = (validated_by IS NOT NULL)
    AND (validated_by IS NULL) = (validated_at IS NULL)),
  CONSTRAINT lessons_source_agent_fk FOREIGN KEY (tenant_id, source_agent_id)
    REFERENCES agents (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT lessons_task_fk FOREIGN KEY (tenant_id, task_id)
    REFERENCES tasks (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX lessons_list_idx ON lessons (tenant_id, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX lessons_category_idx ON lessons (tenant_id, category, created_at, id) WHERE deleted_at IS NULL;
CREATE INDEX lessons_source_agent_idx ON lessons (tenant_id, source_agent_id) WHERE source_agent_id IS NOT NULL;
CREATE INDEX lessons_task_idx ON lessons (tenant_id, task_id) WHERE task_id IS NOT NULL;
-- GIN cannot hold the uuid tenant_id without the btree_gin extension (not loaded by the embedded
-- engine), and a GIN index on the words alone makes one tenant's search read every tenant's matches
-- (measured: 10× the rows, 5.6× the time). So the tenant goes into the indexed vector as one more
-- lexeme, and a search ANDs it into its query: the index returns the tenant's matches only. The
-- lexeme has no position, so ranking (on search_vector alone) never sees it.
-- No SET search_path (names qualified instead): it would keep the planner from inlining them, and
-- a search would then call a function per row it rechecks.
CREATE FUNCTION agentflow.tenant_lexeme(tenant uuid) RETURNS tsvector
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT pg_catalog.array_to_tsvector(ARRAY['t' || pg_catalog.replace(tenant::text, '-', '')]) $$;
CREATE FUNCTION agentflow.tenant_query(tenant uuid) RETURNS tsquery
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT ('t' || pg_catalog.replace(tenant::text, '-', ''))::pg_catalog.tsquery $$;
REVOKE ALL ON FUNCTION agentflow.tenant_lexeme(uuid), agentflow.tenant_query(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentflow.tenant_lexeme(uuid), agentflow.tenant_query(uuid)
  TO agentflow_app, agentflow_service, agentflow_definer;
-- db verify accepts GIN indexes that do not lead with tenant_id; the search function below
-- confines every use to the caller's tenant.
CREATE INDEX lessons_search_idx ON lessons USING gin ((search_vector || agentflow.tenant_lexeme(tenant_id)))
  WHERE deleted_at IS NULL;
CREATE INDEX lessons_tags_idx ON lessons USING gin (tags) WHERE deleted_at IS NULL;
SELECT agentflow.isolate_by_tenant('lessons');
SELECT agentflow.track_changes('lessons', 'tenant_id');
-- Tenant work deletes lessons softly; the service role purges.
GRANT SELECT, INSERT, UPDATE ON lessons TO agentflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON lessons TO agentflow_service;

-- Whether the unit's actor is a human member of its tenant: a user whose membership is not the
-- `service` role. Who may validate a lesson, and cite evidence (migration 20). Not SECURITY
-- DEFINER: it reads memberships as the caller, within its tenant.
CREATE FUNCTION agentflow.actor_is_human_member() RETURNS boolean
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  -- Checked first, so an actor id that is not a uuid is never cast.
  IF current_setting('agentflow.actor_type', true) IS DISTINCT FROM 'user' THEN
    RETURN false;
  END IF;
  RETURN EXISTS (SELECT 1 FROM memberships m
                  WHERE m.tenant_id = agentflow.current_tenant_id()
                    AND m.user_id = nullif(current_setting('agentflow.actor_id', true), '')::uuid
                    AND m.role <> 'service');
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.actor_is_human_member() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentflow.actor_is_human_member() TO agentflow_app, agentflow_service;

-- The rules of a lesson, for every writer (raw SQL included):
-- - only a human member of the tenant (a user actor whose membership is not the `service` role)
--   sets or clears human_validated; the database stamps who and when. The service role (operators)
--   names the user itself (validated_by) and is not concerned.
-- - the counters are the database's: a new lesson starts unapplied with no outcome, and
--   application_count / outcome_count never go back; a deleted lesson is frozen (gone to readers).
CREATE FUNCTION agentflow.guard_lesson() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  app boolean := current_user = 'agentflow_app';
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.deleted_at IS NOT NULL THEN
    RAISE EXCEPTION 'lesson % is deleted', OLD.id USING ERRCODE = 'AF101', TABLE = TG_TABLE_NAME;
  END IF;
  IF TG_OP = 'UPDATE' AND (NEW.tenant_id, NEW.id, NEW.created_at) IS DISTINCT FROM (OLD.tenant_id, OLD.id, OLD.created_at) THEN
    RAISE EXCEPTION 'a lesson''s id and creation time never change' USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME;
  END IF;
  IF app THEN
    IF TG_OP = 'INSERT' THEN
      NEW.application_count := 0;
      NEW.outcome_count := 0;
      NEW.success_rate := NULL;
      NEW.deleted_at := NULL;
      NEW.created_at := now();
    ELSIF NEW.application_count < OLD.application_count OR NEW.outcome_count < OLD.outcome_count
          OR (NEW.outcome_count = OLD.outcome_count AND NEW.success_rate IS DISTINCT FROM OLD.success_rate) THEN
      RAISE EXCEPTION 'a lesson''s application count and success rate only move forward, one outcome at a time'
        USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME;
    END IF;
  END IF;
  IF (TG_OP = 'INSERT' AND NEW.human_validated)
     OR (TG_OP = 'UPDATE' AND NEW.human_validated IS DISTINCT FROM OLD.human_validated) THEN
    IF app THEN
      IF NOT agentflow.actor_is_human_member() THEN
        RAISE EXCEPTION 'only a human member of the tenant validates a lesson'
          USING ERRCODE = 'AF100', TABLE = TG_TABLE_NAME, COLUMN = 'human_validated';
      END IF;
      NEW.validated_by := CASE WHEN NEW.human_validated THEN current_setting('agentflow.actor_id', true)::uuid END;
      NEW.validated_at := CASE WHEN NEW.human_validated THEN now() END;
    ELSE
      NEW.validated_at := CASE WHEN NEW.human_validated THEN coalesce(NEW.validated_at, now()) END;
    END IF;
  ELSIF app THEN
    -- Unchanged validation keeps its stamp; an unvalidated new lesson has none.
    IF TG_OP = 'INSERT' THEN
      NEW.validated_by := NULL;
      NEW.validated_at := NULL;
    ELSE
      NEW.validated_by := OLD.validated_by;
      NEW.validated_at := OLD.validated_at;
    END IF;
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.guard_lesson() FROM PUBLIC;
CREATE TRIGGER lessons_guard BEFORE INSERT OR UPDATE ON lessons
  FOR EACH ROW EXECUTE FUNCTION agentflow.guard_lesson();

-- Ranked search for tenant work. Under the app role's tenant policy PostgreSQL may not use
-- lessons_search_idx: @@ is not LEAKPROOF, so it may only filter rows after the policy's tenant
-- condition, i.e. read every lesson of the tenant (measured: a sequential scan or a tenant index
-- scan, see bench/lessons-bench.ts). This function runs as agentflow_definer (the service policy,
-- which lets the GIN index serve) and is confined to the unit's own tenant by current_tenant_id()
-- and to live lessons, so it returns nothing the caller could not read. It returns one page of ids
-- with their rank, ordered by rank, then confidence, then id (all descending), after a cursor.
CREATE FUNCTION agentflow.search_lessons(words text, wanted_category text, wanted_tags text[], all_tags boolean,
    after_rank double precision, after_confidence double precision, after_id uuid, max_rows integer)
  RETURNS TABLE (id uuid, rank double precision)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp ROWS 100
  AS $$
DECLARE
  -- Computed once, and planned as values: the planner sees the query's selectivity and the tenant.
  wanted tsquery := websearch_to_tsquery('english'::regconfig, words);
  tenant uuid := agentflow.current_tenant_id();
BEGIN
  -- Stop words only: an empty query, which ANDed with the tenant would match all of its lessons.
  IF numnode(wanted) = 0 THEN
    RETURN;
  END IF;
  RETURN QUERY
    SELECT m.id, m.rank
      FROM (SELECT l.id, l.confidence, ts_rank_cd(l.search_vector, wanted)::double precision AS rank
              FROM lessons l
             WHERE l.tenant_id = tenant
               AND l.deleted_at IS NULL
               AND (l.search_vector || agentflow.tenant_lexeme(l.tenant_id)) @@ (wanted && agentflow.tenant_query(tenant))
               AND (wanted_category IS NULL OR l.category = wanted_category)
               AND (wanted_tags IS NULL
                    OR (all_tags AND l.tags @> wanted_tags)
                    OR (NOT all_tags AND l.tags && wanted_tags))) AS m
     WHERE after_id IS NULL OR (m.rank, m.confidence, m.id) < (after_rank, after_confidence, after_id)
     ORDER BY m.rank DESC, m.confidence DESC, m.id DESC
     LIMIT max_rows;
END $$;
REVOKE ALL ON FUNCTION agentflow.search_lessons(text, text, text[], boolean, double precision, double precision, uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentflow.search_lessons(text, text, text[], boolean, double precision, double precision, uuid, integer) TO agentflow_app;
GRANT CREATE ON SCHEMA agentflow TO agentflow_definer;
ALTER FUNCTION agentflow.search_lessons(text, text, text[], boolean, double precision, double precision, uuid, integer) OWNER TO agentflow_definer;
REVOKE CREATE ON SCHEMA agentflow FROM agentflow_definer;

-- One agent's self-review of its work on a task (and, when it has one, the execution), per iteration.
CREATE TABLE self_reviews (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id() REFERENCES tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  task_id uuid NOT NULL,
  -- The run reviewed, if any: a run of the review's task (checked below).
  execution_id uuid,
  iteration integer NOT NULL CHECK (iteration BETWEEN 1 AND 1000),
  agent_type text NOT NULL CHECK (agent_type IN ('orchestrator', 'project_manager', 'architect',
    'analyst', 'ui_designer', 'frontend_dev', 'backend_dev', 'tester', 'bug_fixer', 'reviewer', 'git_agent')),
  agent_id uuid,
  -- Scores from 0 to 1.
  quality_score double precision NOT NULL CHECK (quality_score BETWEEN 0 AND 1),
  completeness_score double precision NOT NULL CHECK (completeness_score BETWEEN 0 AND 1),
  correctness_score double precision NOT NULL CHECK (correctness_score BETWEEN 0 AND 1),
  overall_score double precision NOT NULL CHECK (overall_score BETWEEN 0 AND 1),
  gaps jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(gaps) = 'array' AND jsonb_array_length(gaps) <= 200),
  requirements jsonb NOT NULL DEFAULT '[]'
    CHECK (jsonb_typeof(requirements) = 'array' AND jsonb_array_length(requirements) <= 200),
  decision text NOT NULL CHECK (decision IN ('accept', 'iterate', 'escalate')),
  reasoning text CHECK (char_length(reasoning) <= 20000),
  duration_ms integer CHECK (duration_ms >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT self_reviews_task_fk FOREIGN KEY (tenant_id, task_id)
    REFERENCES tasks (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT self_reviews_agent_fk FOREIGN KEY (tenant_id, agent_id)
    REFERENCES agents (tenant_id, id) ON DELETE CASCADE,
  -- A review goes with its run, as the run goes with its task (artifacts_execution_fk alike).
  CONSTRAINT self_reviews_execution_fk FOREIGN KEY (tenant_id, execution_id)
    REFERENCES task_executions (tenant_id, id) ON DELETE CASCADE
);
-- One review per iteration: of the execution when there is one, else of the task.
CREATE UNIQUE INDEX self_reviews_execution_iteration_key ON self_reviews (tenant_id, execution_id, iteration)
  WHERE execution_id IS NOT NULL;
CREATE UNIQUE INDEX self_reviews_task_iteration_key ON self_reviews (tenant_id, task_id, iteration)
  WHERE execution_id IS NULL;
CREATE INDEX self_reviews_task_idx ON self_reviews (tenant_id, task_id, created_at, id);
CREATE INDEX self_reviews_trend_idx ON self_reviews (tenant_id, agent_type, created_at);
CREATE INDEX self_reviews_agent_idx ON self_reviews (tenant_id, agent_id) WHERE agent_id IS NOT NULL;
SELECT agentflow.isolate_by_tenant('self_reviews');
-- The run reviewed is a run of the review's task, as an artifact's (prepare_artifact, migration
-- 16): unknown or another tenant's, the foreign key says so; here it is another task's.
CREATE FUNCTION agentflow.guard_self_review() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  IF NEW.execution_id IS NOT NULL AND EXISTS (
       SELECT 1 FROM task_executions e
        WHERE e.tenant_id = NEW.tenant_id AND e.id = NEW.execution_id AND e.task_id <> NEW.task_id) THEN
    RAISE EXCEPTION 'execution % is not a run of task %', NEW.execution_id, NEW.task_id
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'execution_id';
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.guard_self_review() FROM PUBLIC;
CREATE TRIGGER self_reviews_guard BEFORE INSERT OR UPDATE OF task_id, execution_id ON self_reviews
  FOR EACH ROW EXECUTE FUNCTION agentflow.guard_self_review();
-- Audited like every table, without track_changes' updated_at trigger: a review has no updated_at.
CREATE TRIGGER self_reviews_audit AFTER INSERT OR UPDATE OR DELETE ON self_reviews
  FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id');
-- A review is a record of what the agent thought then: written once, never changed by tenant work.
GRANT SELECT, INSERT ON self_reviews TO agentflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON self_reviews TO agentflow_service;

-- Detected patterns (recurring mistakes, successful approaches…), one row per fingerprint: the
-- sha256 of the type, the agent type and the key normalised (lowercase, whitespace collapsed), so
-- the same pattern found again is the same row whoever computes it.
CREATE TABLE patterns (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id() REFERENCES tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  pattern_type text NOT NULL CHECK (pattern_type ~ '^[a-z0-9]([a-z0-9_-]{0,48}[a-z0-9])?$'),
  agent_type text CHECK (agent_type IN ('orchestrator', 'project_manager', 'architect',
    'analyst', 'ui_designer', 'frontend_dev', 'backend_dev', 'tester', 'bug_fixer', 'reviewer', 'git_agent')),
  pattern_key text NOT NULL CHECK (char_length(pattern_key) BETWEEN 1 AND 500 AND btrim(pattern_key) <> ''),
  description text NOT NULL CHECK (char_length(description) BETWEEN 1 AND 5000),
  example jsonb CHECK (jsonb_typeof(example) = 'object'),
  fingerprint text NOT NULL GENERATED ALWAYS AS (agentflow.sha256_hex(pattern_type || E'\n'
    || coalesce(agent_type, '') || E'\n' || lower(btrim(regexp_replace(pattern_key, '\s+', ' ', 'g'))))) STORED,
  frequency integer NOT NULL DEFAULT 1 CHECK (frequency >= 1),
  first_seen timestamptz NOT NULL DEFAULT now(),
  last_seen timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT patterns_fingerprint_key UNIQUE (tenant_id, fingerprint),
  CONSTRAINT patterns_seen CHECK (last_seen >= first_seen)
);
CREATE INDEX patterns_frequency_idx ON patterns (tenant_id, frequency, id);
CREATE INDEX patterns_type_idx ON patterns (tenant_id, pattern_type, agent_type);
SELECT agentflow.isolate_by_tenant('patterns');
SELECT agentflow.track_changes('patterns', 'tenant_id');
GRANT SELECT, INSERT, UPDATE ON patterns TO agentflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON patterns TO agentflow_service;

-- The counts of a pattern are the database's, for tenant work (raw SQL included): a new pattern is
-- seen once, now; seeing it again only adds to its frequency and moves last_seen forward; what it
-- is (type, agent type, key) and when it was first seen never change.
CREATE FUNCTION agentflow.guard_pattern() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  IF current_user <> 'agentflow_app' THEN
    RETURN NEW;
  END IF;
  IF TG_OP = 'INSERT' THEN
    NEW.frequency := 1;
    NEW.first_seen := now();
    NEW.last_seen := now();
  ELSIF (NEW.tenant_id, NEW.id, NEW.pattern_type, NEW.agent_type, NEW.pattern_key, NEW.first_seen, NEW.created_at)
        IS DISTINCT FROM (OLD.tenant_id, OLD.id, OLD.pattern_type, OLD.agent_type, OLD.pattern_key, OLD.first_seen, OLD.created_at)
     OR NEW.frequency < OLD.frequency OR NEW.last_seen < OLD.last_seen THEN
    RAISE EXCEPTION 'a pattern''s identity and first sighting never change, and its frequency and last_seen only move forward'
      USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME;
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.guard_pattern() FROM PUBLIC;
CREATE TRIGGER patterns_guard BEFORE INSERT OR UPDATE ON patterns
  FOR EACH ROW EXECUTE FUNCTION agentflow.guard_pattern();
