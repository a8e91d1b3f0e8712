-- The history kept only the up step's checksum, so a down step edited after its migration was
-- applied ran on rollback unnoticed. The migrator records each down step's checksum here (for
-- migrations applied before this one, as the file reads when this one is applied) and refuses to
-- roll back through a down step that no longer matches.
ALTER TABLE schema_migrations ADD COLUMN down_checksum text;
