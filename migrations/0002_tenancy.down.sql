-- One statement: the users policy reads memberships, and memberships references users.
DROP TABLE memberships, users, tenants;
DROP FUNCTION agentflow.require_usable_tenant(uuid), agentflow.add_usage(uuid, text, bigint),
  agentflow.apply_usage(uuid, text, bigint, boolean), agentflow.check_settings_size();
