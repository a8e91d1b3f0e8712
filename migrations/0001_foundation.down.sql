-- The roles agentflow_app and agentflow_service are cluster-wide and may serve other databases:
-- they are left in place. Dropping the objects below removes every privilege granted on them.
DROP TABLE audit_logs;
DROP SCHEMA agentflow CASCADE;
REVOKE USAGE ON SCHEMA public FROM agentflow_app, agentflow_service;
