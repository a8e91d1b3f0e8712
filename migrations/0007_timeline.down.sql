DROP TABLE events;
DROP FUNCTION agentflow.refuse_event_change();
DROP TABLE work_sessions;
