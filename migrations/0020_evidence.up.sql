-- Evidence (seed 004): what a decision on a task or a project rests on, how credible it is, who
-- verified it, and which other evidence it supports or contradicts.

CREATE TABLE evidence (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id() REFERENCES tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL,
  task_id uuid,
  source_type text NOT NULL CHECK (source_type IN ('code_analysis', 'test_result', 'ai_output', 'documentation',
    'user_feedback', 'external_reference', 'log', 'metric', 'other')),
  title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 500),
  content text CHECK (char_length(content) <= 100000),
  reference text CHECK (char_length(reference) BETWEEN 1 AND 2048),
  credibility numeric(4, 3) NOT NULL DEFAULT 0.5 CHECK (credibility BETWEEN 0 AND 1),
  is_verified boolean NOT NULL DEFAULT false,
  verified_by_type text CHECK (verified_by_type IN ('user', 'agent')),
  verified_by_id uuid,
  verified_at timestamptz,
  tags text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 50),
  metadata jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
  created_by_type text CHECK (created_by_type IN ('user', 'agent')),
  created_by_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT evidence_project_fk FOREIGN KEY (tenant_id, project_id)
    REFERENCES projects (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT evidence_task_fk FOREIGN KEY (tenant_id, task_id)
    REFERENCES tasks (tenant_id, id) ON DELETE CASCADE,
  -- Evidence says something: its content, or where to find it.
  CONSTRAINT evidence_has_substance CHECK (content IS NOT NULL OR reference IS NOT NULL),
  CONSTRAINT evidence_verification CHECK (is_verified = (verified_at IS NOT NULL)
    AND (verified_at IS NULL) = (verified_by_type IS NULL) AND (verified_by_type IS NULL) = (verified_by_id IS NULL))
);
-- The evidence behind a task, most credible first; a project's the same.
CREATE INDEX evidence_task_idx ON evidence (tenant_id, task_id, credibility DESC, id) WHERE task_id IS NOT NULL;
CREATE INDEX evidence_project_idx ON evidence (tenant_id, project_id, credibility DESC, id);
CREATE TRIGGER evidence_live_project BEFORE INSERT OR UPDATE OF project_id ON evidence
  FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project();
SELECT agentflow.isolate_by_tenant('evidence');
SELECT agentflow.track_changes('evidence', 'tenant_id');
GRANT SELECT, INSERT, UPDATE, DELETE ON evidence TO agentflow_app, agentflow_service;

-- Who wrote and who verified evidence is the database's, from the unit's actor: a caller can
-- neither claim another's work nor forge a verification. Verification is a one-way step (a
-- correction is new evidence); the task belongs to the evidence's project; the id, the project and
-- the author never change.
CREATE FUNCTION agentflow.guard_evidence() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  actor_type text := nullif(current_setting('agentflow.actor_type', true), '');
  actor_id uuid := CASE WHEN actor_type IN ('user', 'agent')
                        THEN nullif(current_setting('agentflow.actor_id', true), '')::uuid END;
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.created_by_type := CASE WHEN actor_id IS NOT NULL THEN actor_type END;
    NEW.created_by_id := actor_id;
    NEW.is_verified := false;
    NEW.verified_by_type := NULL;
    NEW.verified_by_id := NULL;
    NEW.verified_at := NULL;
  ELSE
    IF (NEW.id, NEW.project_id, NEW.created_by_type, NEW.created_by_id, NEW.created_at)
       IS DISTINCT FROM (OLD.id, OLD.project_id, OLD.created_by_type, OLD.created_by_id, OLD.created_at) THEN
      RAISE EXCEPTION 'evidence''s id, project and author never change'
        USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME;
    END IF;
    IF OLD.is_verified AND NOT NEW.is_verified THEN
      RAISE EXCEPTION 'evidence % is verified: a verification is not taken back', OLD.id
        USING ERRCODE = 'AF120', TABLE = TG_TABLE_NAME, COLUMN = 'is_verified';
    END IF;
    IF NEW.is_verified AND NOT OLD.is_verified THEN
      IF actor_id IS NULL THEN
        RAISE EXCEPTION 'evidence is verified by a user or an agent of the tenant'
          USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME, COLUMN = 'is_verified';
      END IF;
      NEW.verified_by_type := actor_type;
      NEW.verified_by_id := actor_id;
      NEW.verified_at := now();
    ELSE
      NEW.verified_by_type := OLD.verified_by_type;
      NEW.verified_by_id := OLD.verified_by_id;
      NEW.verified_at := OLD.verified_at;
    END IF;
  END IF;
  IF NEW.task_id IS NOT NULL AND NOT EXISTS (
       SELECT 1 FROM tasks t WHERE t.tenant_id = NEW.tenant_id AND t.id = NEW.task_id AND t.project_id = NEW.project_id) THEN
    -- Unknown or another tenant's: the foreign key says so; here the task is of another project.
    IF EXISTS (SELECT 1 FROM tasks t WHERE t.tenant_id = NEW.tenant_id AND t.id = NEW.task_id) THEN
      RAISE EXCEPTION 'task % is not of project %', NEW.task_id, NEW.project_id
        USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'task_id';
    END IF;
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.guard_evidence() FROM PUBLIC;
CREATE TRIGGER evidence_guarded BEFORE INSERT OR UPDATE ON evidence
  FOR EACH ROW EXECUTE FUNCTION agentflow.guard_evidence();

-- A link between two pieces of evidence, stored once: the pair in id order (low, high), so A–B and
-- B–A are one row, readable from either end. One kind per pair: evidence that supports another
-- cannot also contradict it.
CREATE TABLE evidence_links (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id() REFERENCES tenants (id) ON DELETE CASCADE,
  low_id uuid NOT NULL,
  high_id uuid NOT NULL,
  kind text NOT NULL CHECK (kind IN ('related', 'contradicts')),
  note text CHECK (char_length(note) BETWEEN 1 AND 2000),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, low_id, high_id),
  CONSTRAINT evidence_links_ordered CHECK (low_id < high_id),
  CONSTRAINT evidence_links_low_fk FOREIGN KEY (tenant_id, low_id) REFERENCES evidence (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT evidence_links_high_fk FOREIGN KEY (tenant_id, high_id) REFERENCES evidence (tenant_id, id) ON DELETE CASCADE
);
-- The links of one piece of evidence from its high end (the primary key serves the low end).
CREATE INDEX evidence_links_high_idx ON evidence_links (tenant_id, high_id);
SELECT agentflow.isolate_by_tenant('evidence_links');
CREATE TRIGGER evidence_links_audit AFTER INSERT OR DELETE OR UPDATE ON evidence_links
  FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id');
GRANT SELECT, INSERT, UPDATE, DELETE ON evidence_links TO agentflow_app, agentflow_service;

-- The attachment's link to the evidence the file supports (column and index: migration 17). Not
-- cascading and not SET NULL: the attachment's guard keeps the link once set and freezes a deleted
-- attachment, and a file of a task is only ever soft-deleted by tenant work; so evidence a file
-- backs is not deleted from under it (still_referenced). A purge of the task, the project or the
-- tenant takes both in one statement, where the check (NO ACTION, at the statement's end) passes.
ALTER TABLE task_attachments ADD CONSTRAINT task_attachments_evidence_fk FOREIGN KEY (tenant_id, evidence_id)
  REFERENCES evidence (tenant_id, id);

-- The evidence a run (task_executions, migration 15) cites: what its work rested on. A citation is a
-- record, written once by the run's agent or a human member while the run is open, never changed;
-- it goes with its run or its evidence (a link, like evidence_links).
CREATE TABLE execution_evidence (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id() REFERENCES tenants (id) ON DELETE CASCADE,
  execution_id uuid NOT NULL,
  evidence_id uuid NOT NULL,
  -- Why the run cites it, in a sentence.
  note text CHECK (char_length(note) BETWEEN 1 AND 2000),
  cited_by_agent_id uuid,
  cited_by_user_id uuid,
  cited_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, execution_id, evidence_id),
  CONSTRAINT execution_evidence_execution_fk FOREIGN KEY (tenant_id, execution_id)
    REFERENCES task_executions (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT execution_evidence_evidence_fk FOREIGN KEY (tenant_id, evidence_id)
    REFERENCES evidence (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT execution_evidence_agent_fk FOREIGN KEY (tenant_id, cited_by_agent_id)
    REFERENCES agents (tenant_id, id) ON DELETE CASCADE,
  CONSTRAINT execution_evidence_user_fk FOREIGN KEY (cited_by_user_id) REFERENCES users (id),
  CONSTRAINT execution_evidence_one_citer CHECK (num_nonnulls(cited_by_agent_id, cited_by_user_id) <= 1)
);
-- The runs citing one piece of evidence, newest citation first (the primary key serves a run's).
CREATE INDEX execution_evidence_evidence_idx ON execution_evidence (tenant_id, evidence_id, cited_at, execution_id);
CREATE INDEX execution_evidence_agent_idx ON execution_evidence (tenant_id, cited_by_agent_id)
  WHERE cited_by_agent_id IS NOT NULL;
CREATE INDEX execution_evidence_member_idx ON execution_evidence (tenant_id, cited_by_user_id)
  WHERE cited_by_user_id IS NOT NULL;
SELECT agentflow.isolate_by_tenant('execution_evidence');
CREATE TRIGGER execution_evidence_audit AFTER INSERT OR DELETE OR UPDATE ON execution_evidence
  FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id');
-- Written once by tenant work; the service role corrects and purges.
GRANT SELECT, INSERT ON execution_evidence TO agentflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON execution_evidence TO agentflow_service;

-- The rules of a citation, for tenant work (raw SQL included): the citer is the unit's actor, and
-- an agent cites only in its own runs, a user only as a human member of the tenant
-- (insufficient_privilege); the run is open (AF071, as for its usage: the run is locked, so a
-- concurrent finish waits or is seen); the evidence is of the run's project (check_violation). An
-- unknown run or evidence, or another tenant's, the foreign keys refuse.
CREATE FUNCTION agentflow.guard_execution_evidence() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  actor_type text := nullif(current_setting('agentflow.actor_type', true), '');
  actor_id uuid := CASE WHEN actor_type IN ('user', 'agent')
                        THEN nullif(current_setting('agentflow.actor_id', true), '')::uuid END;
  run record;
BEGIN
  IF current_user <> 'agentflow_app' THEN
    RETURN NEW;
  END IF;
  NEW.cited_at := now();
  NEW.cited_by_agent_id := CASE WHEN actor_type = 'agent' THEN actor_id END;
  NEW.cited_by_user_id := CASE WHEN actor_type = 'user' THEN actor_id END;
  SELECT e.status, e.agent_id, e.project_id INTO run
    FROM task_executions e WHERE e.tenant_id = NEW.tenant_id AND e.id = NEW.execution_id FOR SHARE;
  IF NOT FOUND THEN
    RETURN NEW;
  END IF;
  IF actor_id IS NULL
     OR (actor_type = 'agent' AND actor_id <> run.agent_id)
     OR (actor_type = 'user' AND NOT agentflow.actor_is_human_member()) THEN
    RAISE EXCEPTION 'evidence is cited by the run''s agent or a human member of the tenant'
      USING ERRCODE = 'insufficient_privilege', TABLE = TG_TABLE_NAME;
  END IF;
  IF run.status IN ('success', 'failure', 'timeout') THEN
    RAISE EXCEPTION 'task execution % is finished (%)', NEW.execution_id, run.status
      USING ERRCODE = 'AF071', TABLE = 'task_executions';
  END IF;
  IF EXISTS (SELECT 1 FROM evidence v WHERE v.tenant_id = NEW.tenant_id AND v.id = NEW.evidence_id
                                        AND v.project_id <> run.project_id) THEN
    RAISE EXCEPTION 'evidence % is not of the project of execution %', NEW.evidence_id, NEW.execution_id
      USING ERRCODE = 'check_violation', TABLE = TG_TABLE_NAME, COLUMN = 'evidence_id';
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.guard_execution_evidence() FROM PUBLIC;
CREATE TRIGGER execution_evidence_guard BEFORE INSERT ON execution_evidence
  FOR EACH ROW EXECUTE FUNCTION agentflow.guard_execution_evidence();
