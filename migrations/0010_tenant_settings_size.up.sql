-- A tenant's settings stay within the 1 MiB a settings patch may have (JSON_DOCUMENT_MAX_BYTES in
-- src/shared/validation.ts): each patch is checked, but `settings || patch` could grow past the
-- bound over many updates.
--
-- Measured as octet_length(settings::text): bytes, like the patch check (UTF-8 bytes of the JSON
-- text), of jsonb's own canonical text, which is what a reader gets back and depends only on the
-- stored value (keys sorted, duplicates gone). pg_column_size() would measure the compressed
-- binary form instead, which neither side sees and which varies with TOAST compression. That text
-- writes a space after each ':' and ',' and numbers in full, so it is a little larger than
-- JSON.stringify's: the stored bound is the stricter of the two.
--
-- A trigger rather than a CHECK: a CHECK runs on every UPDATE of the row, and the usage counters
-- update it for every project created; serializing 1 MiB of settings costs each such update
-- milliseconds. The trigger runs only when settings are written. It reports a check violation
-- named tenants_settings_size, as the CHECK would have.
CREATE FUNCTION agentflow.check_settings_size() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  bytes integer := octet_length(NEW.settings::text);
BEGIN
  IF bytes > 1048576 THEN
    RAISE EXCEPTION 'tenant settings must not exceed 1048576 bytes as stored JSON text, not %', bytes
      USING ERRCODE = 'check_violation', CONSTRAINT = 'tenants_settings_size', TABLE = 'tenants',
            COLUMN = 'settings';
  END IF;
  RETURN NEW;
END $$;
-- Like every trigger function of this schema (migration 8): firing a trigger checks no EXECUTE.
REVOKE EXECUTE ON FUNCTION agentflow.check_settings_size() FROM PUBLIC;

CREATE TRIGGER tenants_settings_size BEFORE INSERT OR UPDATE OF settings ON tenants
  FOR EACH ROW EXECUTE FUNCTION agentflow.check_settings_size();

-- Rows already over the bound make this migration fail by name and change nothing: trimming a
-- tenant's settings is the tenant's decision, not something to do silently here.
DO $$
BEGIN
  IF EXISTS (SELECT FROM tenants WHERE octet_length(settings::text) > 1048576) THEN
    RAISE EXCEPTION 'tenants_settings_size: some tenants already have settings over 1048576 bytes'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'tenants_settings_size', TABLE = 'tenants';
  END IF;
END $$;
