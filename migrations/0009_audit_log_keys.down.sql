-- Restores audit_logs, audit_row() and tenants exactly as 0001, 0002 and 0008 left them: rows of
-- no tenant carry NULL again (no tenant owns the sentinel, so every sentinel row is one of them).
ALTER TABLE audit_logs DROP CONSTRAINT audit_logs_pkey;
ALTER TABLE audit_logs ALTER COLUMN tenant_id DROP NOT NULL;
-- As on the way up: the guard trigger and forced row-level security are lifted for this statement.
ALTER TABLE audit_logs NO FORCE ROW LEVEL SECURITY, DISABLE TRIGGER audit_logs_append_only;
UPDATE audit_logs SET tenant_id = NULL WHERE tenant_id = '00000000-0000-0000-0000-000000000000';
ALTER TABLE audit_logs FORCE ROW LEVEL SECURITY, ENABLE TRIGGER audit_logs_append_only;
ALTER TABLE audit_logs ADD CONSTRAINT audit_logs_pkey PRIMARY KEY (id);
CREATE INDEX audit_logs_tenant_time_idx ON audit_logs (tenant_id, occurred_at DESC);

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
    row_tenant,
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

ALTER TABLE tenants DROP CONSTRAINT tenants_id_not_sentinel;
