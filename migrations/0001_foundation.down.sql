-- The roles are cluster-wide and may serve other databases: they are left in place, and so are
-- their grants to the owner. Dropping the objects below removes every privilege granted on them.
DROP TABLE audit_logs;
DROP FUNCTION agentflow.track_changes(regclass, text, text[]), agentflow.isolate_by_tenant(regclass, text),
  agentflow.audit_row(), agentflow.audit_values(jsonb, text[]), agentflow.reject_mutation(), agentflow.touch_updated_at(),
  agentflow.sha256_hex(text), agentflow.current_tenant_id();
DROP SCHEMA agentflow;
REVOKE SELECT ON schema_migrations FROM PUBLIC;
REVOKE USAGE ON SCHEMA public FROM agentflow_app, agentflow_service;
