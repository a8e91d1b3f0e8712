DROP TRIGGER tenants_governed ON tenants;
DROP TRIGGER memberships_governed ON memberships;
DROP FUNCTION agentflow.require_tenant_governor();
