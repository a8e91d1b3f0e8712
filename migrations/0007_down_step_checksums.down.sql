ALTER TABLE schema_migrations DROP COLUMN down_checksum;
