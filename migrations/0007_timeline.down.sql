DROP TABLE events;
DROP FUNCTION agentflow.refuse_event_change();
DROP FUNCTION agentflow.prepare_event();
DROP FUNCTION agentflow.check_events();
DROP TABLE work_sessions;
DROP FUNCTION agentflow.start_work_session();
DROP FUNCTION agentflow.change_work_session();
DROP FUNCTION agentflow.record_session_event();
