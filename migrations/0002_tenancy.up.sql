-- Tenancy: tenants, global users, the membership of users in tenants, and the usage counters.

CREATE TABLE tenants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug text NOT NULL CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  plan text NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'starter', 'professional', 'enterprise')),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'active', 'suspended', 'deleted')),
  settings jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
  quotas jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(quotas) = 'object'),
  usage jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(usage) = 'object'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  CONSTRAINT tenants_deleted_status CHECK ((status = 'deleted') = (deleted_at IS NOT NULL)),
  -- The tenant_id of audit rows of no tenant (0001_foundation): no tenant may own it.
  CONSTRAINT tenants_id_not_sentinel CHECK (id <> '00000000-0000-0000-0000-000000000000')
);
CREATE UNIQUE INDEX tenants_slug_live_key ON tenants (slug) WHERE deleted_at IS NULL;
SELECT agentflow.isolate_by_tenant('tenants', 'id');
SELECT agentflow.track_changes('tenants', 'id');
-- Tenants are created, re-planned and deleted by the service role. A tenant may read itself and
-- change its name and settings, never its plan, status, quotas or usage.
GRANT SELECT, UPDATE (name, settings) ON tenants TO agentflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants TO agentflow_service;

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
-- A trigger function, closed to PUBLIC like the others (0001_foundation).
REVOKE EXECUTE ON FUNCTION agentflow.check_settings_size() FROM PUBLIC;
CREATE TRIGGER tenants_settings_size BEFORE INSERT OR UPDATE OF settings ON tenants
  FOR EACH ROW EXECUTE FUNCTION agentflow.check_settings_size();

-- Adds `amount` to a usage counter of `target`, refusing to raise it past its quota (SQLSTATE AF001)
-- or to take it below zero (AF002); a decrease is never refused by the quota. FOR NO KEY UPDATE
-- queues concurrent calls without conflicting with the FOR KEY SHARE lock that a foreign-key check
-- on the tenant row holds (FOR UPDATE would deadlock two concurrent project inserts). Internal:
-- callable only by its owner, i.e. through add_usage() or the usage triggers. With `missing_ok`, an
-- absent tenant (one being purged) is not an error.
CREATE FUNCTION agentflow.apply_usage(target uuid, counter text, amount bigint, missing_ok boolean DEFAULT false)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  used bigint;
  quota bigint;
BEGIN
  SELECT coalesce((usage ->> counter)::bigint, 0), (quotas ->> counter)::bigint
    INTO used, quota
    FROM tenants WHERE id = target
     FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    IF missing_ok THEN RETURN NULL; END IF;
    RAISE EXCEPTION 'tenant % not found', target USING ERRCODE = 'no_data_found';
  END IF;
  IF used + amount < 0 THEN
    RAISE EXCEPTION 'usage counter % cannot go below zero (at %)', counter, used USING ERRCODE = 'AF002';
  END IF;
  IF amount > 0 AND quota IS NOT NULL AND used + amount > quota THEN
    RAISE EXCEPTION 'quota exceeded for %: % used of %, % more requested', counter, used, quota, amount
      USING ERRCODE = 'AF001';
  END IF;
  UPDATE tenants SET usage = jsonb_set(usage, ARRAY[counter], to_jsonb(used + amount)) WHERE id = target;
  RETURN used + amount;
END $$;
REVOKE ALL ON FUNCTION agentflow.apply_usage(uuid, text, bigint, boolean) FROM PUBLIC;

-- The entry point for the application: a tenant only ever counts against itself, may only raise a
-- counter, and never `projects` (the projects trigger maintains it), so it cannot lower a counter
-- and go past its quota again. Lowering or correcting usage is for the service role. Refusals are
-- insufficient_privilege: the service role may do what the tenant may not.
CREATE FUNCTION agentflow.add_usage(target uuid, counter text, amount bigint) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  IF current_setting('role', true) IS DISTINCT FROM 'agentflow_service' THEN
    IF target IS DISTINCT FROM agentflow.current_tenant_id() THEN
      RAISE EXCEPTION 'usage of tenant % cannot be changed from another tenant', target
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF counter = 'projects' THEN
      RAISE EXCEPTION 'usage counter % is maintained by the database and cannot be changed by a tenant', counter
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF amount IS NULL OR amount <= 0 THEN
      RAISE EXCEPTION 'usage counter % can only be raised by a tenant, not changed by %', counter, amount
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  END IF;
  RETURN agentflow.apply_usage(target, counter, amount);
END $$;
REVOKE ALL ON FUNCTION agentflow.add_usage(uuid, text, bigint) FROM PUBLIC;

-- Tenant work needs a tenant that exists and is pending or active: a suspended or deleted
-- tenant's data stays, but no unit of work runs for it. The unit of work calls this in its set-up
-- statement (no extra round trip). Callable by every role: the set-up runs before the role switch.
CREATE FUNCTION agentflow.require_usable_tenant(target uuid) RETURNS void
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  current_status text;
BEGIN
  SELECT status INTO current_status FROM tenants WHERE id = target;
  IF current_status IS NULL OR current_status = 'deleted' THEN
    RAISE EXCEPTION 'tenant % does not exist or is deleted', target USING ERRCODE = 'AF003';
  END IF;
  IF current_status NOT IN ('pending', 'active') THEN
    RAISE EXCEPTION 'tenant % is %: no tenant work runs until it is reactivated', target, current_status
      USING ERRCODE = 'AF003';
  END IF;
END $$;

-- The SECURITY DEFINER functions belong to agentflow_definer (0001_foundation). Unless run by a
-- superuser, a new owner needs CREATE on the schema: granted for these statements only.
GRANT CREATE ON SCHEMA agentflow TO agentflow_definer;
ALTER FUNCTION agentflow.apply_usage(uuid, text, bigint, boolean) OWNER TO agentflow_definer;
ALTER FUNCTION agentflow.add_usage(uuid, text, bigint) OWNER TO agentflow_definer;
ALTER FUNCTION agentflow.require_usable_tenant(uuid) OWNER TO agentflow_definer;
REVOKE CREATE ON SCHEMA agentflow FROM agentflow_definer;
GRANT EXECUTE ON FUNCTION agentflow.add_usage(uuid, text, bigint) TO agentflow_app, agentflow_service;

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email text NOT NULL CHECK (email = lower(email) AND char_length(email) BETWEEN 3 AND 320 AND email LIKE '_%@_%'),
  password_hash text,
  name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  avatar_url text CHECK (char_length(avatar_url) <= 2048),
  github_id bigint,
  github_username text CHECK (char_length(github_username) <= 100),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz
);
CREATE UNIQUE INDEX users_email_live_key ON users (email) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX users_github_id_live_key ON users (github_id) WHERE github_id IS NOT NULL AND deleted_at IS NULL;
SELECT agentflow.track_changes('users', '', ARRAY['password_hash']);

CREATE TABLE memberships (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id() REFERENCES tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'member', 'service')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT memberships_user_key UNIQUE (tenant_id, user_id)
);
-- Deleting a user cascades to its memberships through user_id, which without an index scans every
-- tenant's memberships. Not led by tenant_id: users is a global table, so the lookup has no tenant.
-- db verify allows exactly this: a plain index on the columns of a foreign key to a global table.
CREATE INDEX memberships_user_idx ON memberships (user_id);
SELECT agentflow.isolate_by_tenant('memberships');
SELECT agentflow.track_changes('memberships', 'tenant_id');
-- A tenant that could insert a membership for any user id could then read that user's email and
-- name (users_member_select): adding a user to a tenant is for the service role. A tenant reads
-- its memberships, changes their role and removes them.
GRANT SELECT, DELETE ON memberships TO agentflow_app;
GRANT UPDATE (role) ON memberships TO agentflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON memberships TO agentflow_service;

-- Users are global: a tenant sees the users who are its members, never their password hash.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY users_member_select ON users FOR SELECT USING (
  EXISTS (SELECT 1 FROM memberships m
           WHERE m.user_id = users.id AND m.tenant_id = (SELECT agentflow.current_tenant_id()))
);
CREATE POLICY users_service_all ON users FOR ALL TO agentflow_service USING (true) WITH CHECK (true);
GRANT SELECT (id, email, name, avatar_url, github_id, github_username, created_at, updated_at, deleted_at)
  ON users TO agentflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON users TO agentflow_service;
