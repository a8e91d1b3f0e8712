-- Foundation: the roles, schema agentflow with the helpers every domain uses, and the audit trail.

-- Roles are cluster-wide and shared by every database of the cluster, so they are created once
-- and never dropped by a down step. Concurrent first migrations of two databases may race here.
--   agentflow_app      tenant work; row-level security applies to it.
--   agentflow_service  cross-tenant maintenance, through explicit service policies.
--   agentflow_definer  owns the SECURITY DEFINER functions that keep usage counters. The owner of a
--                      function may drop it (and, with CASCADE, the trigger that runs it), so no
--                      application role may be or become it. It acts with the service role's
--                      privileges and policies (a member, with INHERIT); the service role is not a
--                      member of it.
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
  BEGIN
    CREATE ROLE agentflow_definer NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE INHERIT;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
  IF NOT pg_has_role('agentflow_definer', 'agentflow_service', 'MEMBER') THEN
    GRANT agentflow_service TO agentflow_definer;
  END IF;
  -- The unit of work switches into app and service, so the connecting (owner) role must be able to;
  -- giving a function to agentflow_definer requires the same (a superuser can anyway).
  BEGIN
    IF NOT pg_has_role(current_user, 'agentflow_app', may_switch) THEN
      EXECUTE format('GRANT agentflow_app TO %I', current_user);
    END IF;
    IF NOT pg_has_role(current_user, 'agentflow_service', may_switch) THEN
      EXECUTE format('GRANT agentflow_service TO %I', current_user);
    END IF;
    IF NOT pg_has_role(current_user, 'agentflow_definer', may_switch) THEN
      EXECUTE format('GRANT agentflow_definer TO %I', current_user);
    END IF;
  -- From PostgreSQL 16 on, CREATEROLE grants only roles its holder created (or holds with ADMIN
  -- OPTION): the bare "permission denied to grant role" would not say what to do.
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE EXCEPTION 'role % may not grant itself the agentflow roles, which another role created: have that role (or a superuser) run GRANT agentflow_app, agentflow_service, agentflow_definer TO %, then migrate again',
      current_user, quote_ident(current_user)
      USING ERRCODE = 'insufficient_privilege';
  END;
END $$;

-- Every role may use the schema: a NOINHERIT login role runs the unit of work's set-up statement
-- (require_usable_tenant, 0002_tenancy) before it switches role. What the schema holds is trigger
-- functions and DDL helpers closed to PUBLIC, pure helpers, and SECURITY DEFINER functions that
-- are each closed to PUBLIC or check who calls them.
CREATE SCHEMA agentflow;
GRANT USAGE ON SCHEMA agentflow TO agentflow_app, agentflow_service, PUBLIC;
GRANT USAGE ON SCHEMA public TO agentflow_app, agentflow_service;

-- Opening the store reads the schema version as the login role, before any role switch. The
-- history (created by the migrator) names migrations and nothing else, so every role may read it.
GRANT SELECT ON schema_migrations TO PUBLIC;

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

-- Append-only, the largest table, to be partitioned by time and distributed by tenant (Citus)
-- when one machine is outgrown: both need their column in every unique key, and Citus needs a
-- non-null distribution column. Rows of no tenant (users, a global table; service work without a
-- tenant) carry the sentinel 00000000-0000-0000-0000-000000000000, which no tenant may own (a
-- CHECK on tenants), so no tenant sees them. A backward scan of the primary key serves the
-- tenant's trail newest first.
CREATE TABLE audit_logs (
  id bigint GENERATED ALWAYS AS IDENTITY,
  tenant_id uuid NOT NULL,
  actor_type text NOT NULL CHECK (actor_type IN ('user', 'agent', 'service', 'system')),
  actor_id text,
  db_role text NOT NULL,
  action text NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
  table_name text NOT NULL,
  row_id text,
  old_values jsonb,
  new_values jsonb,
  request_context jsonb,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, occurred_at, id)
);
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

-- What the audit trail keeps of a row's values (NULL stays NULL):
-- - a column named in `redacted` (a secret such as users.password_hash) as {"$redacted": true}, so
--   that setting or changing it is recorded, never its value;
-- - a value over 4096 bytes (file content, large documents) as
--   {"$omitted": {"bytes": <n>, "sha256": "<hex>"}}, so that every write of a 5 MB file does not
--   copy it into the trail again: for a string, the bytes and hash of its UTF-8 text (the hash
--   project_files.content_hash holds for a file's content); otherwise of its JSON text as jsonb
--   prints it. 4096 bytes keeps ordinary values whole (names, slugs, settings, short documents)
--   and each audit row within a few kilobytes per column. AUDIT_VALUE_MAX_BYTES in
--   src/audit/audit-logs.schema.ts says the same.
-- Every other value is kept as it is.
-- PL/pgSQL rather than SQL: a SQL function this complex is not inlined, and its body would be
-- planned again on every call, several times the cost of the rest of the trigger.
CREATE FUNCTION agentflow.audit_values(row_values jsonb, redacted text[]) RETURNS jsonb
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
BEGIN
  -- Most rows are small and hold no secret: returned as they are, without taking them apart. The
  -- same result: no value's text is longer than the row's.
  IF octet_length(row_values::text) <= 4096 AND NOT row_values ?| redacted THEN
    RETURN row_values;
  END IF;
  RETURN (SELECT coalesce(jsonb_object_agg(e.key, CASE
           WHEN jsonb_typeof(e.value) = 'null' THEN e.value
           WHEN e.key = ANY (redacted) THEN '{"$redacted": true}'::jsonb
           WHEN octet_length(v.text) > 4096 THEN jsonb_build_object('$omitted',
             jsonb_build_object('bytes', octet_length(v.text), 'sha256', agentflow.sha256_hex(v.text)))
           ELSE e.value
         END), '{}')
    FROM jsonb_each(row_values) AS e,
         LATERAL (SELECT CASE WHEN jsonb_typeof(e.value) = 'string' THEN e.value #>> '{}' ELSE e.value::text END) AS v(text));
END $$;

-- Writes one audit row per changed row. Runs as the owner so that application roles need no
-- write access to audit_logs. TG_ARGV[0] names the column holding the row's tenant ('' for a
-- global table); the remaining arguments name secret columns (see audit_values).
-- The actor comes from settings the unit of work makes, which SQL run in a tenant's unit could
-- change too: the app role may record only a user or an agent, never the service or the system, so
-- tenant work cannot pass itself off as maintenance. The role recorded is the one running.
-- Like every SECURITY DEFINER function of this schema it pins search_path with pg_temp last: a
-- path that does not name pg_temp searches it first, so a temporary table called audit_logs would
-- stand in for the real one, for every later transaction on that pooled connection.
CREATE FUNCTION agentflow.audit_row() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  old_row jsonb;
  new_row jsonb;
  row_data jsonb;
  redacted text[] := TG_ARGV[1:];
  row_tenant uuid;
  claimed_actor text := coalesce(nullif(current_setting('agentflow.actor_type', true), ''), 'system');
  running_role text := coalesce(nullif(current_setting('role', true), 'none'), session_user::text);
BEGIN
  IF running_role = 'agentflow_app' AND claimed_actor NOT IN ('user', 'agent') THEN
    RAISE EXCEPTION 'agentflow_app may not record actor type %: tenant work is done by a user or an agent', claimed_actor
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
  row_data := coalesce(new_row, old_row);
  IF TG_OP = 'UPDATE' THEN
    -- Keep only what changed, on both sides (compared whole, before redaction and summaries).
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
    -- No tenant: the sentinel, which no tenant can own.
    coalesce(row_tenant, '00000000-0000-0000-0000-000000000000'),
    claimed_actor,
    coalesce(nullif(current_setting('agentflow.actor_id', true), ''), session_user::text),
    running_role,
    lower(TG_OP),
    TG_TABLE_NAME,
    row_data ->> 'id',
    agentflow.audit_values(old_row, redacted),
    agentflow.audit_values(new_row, redacted),
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

-- Creating a trigger needs only EXECUTE on its function and a table of one's own, and any role may
-- create a temporary table: a trigger function PUBLIC may execute could be attached to one (audit_row
-- would forge audit rows for any tenant). A trigger that fires checks no EXECUTE, so the real
-- triggers work; the DDL helpers are for migrations. Every trigger function of this schema is
-- closed to PUBLIC the same way (db verify reports one that is not: per-schema default privileges
-- cannot take away PUBLIC's global EXECUTE). current_tenant_id() and sha256_hex() read nothing.
REVOKE EXECUTE ON FUNCTION agentflow.audit_row(), agentflow.audit_values(jsonb, text[]),
  agentflow.touch_updated_at(), agentflow.reject_mutation(),
  agentflow.isolate_by_tenant(regclass, text), agentflow.track_changes(regclass, text, text[])
  FROM PUBLIC;
