-- API keys of agents, their usage log, and the one function that verifies a key before any tenant
-- is known.
--
-- A key is afk_<key_prefix>_<secret>: the prefix (16 hex digits) is public and finds the row, the
-- secret (32 random bytes, base64url) is shown once and stored only as its SHA-256 (hex). A secret
-- of 256 random bits needs no password hash: nothing can be guessed, so verification costs one
-- SHA-256 instead of a deliberately slow hash.

CREATE TABLE agent_credentials (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id() REFERENCES tenants (id) ON DELETE CASCADE,
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  agent_id uuid NOT NULL,
  key_prefix text NOT NULL CHECK (key_prefix ~ '^[0-9a-f]{16}$'),
  secret_hash text NOT NULL CHECK (secret_hash ~ '^[0-9a-f]{64}$'),
  expires_at timestamptz,
  revoked_at timestamptz,
  -- When a rotation replaced this key (its expires_at then ends the grace period).
  rotated_at timestamptz,
  -- Refreshed at most once a minute by verification (see authenticate_agent_key); the usage rows
  -- are exact.
  last_used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT agent_credentials_agent_fk FOREIGN KEY (tenant_id, agent_id)
    REFERENCES agents (tenant_id, id) ON DELETE CASCADE
);
-- Verification looks a key up by its prefix alone, before any tenant is known: the one index of a
-- tenant table not led by tenant_id that db verify accepts by name. Prefixes are random (64 bits),
-- so uniqueness across tenants costs nothing; under Citus this lookup would move to a reference table.
CREATE UNIQUE INDEX agent_credentials_prefix_key ON agent_credentials (key_prefix);
CREATE INDEX agent_credentials_agent_idx ON agent_credentials (tenant_id, agent_id);
SELECT agentflow.isolate_by_tenant('agent_credentials');
SELECT agentflow.track_changes('agent_credentials', 'tenant_id', ARRAY['secret_hash']);
-- An agent acting in its tenant sees and changes only its own keys; the tenant's users see them all.
-- RESTRICTIVE: ANDed with the tenant policies, so it can only narrow them. The settings are read
-- through sub-selects, once per statement.
CREATE POLICY agent_credentials_agent_own ON agent_credentials AS RESTRICTIVE FOR ALL TO agentflow_app
  USING ((SELECT current_setting('agentflow.actor_type', true)) IS DISTINCT FROM 'agent'
         OR agent_id::text = (SELECT current_setting('agentflow.actor_id', true)))
  WITH CHECK ((SELECT current_setting('agentflow.actor_type', true)) IS DISTINCT FROM 'agent'
         OR agent_id::text = (SELECT current_setting('agentflow.actor_id', true)));
-- The hash is never readable by an application role: not in a SELECT, not in RETURNING.
GRANT SELECT (tenant_id, id, agent_id, key_prefix, expires_at, revoked_at, rotated_at, last_used_at,
              created_at, updated_at) ON agent_credentials TO agentflow_app;
GRANT INSERT ON agent_credentials TO agentflow_app;
GRANT UPDATE (expires_at, revoked_at, rotated_at) ON agent_credentials TO agentflow_app;
GRANT DELETE ON agent_credentials TO agentflow_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON agent_credentials TO agentflow_service;

-- One row per verification, success or failure. Append-only and keyed like audit_logs and events
-- (tenant_id, occurred_at, id) for time partitioning and distribution by tenant. A failure that
-- names no known key carries the no-tenant sentinel, which no tenant can own. No foreign keys: the
-- log outlives the keys and agents it names, as the audit trail does.
CREATE TABLE agent_credential_uses (
  tenant_id uuid NOT NULL,
  id bigint GENERATED ALWAYS AS IDENTITY,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  credential_id uuid,
  agent_id uuid,
  key_prefix text CHECK (key_prefix ~ '^[0-9a-f]{16}$'),
  outcome text NOT NULL CHECK (outcome IN ('success', 'unknown_key', 'wrong_secret', 'revoked', 'expired',
    'agent_unavailable', 'tenant_unavailable')),
  request_id text CHECK (char_length(request_id) <= 512),
  client_address text CHECK (char_length(client_address) <= 512),
  user_agent text CHECK (char_length(user_agent) <= 512),
  PRIMARY KEY (tenant_id, occurred_at, id),
  -- Gone with its key, when an agent or a tenant is purged (the cascade runs as the owner, the one
  -- role the append-only guard lets delete); a failure naming no key (NO_TENANT_ID) has none.
  CONSTRAINT agent_credential_uses_credential_fk FOREIGN KEY (tenant_id, credential_id)
    REFERENCES agent_credentials (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX agent_credential_uses_credential_idx ON agent_credential_uses (tenant_id, credential_id, occurred_at);
-- Refused to every role but the table's owner (the retention export may remove rows).
SELECT agentflow.keep_append_only('agent_credential_uses');
SELECT agentflow.isolate_by_tenant('agent_credential_uses');
CREATE POLICY agent_credential_uses_agent_own ON agent_credential_uses AS RESTRICTIVE FOR ALL TO agentflow_app
  USING ((SELECT current_setting('agentflow.actor_type', true)) IS DISTINCT FROM 'agent'
         OR agent_id::text = (SELECT current_setting('agentflow.actor_id', true)));
-- Rows are written only by authenticate_agent_key (as agentflow_definer, a member of the service role).
GRANT SELECT ON agent_credential_uses TO agentflow_app;
GRANT SELECT, INSERT ON agent_credential_uses TO agentflow_service;

-- Verifies a presented key: its public prefix and the SHA-256 (hex) of its secret. Runs before any
-- tenant is known, as agentflow_app with no tenant set, which sees no credential row: only this
-- function (SECURITY DEFINER, owned by agentflow_definer) reads across tenants, and it returns the
-- match only, never a hash and never a row whose secret did not verify. What is refused is told
-- apart (revoked, expired, …) only once the secret has verified; an unknown prefix and a wrong
-- secret are both 'invalid_key' to the caller, told apart only in the usage row.
--
-- Constant time: the digests are compared as SHA-256(nonce || digest) under a fresh random nonce
-- (256 bits from gen_random_uuid's strong random source, pg_strong_random). Where the two compared
-- values first differ is then random and independent of where the digests differ, so the time of
-- the comparison tells a caller nothing about the stored hash, even one that calls this function
-- with hashes of its choosing.
--
-- Writes one usage row per call, and refreshes last_used_at when it is older than a minute (under
-- the key's agent as the audit actor), so concurrent verifications of one key seldom wait on its
-- row lock and the audit trail gets at most one row a minute per key.
CREATE FUNCTION agentflow.authenticate_agent_key(presented_prefix text, presented_hash text, request jsonb)
  RETURNS TABLE (tenant_id uuid, agent_id uuid, credential_id uuid, outcome text)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  nonce bytea := uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid());
  key record;
  result text;
  previous_actor_type text;
  previous_actor_id text;
BEGIN
  -- No row leaves every field of `key` NULL.
  SELECT c.tenant_id, c.id, c.agent_id, c.secret_hash, c.revoked_at, c.expires_at, c.last_used_at,
         a.status AS agent_status, a.deleted_at AS agent_deleted_at, t.status AS tenant_status
    INTO key
    FROM agent_credentials c
    JOIN agents a ON a.tenant_id = c.tenant_id AND a.id = c.agent_id
    JOIN tenants t ON t.id = c.tenant_id
   WHERE c.key_prefix = presented_prefix;
  IF key.id IS NULL THEN
    result := 'unknown_key';
  ELSIF presented_hash IS NULL OR presented_hash !~ '^[0-9a-f]{64}$'
     OR sha256(nonce || decode(key.secret_hash, 'hex')) <> sha256(nonce || decode(presented_hash, 'hex')) THEN
    result := 'wrong_secret';
  ELSIF key.revoked_at IS NOT NULL THEN
    result := 'revoked';
  ELSIF key.expires_at IS NOT NULL AND key.expires_at <= now() THEN
    result := 'expired';
  ELSIF key.agent_deleted_at IS NOT NULL OR key.agent_status = 'terminated' THEN
    result := 'agent_unavailable';
  ELSIF key.tenant_status NOT IN ('pending', 'active') THEN
    result := 'tenant_unavailable';
  ELSE
    result := 'success';
  END IF;

  INSERT INTO agent_credential_uses (tenant_id, credential_id, agent_id, key_prefix, outcome,
                                     request_id, client_address, user_agent)
  VALUES (coalesce(key.tenant_id, '00000000-0000-0000-0000-000000000000'), key.id, key.agent_id,
          CASE WHEN presented_prefix ~ '^[0-9a-f]{16}$' THEN presented_prefix END, result,
          left(request ->> 'requestId', 512), left(request ->> 'clientAddress', 512),
          left(request ->> 'userAgent', 512));

  IF result <> 'success' THEN
    -- An unknown prefix and a wrong secret look alike to the caller: whether a prefix exists is
    -- not told to one who cannot show its secret.
    RETURN QUERY SELECT NULL::uuid, NULL::uuid, NULL::uuid,
      CASE WHEN result IN ('unknown_key', 'wrong_secret') THEN 'invalid_key' ELSE result END;
    RETURN;
  END IF;
  IF key.last_used_at IS NULL OR key.last_used_at < now() - interval '1 minute' THEN
    previous_actor_type := current_setting('agentflow.actor_type', true);
    previous_actor_id := current_setting('agentflow.actor_id', true);
    PERFORM set_config('agentflow.actor_type', 'agent', true), set_config('agentflow.actor_id', key.agent_id::text, true);
    UPDATE agent_credentials c SET last_used_at = now()
     WHERE c.tenant_id = key.tenant_id AND c.id = key.id
       AND (c.last_used_at IS NULL OR c.last_used_at < now() - interval '1 minute');
    PERFORM set_config('agentflow.actor_type', coalesce(previous_actor_type, ''), true),
            set_config('agentflow.actor_id', coalesce(previous_actor_id, ''), true);
  END IF;
  RETURN QUERY SELECT key.tenant_id, key.agent_id, key.id, result;
END $$;
REVOKE ALL ON FUNCTION agentflow.authenticate_agent_key(text, text, jsonb) FROM PUBLIC;
GRANT CREATE ON SCHEMA agentflow TO agentflow_definer;
ALTER FUNCTION agentflow.authenticate_agent_key(text, text, jsonb) OWNER TO agentflow_definer;
REVOKE CREATE ON SCHEMA agentflow FROM agentflow_definer;
-- Only the role store.authenticate runs as: the service role has its own cross-tenant reads.
GRANT EXECUTE ON FUNCTION agentflow.authenticate_agent_key(text, text, jsonb) TO agentflow_app;
