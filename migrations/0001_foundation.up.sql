-- Foundation: the application roles, the tenant-context helpers, the audit trail.

-- Roles are cluster-wide and shared by every database of the cluster, so they are created once
-- and never dropped by a down step. Concurrent first migrations of two databases may race here.
DO $$
DECLARE
  -- Switching role needs membership up to PostgreSQL 15, the SET option from 16 on: a non-superuser
  -- that creates a role (CREATEROLE) is then a member without it until it grants the role to itself.
  may_switch text := CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END;
BEGIN
  BEGIN
    CREATE ROLE agentflow_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
  BEGIN
    CREATE ROLE agentflow_service NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
  -- The unit of work switches into these roles, so the connecting (owner) role must be able to.
  BEGIN
    IF NOT pg_has_role(current_user, 'agentflow_app', may_switch) THEN
      EXECUTE format('GRANT agentflow_app TO %I', current_user);
    END IF;
    IF NOT pg_has_role(current_user, 'agentflow_service', may_switch) THEN
      EXECUTE format('GRANT agentflow_service TO %I', current_user);
    END IF;
  -- From PostgreSQL 16 on, CREATEROLE grants only roles its holder created (or holds with ADMIN
  -- OPTION): the bare "permission denied to grant role" would not say what to do.
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE EXCEPTION 'role % may not grant itself the agentflow roles, which another role created: have that role (or a superuser) run GRANT agentflow_app, agentflow_service, agentflow_definer TO %, then migrate again',
      current_user, quote_ident(current_user)
      USING ERRCODE = 'insufficient_privilege';
  END;
END $$;

CREATE SCHEMA agentflow;
GRANT USAGE ON SCHEMA agentflow TO agentflow_app, agentflow_service;
GRANT USAGE ON SCHEMA public TO agentflow_app, agentflow_service;

-- The tenant of the current transaction, or NULL (which matches no row) when none is set.
CREATE FUNCTION agentflow.current_tenant_id() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('agentflow.tenant_id', true), '')::uuid $$;

-- convert_to() is only STABLE in general; with the encoding named it cannot vary, so this is IMMUTABLE
-- and may back a generated column.
CREATE FUNCTION agentflow.sha256_hex(content text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  AS $$ SELECT encode(sha256(convert_to(content, 'UTF8')), 'hex') $$;

CREATE FUNCTION agentflow.touch_updated_at() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END $$;

CREATE FUNCTION agentflow.reject_mutation() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TABLE audit_logs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id uuid,
  actor_type text NOT NULL CHECK (actor_type IN ('user', 'agent', 'service', 'system')),
  actor_id text,
  db_role text NOT NULL,
  action text NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
  table_name text NOT NULL,
  row_id text,
  old_values jsonb,
  new_values jsonb,
  request_context jsonb,
  occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_tenant_time_idx ON audit_logs (tenant_id, occurred_at DESC);
CREATE INDEX audit_logs_tenant_row_idx ON audit_logs (tenant_id, table_name, row_id);

CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
  FOR EACH ROW EXECUTE FUNCTION agentflow.reject_mutation();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION agentflow.reject_mutation();

ALTER TABLE audit_logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_logs FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_logs_tenant_select ON audit_logs FOR SELECT
  USING (tenant_id = (SELECT agentflow.current_tenant_id()));
-- Rows are written only by agentflow.audit_row(), which runs as the owner: no application role
-- holds INSERT on this table, so this policy opens nothing to them.
CREATE POLICY audit_logs_insert ON audit_logs FOR INSERT WITH CHECK (true);
CREATE POLICY audit_logs_service_select ON audit_logs FOR SELECT TO agentflow_service USING (true);
GRANT SELECT ON audit_logs TO agentflow_app, agentflow_service;

-- Writes one audit row per changed row. Runs as the owner so that application roles need no
-- write access to audit_logs. TG_ARGV[0] names the column holding the row's tenant ('' for a
-- global table); the remaining arguments name columns that must never reach the audit trail.
CREATE FUNCTION agentflow.audit_row() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$
DECLARE
  old_row jsonb;
  new_row jsonb;
  row_data jsonb;
  redacted text[] := TG_ARGV[1:];
  row_tenant uuid;
BEGIN
  IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD) - redacted; END IF;
  IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW) - redacted; END IF;
  row_data := coalesce(new_row, old_row);
  IF TG_OP = 'UPDATE' THEN
    -- Keep only what changed, on both sides.
    SELECT coalesce(jsonb_object_agg(o.key, o.value), '{}'), coalesce(jsonb_object_agg(o.key, new_row -> o.key), '{}')
      INTO old_row, new_row
      FROM jsonb_each(old_row) AS o
     WHERE o.value IS DISTINCT FROM new_row -> o.key;
  END IF;
  IF TG_ARGV[0] <> '' THEN
    row_tenant := (row_data ->> TG_ARGV[0])::uuid;
  ELSE
    row_tenant := agentflow.current_tenant_id();
  END IF;
  INSERT INTO audit_logs (tenant_id, actor_type, actor_id, db_role, action, table_name, row_id,
                          old_values, new_values, request_context)
  VALUES (
    row_tenant,
    coalesce(nullif(current_setting('agentflow.actor_type', true), ''), 'system'),
    coalesce(nullif(current_setting('agentflow.actor_id', true), ''), session_user::text),
    coalesce(nullif(current_setting('role', true), 'none'), session_user::text),
    lower(TG_OP),
    TG_TABLE_NAME,
    row_data ->> 'id',
    old_row,
    new_row,
    nullif(current_setting('agentflow.request_context', true), '')::jsonb
  );
  RETURN NULL;
END $$;

-- Gives a tenant-scoped table the uniform isolation every such table must have: RLS enabled and
-- forced, one fail-closed policy per command for the application, and full access for the
-- service role. The setting is read through a sub-select so it is evaluated once per statement.
CREATE FUNCTION agentflow.isolate_by_tenant(target regclass, tenant_column text DEFAULT 'tenant_id') RETURNS void
  LANGUAGE plpgsql
  AS $$
DECLARE
  tbl text := (SELECT relname FROM pg_class WHERE oid = target);
  matches text := format('%I = (SELECT agentflow.current_tenant_id())', tenant_column);
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
  EXECUTE format('CREATE POLICY %I ON %s FOR SELECT USING (%s)', tbl || '_tenant_select', target, matches);
  EXECUTE format('CREATE POLICY %I ON %s FOR INSERT WITH CHECK (%s)', tbl || '_tenant_insert', target, matches);
  EXECUTE format('CREATE POLICY %I ON %s FOR UPDATE USING (%s) WITH CHECK (%s)', tbl || '_tenant_update', target, matches, matches);
  EXECUTE format('CREATE POLICY %I ON %s FOR DELETE USING (%s)', tbl || '_tenant_delete', target, matches);
  EXECUTE format('CREATE POLICY %I ON %s FOR ALL TO agentflow_service USING (true) WITH CHECK (true)', tbl || '_service_all', target);
END $$;

-- Attaches the audit trigger and the updated_at trigger to a table.
CREATE FUNCTION agentflow.track_changes(target regclass, tenant_column text, redacted_columns text[] DEFAULT '{}') RETURNS void
  LANGUAGE plpgsql
  AS $$
DECLARE
  tbl text := (SELECT relname FROM pg_class WHERE oid = target);
  args text := (SELECT string_agg(quote_literal(a), ', ') FROM unnest(array_prepend(tenant_column, redacted_columns)) AS a);
BEGIN
  EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row(%s)',
                 tbl || '_audit', target, args);
  EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %s FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
                 tbl || '_touch_updated_at', target);
END $$;
