DROP TABLE execution_evidence;
DROP FUNCTION agentflow.guard_execution_evidence();
ALTER TABLE task_attachments DROP CONSTRAINT task_attachments_evidence_fk;
DROP TABLE evidence_links;
DROP TABLE evidence;
DROP FUNCTION agentflow.guard_evidence();
