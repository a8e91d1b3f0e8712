-- Lets an application login role open the store. Such a role should be created NOINHERIT and be
-- granted only agentflow_app and agentflow_service: it then holds no privilege of its own, so SQL
-- that escapes the unit of work with RESET ROLE can read nothing. Opening the store reads the
-- schema version as that login role, before any role switch; the history names migrations and
-- nothing else, so every role may read it.
GRANT SELECT ON schema_migrations TO PUBLIC;
