DROP TABLE activity_feed;
DROP TABLE tasks;
DROP FUNCTION agentflow.record_task_change();
DROP FUNCTION agentflow.record_task_activity();
DROP FUNCTION agentflow.record_activity();
DROP FUNCTION agentflow.append_activity(uuid, uuid, uuid, text, text, jsonb, boolean);
DROP FUNCTION agentflow.guard_task();
