DROP TRIGGER agent_states_live_project ON agent_states;
CREATE TRIGGER agent_states_live_project BEFORE INSERT ON agent_states
  FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project();
DROP TRIGGER project_files_live_project ON project_files;
CREATE TRIGGER project_files_live_project BEFORE INSERT ON project_files
  FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project();

DROP FUNCTION agentflow.require_usable_tenant(uuid);
REVOKE USAGE ON SCHEMA agentflow FROM PUBLIC;

REVOKE EXECUTE ON FUNCTION agentflow.add_usage(uuid, text, bigint) FROM agentflow_service;
-- agentflow_definer is cluster-wide and may serve other databases: it is left in place.
-- Unless run by a superuser, a new owner needs CREATE on the schema: granted for this statement only.
GRANT CREATE ON SCHEMA agentflow TO agentflow_service;
DO $$
DECLARE
  fn regprocedure;
BEGIN
  FOR fn IN
    SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname = 'agentflow' AND p.proowner = 'agentflow_definer'::regrole
  LOOP
    EXECUTE format('ALTER FUNCTION %s OWNER TO agentflow_service', fn);
  END LOOP;
END $$;
REVOKE CREATE ON SCHEMA agentflow FROM agentflow_service;
