-- Closes two holes in the functions of schema agentflow (found in review).
--
-- 1. EXECUTE was left to PUBLIC on the trigger functions, and creating a trigger needs only
-- EXECUTE on its function and a table of one's own (any role may create a temporary table). So a
-- role could attach count_live_projects() (SECURITY DEFINER) to a temporary table and move any
-- tenant's projects counter, or audit_row() and forge audit rows for any tenant. A trigger that
-- fires checks no EXECUTE, so the real triggers keep working; the DDL helpers are for migrations.
-- require_usable_tenant() stays callable by every role: a NOINHERIT login role runs the set-up
-- statement before it switches role. current_tenant_id() and sha256_hex() read nothing.
REVOKE EXECUTE ON FUNCTION agentflow.audit_row(), agentflow.count_live_projects(),
  agentflow.require_live_project(), agentflow.touch_updated_at(), agentflow.reject_mutation(),
  agentflow.isolate_by_tenant(regclass, text), agentflow.track_changes(regclass, text, text[])
  FROM PUBLIC;
-- (Per-schema default privileges cannot take away PUBLIC's global EXECUTE: db verify reports any
-- later function of this schema that PUBLIC may execute.)

-- 2. A pinned search_path that does not name pg_temp searches it first for tables: a temporary
-- table called tenants or audit_logs would have stood in for the real one inside these functions,
-- for every later transaction on that pooled connection. pg_temp goes last.
ALTER FUNCTION agentflow.apply_usage(uuid, text, bigint, boolean) SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION agentflow.add_usage(uuid, text, bigint) SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION agentflow.count_live_projects() SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION agentflow.audit_row() SET search_path = pg_catalog, public, pg_temp;
ALTER FUNCTION agentflow.require_usable_tenant(uuid) SET search_path = pg_catalog, public, pg_temp;
-- Runs with the caller's rights and searched the caller's path, temporary tables first.
ALTER FUNCTION agentflow.require_live_project() SET search_path = pg_catalog, public, pg_temp;
