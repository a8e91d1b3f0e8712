DROP FUNCTION agentflow.add_usage(uuid, text, bigint);
DROP FUNCTION agentflow.apply_usage(uuid, text, bigint, boolean);
-- One statement: the users policy reads memberships, and memberships references users.
DROP TABLE memberships, users, tenants;
