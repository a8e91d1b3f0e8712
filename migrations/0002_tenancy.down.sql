DROP FUNCTION agentflow.add_usage(uuid, text, bigint);
-- One statement: the users policy reads memberships, and memberships references users.
DROP TABLE memberships, users, tenants;
