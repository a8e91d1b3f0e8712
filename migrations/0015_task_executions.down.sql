DROP TABLE execution_cost_daily;
DROP TABLE tenant_execution_totals;
DROP TABLE task_execution_totals;
DROP TABLE task_executions;
DROP FUNCTION agentflow.record_execution_activity();
DROP FUNCTION agentflow.count_task_execution();
DROP FUNCTION agentflow.guard_task_execution();
