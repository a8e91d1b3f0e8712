-- Projects and their files.

CREATE TABLE projects (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id() REFERENCES tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  slug text NOT NULL CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  description text CHECK (char_length(description) <= 10000),
  repo_url text CHECK (char_length(repo_url) <= 2048),
  default_branch text NOT NULL DEFAULT 'main' CHECK (char_length(default_branch) BETWEEN 1 AND 255),
  tech_stack jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tech_stack) = 'array'),
  config jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived', 'deleted')),
  github_installation_id bigint,
  mvp_document text,
  quality_metrics jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(quality_metrics) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  archived_at timestamptz,
  deleted_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT projects_deleted_status CHECK ((status = 'deleted') = (deleted_at IS NOT NULL))
);
CREATE UNIQUE INDEX projects_slug_live_key ON projects (tenant_id, slug) WHERE deleted_at IS NULL;
-- Live projects count against the tenant's `projects` usage (and quota) whoever writes them.
CREATE FUNCTION agentflow.count_live_projects() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  was_live boolean := TG_OP <> 'INSERT' AND OLD.deleted_at IS NULL;
  is_live boolean := TG_OP <> 'DELETE' AND NEW.deleted_at IS NULL;
BEGIN
  -- Row-level security already confined the write to the writer's tenant (or the writer is the
  -- service role or the owner), so the row's own tenant is the one to count against. A DELETE
  -- cascading from a purged tenant finds no tenant left to count: nothing to do.
  IF is_live AND NOT was_live THEN
    PERFORM agentflow.apply_usage(NEW.tenant_id, 'projects', 1);
  ELSIF was_live AND NOT is_live THEN
    PERFORM agentflow.apply_usage(OLD.tenant_id, 'projects', -1, TG_OP = 'DELETE');
  END IF;
  RETURN NULL;
END $$;
-- A trigger function, closed to PUBLIC like the others (0001_foundation), and owned like the other
-- usage functions by agentflow_definer (0002_tenancy), with CREATE on the schema for this statement.
REVOKE EXECUTE ON FUNCTION agentflow.count_live_projects() FROM PUBLIC;
GRANT CREATE ON SCHEMA agentflow TO agentflow_definer;
ALTER FUNCTION agentflow.count_live_projects() OWNER TO agentflow_definer;
REVOKE CREATE ON SCHEMA agentflow FROM agentflow_definer;
CREATE TRIGGER projects_count_usage AFTER INSERT OR DELETE OR UPDATE OF deleted_at ON projects
  FOR EACH ROW EXECUTE FUNCTION agentflow.count_live_projects();
SELECT agentflow.isolate_by_tenant('projects');
SELECT agentflow.track_changes('projects', 'tenant_id');
GRANT SELECT, INSERT, UPDATE, DELETE ON projects TO agentflow_app, agentflow_service;

-- A soft-deleted project's files and agent state are gone to readers as the project is: a row of a
-- deleted project is neither added nor changed. Enforced here so that no writer can bypass it;
-- reported like the foreign key it extends. Runs with the caller's rights, with pg_temp searched
-- last, so a temporary table called projects cannot stand in for the real one.
CREATE FUNCTION agentflow.require_live_project() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM projects
              WHERE tenant_id = NEW.tenant_id AND id = NEW.project_id AND deleted_at IS NOT NULL) THEN
    RAISE EXCEPTION 'project % is deleted', NEW.project_id
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME, CONSTRAINT = TG_TABLE_NAME || '_project_fk';
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.require_live_project() FROM PUBLIC;

CREATE TABLE project_files (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id(),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  project_id uuid NOT NULL,
  path text NOT NULL CHECK (char_length(path) BETWEEN 1 AND 1024),
  content text NOT NULL CHECK (octet_length(content) <= 10485760),
  content_hash text NOT NULL GENERATED ALWAYS AS (agentflow.sha256_hex(content)) STORED,
  size_bytes integer NOT NULL GENERATED ALWAYS AS (octet_length(content)) STORED,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT project_files_path_key UNIQUE (tenant_id, project_id, path),
  -- Carrying tenant_id in the key makes a link to another tenant's project impossible.
  CONSTRAINT project_files_project_fk FOREIGN KEY (tenant_id, project_id)
    REFERENCES projects (tenant_id, id) ON DELETE CASCADE
);
CREATE TRIGGER project_files_live_project BEFORE INSERT OR UPDATE ON project_files
  FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project();
SELECT agentflow.isolate_by_tenant('project_files');
SELECT agentflow.track_changes('project_files', 'tenant_id');
GRANT SELECT, INSERT, UPDATE, DELETE ON project_files TO agentflow_app, agentflow_service;
