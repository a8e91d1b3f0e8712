DROP FUNCTION agentflow.add_usage(uuid, text, bigint);
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE tenants;
