-- Placeholder for migration 8, built by the "keys" helper in parallel (agent credentials): it only keeps
-- versions consecutive on this branch. Delete both files when merging the keys branch.
SELECT 1;
