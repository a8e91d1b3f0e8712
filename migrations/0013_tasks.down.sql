-- The session start of migration 7 again: it counts no tasks.
CREATE OR REPLACE FUNCTION agentflow.record_session_event() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  previous record;
  mentioned integer;
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT s.id, s.stopped_at INTO previous
      FROM work_sessions s
     WHERE s.tenant_id = NEW.tenant_id AND s.agent_id = NEW.agent_id AND s.status = 'stopped'
     ORDER BY s.started_at DESC LIMIT 1;
    SELECT count(*) INTO mentioned
      FROM (SELECT 1 FROM event_mentions m
             WHERE m.tenant_id = NEW.tenant_id AND m.agent_id = NEW.agent_id
               AND m.occurred_at > coalesce(previous.stopped_at, '-infinity')
             LIMIT 1000) AS m;
    INSERT INTO events (tenant_id, type, project_id, session_id, payload)
    VALUES (NEW.tenant_id, 'session_start', NEW.project_id, NEW.id, jsonb_build_object(
      'agentId', NEW.agent_id,
      'previousSessionId', previous.id,
      'since', previous.stopped_at,
      'pulledUpdates', jsonb_build_object('mentions', mentioned, 'tasks', 0)));
  ELSIF NEW.status = 'stopped' THEN
    INSERT INTO events (tenant_id, type, project_id, session_id, payload)
    VALUES (NEW.tenant_id, 'session_stop', NEW.project_id, NEW.id, jsonb_build_object(
      'agentId', NEW.agent_id,
      'durationSeconds', NEW.duration_seconds,
      'tasksWorkedOn', cardinality(NEW.tasks_worked_on)));
  END IF;
  RETURN NULL;
END $$;
DROP TRIGGER projects_delete_tasks ON projects;
DROP FUNCTION agentflow.delete_project_tasks();
DROP FUNCTION agentflow.purge_deleted_work(integer);
DROP TABLE activity_feed;
DROP TABLE tasks;
DROP FUNCTION agentflow.record_task_change();
DROP FUNCTION agentflow.record_task_activity();
DROP FUNCTION agentflow.record_activity();
DROP FUNCTION agentflow.append_activity(uuid, uuid, uuid, text, text, jsonb, boolean);
DROP FUNCTION agentflow.guard_task();
