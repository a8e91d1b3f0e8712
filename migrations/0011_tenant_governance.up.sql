-- Who may govern a tenant from inside it. Changing a member's role, removing a member, and renaming
-- the tenant or changing its settings are for a human owner or admin of the tenant. Agents act
-- through the HTTP API with their keys and run as agentflow_app like any tenant work, so this is the
-- database's rule, raw SQL included; the service role (operators) is not concerned.
CREATE FUNCTION agentflow.require_tenant_governor() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  governs boolean := false;
BEGIN
  -- Nested, not ANDed: SQL does not promise to evaluate AND left to right, and a service actor's id
  -- is not a uuid.
  IF current_user <> 'agentflow_app' THEN
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  IF current_setting('agentflow.actor_type', true) = 'user' THEN
    governs := EXISTS (SELECT 1 FROM memberships m
                        WHERE m.tenant_id = agentflow.current_tenant_id()
                          AND m.user_id = current_setting('agentflow.actor_id', true)::uuid
                          AND m.role IN ('owner', 'admin'));
  END IF;
  IF NOT governs THEN
    RAISE EXCEPTION '% on % needs a human owner or admin of the tenant', TG_OP, TG_TABLE_NAME
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.require_tenant_governor() FROM PUBLIC;

CREATE TRIGGER memberships_governed BEFORE UPDATE OR DELETE ON memberships
  FOR EACH ROW EXECUTE FUNCTION agentflow.require_tenant_governor();
-- Not OF usage: agentflow.add_usage counts usage for any tenant work, as its definer.
CREATE TRIGGER tenants_governed BEFORE UPDATE OF name, settings ON tenants
  FOR EACH ROW EXECUTE FUNCTION agentflow.require_tenant_governor();
