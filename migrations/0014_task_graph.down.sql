DROP TABLE task_dependencies;
DROP FUNCTION agentflow.check_task_edge();
DROP INDEX tasks_queue_idx;
DROP INDEX tasks_project_queue_idx;
DROP INDEX tasks_project_id_key;
