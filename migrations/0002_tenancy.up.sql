-- Tenancy core: tenants, global users, and the membership of users in tenants.

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
  CONSTRAINT tenants_deleted_status CHECK ((status = 'deleted') = (deleted_at IS NOT NULL))
);
CREATE UNIQUE INDEX tenants_slug_live_key ON tenants (slug) WHERE deleted_at IS NULL;
SELECT agentflow.isolate_by_tenant('tenants', 'id');
SELECT agentflow.track_changes('tenants', 'id');
-- Tenants are created, re-planned and deleted by the service role. A tenant may read itself and
-- change its name and settings, never its plan, status, quotas or usage.
GRANT SELECT, UPDATE (name, settings) ON tenants TO agentflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON tenants TO agentflow_service;

-- Adds `amount` to a usage counter of `target`, refusing to raise it past its quota (SQLSTATE AF001)
-- or to take it below zero (AF002); a decrease is never refused by the quota. FOR NO KEY UPDATE
-- queues concurrent calls without conflicting with the FOR KEY SHARE lock that a foreign-key check
-- on the tenant row holds (FOR UPDATE would deadlock two concurrent project inserts). Internal:
-- callable only by its owner, i.e. through add_usage() or the usage triggers. With `missing_ok`, an
-- absent tenant (one being purged) is not an error.
CREATE FUNCTION agentflow.apply_usage(target uuid, counter text, amount bigint, missing_ok boolean DEFAULT false)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
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
-- Unless run by a superuser, a new owner needs CREATE on the schema: granted for this statement only.
GRANT CREATE ON SCHEMA agentflow TO agentflow_service;
ALTER FUNCTION agentflow.apply_usage(uuid, text, bigint, boolean) OWNER TO agentflow_service;
REVOKE CREATE ON SCHEMA agentflow FROM agentflow_service;
REVOKE ALL ON FUNCTION agentflow.apply_usage(uuid, text, bigint, boolean) FROM PUBLIC;

-- The entry point for the application: a tenant only ever counts against itself.
CREATE FUNCTION agentflow.add_usage(target uuid, counter text, amount bigint) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
  AS $$
BEGIN
  IF target IS DISTINCT FROM agentflow.current_tenant_id()
     AND current_setting('role', true) IS DISTINCT FROM 'agentflow_service' THEN
    RAISE EXCEPTION 'usage of tenant % cannot be changed from another tenant', target
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN agentflow.apply_usage(target, counter, amount);
END $$;
-- Unless run by a superuser, a new owner needs CREATE on the schema: granted for this statement only.
GRANT CREATE ON SCHEMA agentflow TO agentflow_service;
ALTER FUNCTION agentflow.add_usage(uuid, text, bigint) OWNER TO agentflow_service;
REVOKE CREATE ON SCHEMA agentflow FROM agentflow_service;
REVOKE ALL ON FUNCTION agentflow.add_usage(uuid, text, bigint) FROM PUBLIC;
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
SELECT agentflow.isolate_by_tenant('memberships');
SELECT agentflow.track_changes('memberships', 'tenant_id');
GRANT SELECT, INSERT, UPDATE, DELETE ON memberships TO agentflow_app, agentflow_service;

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
