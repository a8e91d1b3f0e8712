-- Placeholder for the executions helper's migration 0015 (not in this worktree): migration versions must be
-- consecutive. Dropped at the merge, where the real one takes its number.
SELECT 1;
