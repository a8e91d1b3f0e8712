DROP TABLE task_checkpoints;
DROP TABLE task_attachments;
DROP TABLE task_comments;
DROP FUNCTION agentflow.prepare_task_checkpoint();
DROP FUNCTION agentflow.guard_task_attachment();
DROP FUNCTION agentflow.guard_task_comment();
DROP FUNCTION agentflow.may_delete_note(uuid, uuid, uuid);
DROP FUNCTION agentflow.note_author(uuid, uuid, uuid, uuid, text, text);
