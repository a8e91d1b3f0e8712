DROP TABLE evidence_links;
DROP TABLE evidence;
DROP FUNCTION agentflow.guard_evidence();
