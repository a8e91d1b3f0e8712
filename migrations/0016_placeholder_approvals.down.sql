-- Placeholder (see the up step).
SELECT 1;
