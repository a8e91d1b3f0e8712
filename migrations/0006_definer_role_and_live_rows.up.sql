-- 1. The SECURITY DEFINER functions that keep usage counters were owned by agentflow_service, and
-- the owner of a function may drop it: the service role could remove the quota trigger with
-- DROP FUNCTION … CASCADE. They now belong to agentflow_definer, a role no login role is granted.
-- It acts with the service role's privileges and policies (it is a member, with INHERIT); the
-- service role is not a member of it, so it can no longer alter or drop them.
DO $$
BEGIN
  BEGIN
    CREATE ROLE agentflow_definer NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE INHERIT;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END;
  IF NOT pg_has_role('agentflow_definer', 'agentflow_service', 'MEMBER') THEN
    GRANT agentflow_service TO agentflow_definer;
  END IF;
  -- Giving a function to a role requires being able to switch to it (a superuser can anyway):
  -- membership up to PostgreSQL 15, the SET option from 16 on (see 0001_foundation).
  IF NOT pg_has_role(current_user, 'agentflow_definer',
                     CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END) THEN
    EXECUTE format('GRANT agentflow_definer TO %I', current_user);
  END IF;
END $$;

-- Unless run by a superuser, a new owner needs CREATE on the schema: granted for this statement only.
GRANT CREATE ON SCHEMA agentflow TO agentflow_definer;
DO $$
DECLARE
  fn regprocedure;
BEGIN
  FOR fn IN
    SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'agentflow' AND p.proowner = 'agentflow_service'::regrole
  LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO agentflow_definer', fn);
  END LOOP;
END $$;
REVOKE CREATE ON SCHEMA agentflow FROM agentflow_definer;
-- The service role's EXECUTE on add_usage was its right as owner, which passed to the new owner.
GRANT EXECUTE ON FUNCTION agentflow.add_usage(uuid, text, bigint) TO agentflow_service;

-- 2. Tenant work needs a tenant that exists and is pending or active: a suspended or deleted
-- tenant's data stays, but no unit of work runs for it. The unit of work calls this in its set-up
-- statement (no extra round trip). Callable by every role: the set-up runs before the role switch.
CREATE FUNCTION agentflow.require_usable_tenant(target uuid) RETURNS void
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$
DECLARE
  current_status text;
BEGIN
  SELECT status INTO current_status FROM tenants WHERE id = target;
  IF current_status IS NULL OR current_status = 'deleted' THEN
    RAISE EXCEPTION 'tenant % does not exist or is deleted', target USING ERRCODE = 'AF003';
  END IF;
  IF current_status NOT IN ('pending', 'active') THEN
    RAISE EXCEPTION 'tenant % is %: no tenant work runs until it is reactivated', target, current_status
      USING ERRCODE = 'AF003';
  END IF;
END $$;
-- Unless run by a superuser, a new owner needs CREATE on the schema: granted for this statement only.
GRANT CREATE ON SCHEMA agentflow TO agentflow_definer;
ALTER FUNCTION agentflow.require_usable_tenant(uuid) OWNER TO agentflow_definer;
REVOKE CREATE ON SCHEMA agentflow FROM agentflow_definer;
-- A NOINHERIT login role runs the set-up before it switches role, so it must reach the function.
-- What else the schema holds is trigger functions (not callable directly), DDL helpers that act
-- with the caller's own privileges, pure helpers, and add_usage/apply_usage, closed to PUBLIC.
GRANT USAGE ON SCHEMA agentflow TO PUBLIC;

-- 3. A soft-deleted project took no new files or state, but its existing ones could still be
-- changed. The live-project check now guards updates as well.
DROP TRIGGER project_files_live_project ON project_files;
CREATE TRIGGER project_files_live_project BEFORE INSERT OR UPDATE ON project_files
  FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project();
DROP TRIGGER agent_states_live_project ON agent_states;
CREATE TRIGGER agent_states_live_project BEFORE INSERT OR UPDATE ON agent_states
  FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project();
