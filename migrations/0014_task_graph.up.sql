-- The task graph (DESIGN.md "Decisions on the seeds": seed 001's Apache AGE DEPENDS_ON edges as a
-- relational table under the same row-level security and composite keys) and the indexes of the
-- work queue.
--
-- An edge (task_id, depends_on_id) says: task_id cannot start before depends_on_id is done. Both
-- tasks belong to one project (project_id, copied from the task by the trigger below): the
-- composite keys (tenant_id, project_id, task_id) and (tenant_id, project_id, depends_on_id) point
-- at tasks (tenant_id, project_id, id), so neither a cross-tenant nor a cross-project edge can be
-- stored, and a task with edges cannot move to another project (its edges would cross). The graph
-- is kept acyclic by the insert trigger, under a per-project advisory lock (see check_task_edge).

-- The target of the edges' composite keys: (tenant_id, id) is already unique, so this is too.
CREATE UNIQUE INDEX tasks_project_id_key ON tasks (tenant_id, project_id, id);
-- The work queue and ready tasks: open, unstarted work in queue order (priority, deadline with
-- nulls last, age), of a project or of the whole tenant.
CREATE INDEX tasks_project_queue_idx ON tasks (tenant_id, project_id, priority, deadline, created_at, id)
  WHERE deleted_at IS NULL AND status IN ('backlog', 'assigned');
CREATE INDEX tasks_queue_idx ON tasks (tenant_id, priority, deadline, created_at, id)
  WHERE deleted_at IS NULL AND status IN ('backlog', 'assigned');

CREATE TABLE task_dependencies (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id() REFERENCES tenants (id) ON DELETE CASCADE,
  task_id uuid NOT NULL,
  depends_on_id uuid NOT NULL,
  project_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, task_id, depends_on_id),
  CONSTRAINT task_dependencies_task_fk FOREIGN KEY (tenant_id, project_id, task_id)
    REFERENCES tasks (tenant_id, project_id, id) ON DELETE CASCADE,
  CONSTRAINT task_dependencies_depends_on_fk FOREIGN KEY (tenant_id, project_id, depends_on_id)
    REFERENCES tasks (tenant_id, project_id, id) ON DELETE CASCADE,
  CONSTRAINT task_dependencies_no_self CHECK (task_id <> depends_on_id)
);
-- The other direction: a task's dependents (and the cascade of a purged dependency).
CREATE INDEX task_dependencies_dependents_idx ON task_dependencies (tenant_id, depends_on_id, task_id);
SELECT agentflow.isolate_by_tenant('task_dependencies');
-- Edges are added and removed, never changed: audited on insert and delete (no updated_at).
CREATE TRIGGER task_dependencies_audit AFTER INSERT OR DELETE OR UPDATE ON task_dependencies
  FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id');
GRANT SELECT, INSERT, DELETE ON task_dependencies TO agentflow_app, agentflow_service;

-- Every new edge, for every writer (raw SQL included): both tasks exist in the tenant and are live,
-- in one project (the edge takes it), and the edge closes no cycle. Not SECURITY DEFINER: it reads
-- as the caller, under its policies.
--
-- Concurrency: two edges added at the same moment in one project (A→B and B→A) would each find no
-- path in a snapshot without the other. So the check first takes a transaction-scoped advisory lock
-- of the project: edge inserts of a project run one at a time until their transactions end. Under
-- READ COMMITTED (the units of work's level) the reachability query, a later statement of this
-- function, takes a new snapshot once the lock is held, and sees the edge the other transaction
-- committed before releasing it; the second insert is then refused as a cycle.
CREATE FUNCTION agentflow.check_task_edge() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  task_project uuid;
  dependency_project uuid;
BEGIN
  SELECT t.project_id INTO task_project
    FROM tasks t WHERE t.tenant_id = NEW.tenant_id AND t.id = NEW.task_id AND t.deleted_at IS NULL;
  IF NOT FOUND THEN
    -- A row for another tenant than the transaction's: row-level security refuses it, as for any table.
    IF NEW.tenant_id IS DISTINCT FROM agentflow.current_tenant_id() THEN
      RETURN NEW;
    END IF;
    RAISE EXCEPTION 'task % not found', NEW.task_id USING ERRCODE = 'AF060', TABLE = TG_TABLE_NAME;
  END IF;
  SELECT t.project_id INTO dependency_project
    FROM tasks t WHERE t.tenant_id = NEW.tenant_id AND t.id = NEW.depends_on_id AND t.deleted_at IS NULL;
  IF NOT FOUND THEN
    -- A row for another tenant than the transaction's: row-level security refuses it, as for any table.
    IF NEW.tenant_id IS DISTINCT FROM agentflow.current_tenant_id() THEN
      RETURN NEW;
    END IF;
    RAISE EXCEPTION 'task % not found', NEW.depends_on_id USING ERRCODE = 'AF060', TABLE = TG_TABLE_NAME;
  END IF;
  IF task_project <> dependency_project THEN
    RAISE EXCEPTION 'task % is in project %, its dependency % in project %: dependencies stay within a project',
      NEW.task_id, task_project, NEW.depends_on_id, dependency_project
      USING ERRCODE = 'AF061', TABLE = TG_TABLE_NAME, COLUMN = 'depends_on_id';
  END IF;
  NEW.project_id := task_project;
  IF NEW.task_id = NEW.depends_on_id THEN
    RETURN NEW; -- the CHECK constraint refuses it by name
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('agentflow.task_graph'), hashtext(NEW.tenant_id::text || '/' || task_project::text));
  -- A new statement, a new snapshot (READ COMMITTED): what committed before the lock was granted.
  -- The edge closes a cycle when the task is already among its dependency's transitive
  -- dependencies. UNION keeps each task once: the walk ends even on a graph that had a cycle.
  IF EXISTS (
    WITH RECURSIVE reachable(id) AS (
      SELECT d.depends_on_id FROM task_dependencies d
       WHERE d.tenant_id = NEW.tenant_id AND d.task_id = NEW.depends_on_id
      UNION
      SELECT d.depends_on_id FROM reachable r
        JOIN task_dependencies d ON d.tenant_id = NEW.tenant_id AND d.task_id = r.id
    )
    SELECT 1 FROM reachable WHERE id = NEW.task_id
  ) THEN
    RAISE EXCEPTION 'task % already depends on % (directly or transitively): the edge would close a cycle',
      NEW.depends_on_id, NEW.task_id USING ERRCODE = 'AF062', TABLE = TG_TABLE_NAME;
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.check_task_edge() FROM PUBLIC;
CREATE TRIGGER task_dependencies_acyclic BEFORE INSERT OR UPDATE ON task_dependencies
  FOR EACH ROW EXECUTE FUNCTION agentflow.check_task_edge();
