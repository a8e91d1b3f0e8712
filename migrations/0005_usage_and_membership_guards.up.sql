-- Closes two ways for a tenant to get around the service role.
--
-- Usage: add_usage() let the app role pass any amount for any counter of its own tenant, so a
-- tenant could lower a counter (or `projects`, which the projects trigger maintains) and then go
-- past its quota again. The app role may now only raise a counter, and never `projects`; lowering
-- or correcting usage is for the service role, and the trigger path (apply_usage) is unchanged.
-- Refusals are insufficient_privilege: the service role may do what the tenant may not.
CREATE OR REPLACE FUNCTION agentflow.add_usage(target uuid, counter text, amount bigint) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public
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

-- Memberships: a tenant that could insert a membership for any user id could then read that
-- user's email and name (users_member_select). Adding a user to a tenant is for the service role;
-- a tenant keeps reading its memberships, changing their role and removing them. Revoking the
-- table-level privileges also revokes any column-level ones.
REVOKE INSERT, UPDATE ON memberships FROM agentflow_app;
GRANT UPDATE (role) ON memberships TO agentflow_app;
