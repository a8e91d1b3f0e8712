-- audit_logs keyed for growth. It is the largest append-only table, to be partitioned by time and
-- distributed by tenant (Citus) when one machine is outgrown: both need their column in every
-- unique key, and Citus needs a non-null distribution column. The primary key becomes
-- (tenant_id, occurred_at, id), and tenant_id is never NULL.

-- 1. Rows of no tenant (users, a global table; service work without a tenant) carry a fixed
-- sentinel instead of NULL, and no tenant may ever own that id: its rows stay invisible to every
-- tenant, as NULL rows were.
ALTER TABLE tenants ADD CONSTRAINT tenants_id_not_sentinel
  CHECK (id <> '00000000-0000-0000-0000-000000000000');

-- CREATE OR REPLACE keeps the owner and the privileges of 0001/0008; the search_path is 0008's.
-- Only the tenant_id written changes.
CREATE OR REPLACE FUNCTION agentflow.audit_row() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  old_row jsonb;
  new_row jsonb;
  row_data jsonb;
  redacted text[] := TG_ARGV[1:];
  row_tenant uuid;
BEGIN
  IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD) - redacted; END IF;
  IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW) - redacted; END IF;
  row_data := coalesce(new_row, old_row);
  IF TG_OP = 'UPDATE' THEN
    -- Keep only what changed, on both sides.
    SELECT coalesce(jsonb_object_agg(o.key, o.value), '{}'), coalesce(jsonb_object_agg(o.key, new_row -> o.key), '{}')
      INTO old_row, new_row
      FROM jsonb_each(old_row) AS o
     WHERE o.value IS DISTINCT FROM new_row -> o.key;
  END IF;
  IF TG_ARGV[0] <> '' THEN
    row_tenant := (row_data ->> TG_ARGV[0])::uuid;
  ELSE
    row_tenant := agentflow.current_tenant_id();
  END IF;
  INSERT INTO audit_logs (tenant_id, actor_type, actor_id, db_role, action, table_name, row_id,
                          old_values, new_values, request_context)
  VALUES (
    -- No tenant: the sentinel of migration 9, which no tenant can own.
    coalesce(row_tenant, '00000000-0000-0000-0000-000000000000'),
    coalesce(nullif(current_setting('agentflow.actor_type', true), ''), 'system'),
    coalesce(nullif(current_setting('agentflow.actor_id', true), ''), session_user::text),
    coalesce(nullif(current_setting('role', true), 'none'), session_user::text),
    lower(TG_OP),
    TG_TABLE_NAME,
    row_data ->> 'id',
    old_row,
    new_row,
    nullif(current_setting('agentflow.request_context', true), '')::jsonb
  );
  RETURN NULL;
END $$;

-- 2. Existing rows of no tenant get the sentinel. The guard trigger refuses UPDATE even to the
-- owner, and forced row-level security gives the owner no UPDATE policy (a non-superuser owner
-- would update nothing), so both are lifted for this one statement; the migration's transaction
-- holds the table's lock until both are back.
ALTER TABLE audit_logs NO FORCE ROW LEVEL SECURITY, DISABLE TRIGGER audit_logs_append_only;
UPDATE audit_logs SET tenant_id = '00000000-0000-0000-0000-000000000000' WHERE tenant_id IS NULL;
ALTER TABLE audit_logs FORCE ROW LEVEL SECURITY, ENABLE TRIGGER audit_logs_append_only;

-- 3. The keys. A backward scan of the primary key serves (tenant_id, occurred_at DESC), the
-- tenant's trail newest first, so that index goes; (tenant_id, table_name, row_id) stays.
ALTER TABLE audit_logs ALTER COLUMN tenant_id SET NOT NULL;
ALTER TABLE audit_logs DROP CONSTRAINT audit_logs_pkey;
ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_pkey PRIMARY KEY (tenant_id, occurred_at, id);
DROP INDEX audit_logs_tenant_time_idx;
