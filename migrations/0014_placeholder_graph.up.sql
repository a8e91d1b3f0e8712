-- Placeholder for the graph helper's migration 0014 (not in this worktree): migration versions must be
-- consecutive. Dropped at the merge, where the real one takes its number.
SELECT 1;
