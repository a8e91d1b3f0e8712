ALTER FUNCTION agentflow.require_live_project() RESET search_path;
ALTER FUNCTION agentflow.require_usable_tenant(uuid) SET search_path = pg_catalog, public;
ALTER FUNCTION agentflow.audit_row() SET search_path = pg_catalog, public;
ALTER FUNCTION agentflow.count_live_projects() SET search_path = pg_catalog, public;
ALTER FUNCTION agentflow.add_usage(uuid, text, bigint) SET search_path = pg_catalog, public;
ALTER FUNCTION agentflow.apply_usage(uuid, text, bigint, boolean) SET search_path = pg_catalog, public;

GRANT EXECUTE ON FUNCTION agentflow.audit_row(), agentflow.count_live_projects(),
  agentflow.require_live_project(), agentflow.touch_updated_at(), agentflow.reject_mutation(),
  agentflow.isolate_by_tenant(regclass, text), agentflow.track_changes(regclass, text, text[])
  TO PUBLIC;
