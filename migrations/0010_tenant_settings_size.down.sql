DROP TRIGGER tenants_settings_size ON tenants;
DROP FUNCTION agentflow.check_settings_size();
