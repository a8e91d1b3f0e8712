REVOKE SELECT ON schema_migrations FROM PUBLIC;
