-- No temporary objects for the application roles. Library SQL names its tables without a schema,
-- and pg_temp is searched first: a temporary table named like a library table (CREATE TEMP TABLE
-- projects …, CREATE TABLE pg_temp.projects …, SELECT … INTO TEMP …) would stand in for the real one
-- in every later transaction on that connection, and through PgBouncer in other clients'. Revoking
-- TEMPORARY from PUBLIC covers every spelling; the database owner keeps it (an owner's privileges
-- are implicit). Only the database owner or a superuser can revoke what PUBLIC holds by default;
-- for another migrating role PostgreSQL only warns, and the units' pinned search_path and the
-- session reset (src/engine/unit-guard.ts) remain.
DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
END
$$;
