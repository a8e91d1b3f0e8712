-- Restores add_usage() and the memberships grants exactly as 0002_tenancy made them.
CREATE OR REPLACE FUNCTION agentflow.add_usage(target uuid, counter text, amount bigint) RETURNS bigint
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

-- Revoking UPDATE on the table also revokes the column-level UPDATE (role) of the up step.
REVOKE UPDATE ON memberships FROM agentflow_app;
GRANT INSERT, UPDATE ON memberships TO agentflow_app;
