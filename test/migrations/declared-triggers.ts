/**
 * The triggers of every table, as `pg_get_triggerdef` prints them without `CREATE TRIGGER` and the
 * table: Drizzle cannot declare triggers, so this is their side of the drift test. A migration that
 * adds, changes or drops a trigger changes this list in the same commit.
 */
export const DECLARED_TRIGGERS: Record<string, string[]> = {
  'public.tenants': [
    "tenants_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('id')",
    'tenants_governed BEFORE UPDATE OF name, settings FOR EACH ROW EXECUTE FUNCTION agentflow.require_tenant_governor()',
    'tenants_retention_setting BEFORE INSERT OR UPDATE OF settings FOR EACH ROW EXECUTE FUNCTION agentflow.check_retention_setting()',
    'tenants_settings_size BEFORE INSERT OR UPDATE OF settings FOR EACH ROW EXECUTE FUNCTION agentflow.check_settings_size()',
    'tenants_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
  ],
  'public.users': [
    "users_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('', 'password_hash')",
    'users_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
  ],
  'public.memberships': [
    "memberships_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'memberships_governed BEFORE DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.require_tenant_governor()',
    'memberships_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
  ],
  'public.projects': [
    "projects_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'projects_count_usage AFTER INSERT OR DELETE OR UPDATE OF deleted_at FOR EACH ROW EXECUTE FUNCTION agentflow.count_live_projects()',
    'projects_delete_tasks AFTER UPDATE OF deleted_at FOR EACH ROW WHEN (((old.deleted_at IS NULL) AND (new.deleted_at IS NOT NULL))) EXECUTE FUNCTION agentflow.delete_project_tasks()',
    'projects_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
  ],
  'public.project_files': [
    "project_files_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'project_files_live_project BEFORE INSERT OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project()',
    'project_files_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
  ],
  'public.agent_states': [
    "agent_states_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'agent_states_live_project BEFORE INSERT OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project()',
    'agent_states_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
  ],
  'public.agents': [
    "agents_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'agents_lifecycle BEFORE INSERT OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.guard_agent()',
    'agents_live_project BEFORE INSERT OR UPDATE OF project_id FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project()',
    'agents_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
    'agents_trust_score_changed AFTER UPDATE OF trust_score FOR EACH ROW WHEN ((old.trust_score IS DISTINCT FROM new.trust_score)) EXECUTE FUNCTION agentflow.trust_score_changed_event()',
  ],
  'public.work_sessions': [
    "work_sessions_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'work_sessions_live_project BEFORE INSERT OR UPDATE OF project_id FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project()',
    'work_sessions_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
    'work_sessions_start BEFORE INSERT FOR EACH ROW EXECUTE FUNCTION agentflow.start_work_session()',
    'work_sessions_change BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.change_work_session()',
    'work_sessions_events AFTER INSERT OR UPDATE OF status FOR EACH ROW EXECUTE FUNCTION agentflow.record_session_event()',
  ],
  'public.wiki_entries': [
    "wiki_entries_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'wiki_entries_contribution AFTER INSERT OR UPDATE OF status FOR EACH ROW EXECUTE FUNCTION agentflow.record_wiki_contribution()',
    'wiki_entries_delete_entry AFTER UPDATE OF deleted_at FOR EACH ROW WHEN (((old.deleted_at IS NULL) AND (new.deleted_at IS NOT NULL))) EXECUTE FUNCTION agentflow.delete_wiki_entry()',
    'wiki_entries_guard BEFORE INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.guard_wiki_entry()',
    'wiki_entries_live_project BEFORE INSERT OR UPDATE OF project_id FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project()',
    "wiki_entries_publish AFTER INSERT OR UPDATE OF status FOR EACH ROW WHEN ((new.status = 'approved'::text)) EXECUTE FUNCTION agentflow.publish_wiki_version()",
    'wiki_entries_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
  ],
  'public.wiki_pages': [
    'wiki_pages_guard BEFORE UPDATE OF view_count FOR EACH ROW EXECUTE FUNCTION agentflow.guard_wiki_page()',
  ],
  'public.tasks': [
    "tasks_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'tasks_live_project BEFORE INSERT OR UPDATE OF project_id FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project()',
    'tasks_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
    'tasks_lifecycle BEFORE INSERT OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.guard_task()',
    "tasks_awaiting_approval BEFORE UPDATE OF status FOR EACH ROW WHEN (((old.status = 'in_review'::text) AND (new.status IS DISTINCT FROM old.status))) EXECUTE FUNCTION agentflow.hold_task_in_review()",
    'tasks_activity AFTER INSERT OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.record_task_activity()',
    'tasks_recorded AFTER INSERT OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.record_task_change()',
  ],
  'public.task_dependencies': [
    "task_dependencies_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'task_dependencies_acyclic BEFORE INSERT OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.check_task_edge()',
  ],
  'public.artifacts': [
    "artifacts_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'artifacts_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
    'artifacts_prepare BEFORE INSERT FOR EACH ROW EXECUTE FUNCTION agentflow.prepare_artifact()',
    'artifacts_guard BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.guard_artifact()',
    "artifacts_activity AFTER INSERT FOR EACH ROW EXECUTE FUNCTION agentflow.record_activity('artifact_added', 'path', 'type', 'task_id', 'execution_id')",
  ],
  'public.approvals': [
    "approvals_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'approvals_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
    'approvals_request BEFORE INSERT FOR EACH ROW EXECUTE FUNCTION agentflow.request_approval()',
    'approvals_decide BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.decide_approval()',
    'approvals_apply AFTER INSERT OR UPDATE OF status FOR EACH ROW EXECUTE FUNCTION agentflow.apply_approval()',
    "approvals_activity AFTER INSERT FOR EACH ROW EXECUTE FUNCTION agentflow.record_activity('approval_requested', 'title', 'task_id', 'artifact_ids', 'on_approve')",
    'approvals_decision_activity AFTER UPDATE OF status FOR EACH ROW WHEN ((old.status IS DISTINCT FROM new.status)) EXECUTE FUNCTION agentflow.record_approval_decision()',
  ],
  'public.activity_feed': [
    'activity_feed_append_only BEFORE DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.refuse_event_change()',
    'activity_feed_no_truncate BEFORE TRUNCATE FOR EACH STATEMENT EXECUTE FUNCTION agentflow.reject_mutation()',
  ],
  'public.task_executions': [
    "task_executions_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'task_executions_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
    'task_executions_lifecycle BEFORE INSERT OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.guard_task_execution()',
    'task_executions_counted AFTER INSERT FOR EACH ROW EXECUTE FUNCTION agentflow.count_task_execution()',
    'task_executions_recounted AFTER UPDATE FOR EACH ROW WHEN (((old.status IS DISTINCT FROM new.status) OR (((((old.input_tokens IS DISTINCT FROM new.input_tokens) OR (old.output_tokens IS DISTINCT FROM new.output_tokens)) OR (old.cached_tokens IS DISTINCT FROM new.cached_tokens)) OR (old.reasoning_tokens IS DISTINCT FROM new.reasoning_tokens)) OR (old.cost_usd IS DISTINCT FROM new.cost_usd)))) EXECUTE FUNCTION agentflow.count_task_execution()',
    'task_executions_activity AFTER INSERT OR UPDATE OF status FOR EACH ROW EXECUTE FUNCTION agentflow.record_execution_activity()',
  ],
  'public.task_comments': [
    "task_comments_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'task_comments_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
    'task_comments_guard BEFORE INSERT OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.guard_task_comment()',
    "task_comments_activity AFTER INSERT FOR EACH ROW EXECUTE FUNCTION agentflow.record_activity('comment_added', 'body', 'is_ai_generated', 'author_agent_id', 'author_user_id')",
  ],
  'public.task_attachments': [
    "task_attachments_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'task_attachments_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
    'task_attachments_guard BEFORE INSERT OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.guard_task_attachment()',
    "task_attachments_activity AFTER INSERT FOR EACH ROW EXECUTE FUNCTION agentflow.record_activity('attachment_added', 'storage_path', 'content_type', 'size_bytes', 'uploaded_by_agent_id', 'uploaded_by_user_id')",
  ],
  'public.task_checkpoints': [
    'task_checkpoints_append_only BEFORE DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.refuse_event_change()',
    'task_checkpoints_no_truncate BEFORE TRUNCATE FOR EACH STATEMENT EXECUTE FUNCTION agentflow.reject_mutation()',
    "task_checkpoints_audit AFTER INSERT OR DELETE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'task_checkpoints_prepare BEFORE INSERT FOR EACH ROW EXECUTE FUNCTION agentflow.prepare_task_checkpoint()',
  ],
  'public.evidence': [
    "evidence_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'evidence_live_project BEFORE INSERT OR UPDATE OF project_id FOR EACH ROW EXECUTE FUNCTION agentflow.require_live_project()',
    'evidence_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
    'evidence_guarded BEFORE INSERT OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.guard_evidence()',
  ],
  'public.evidence_links': [
    "evidence_links_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
  ],
  'public.execution_evidence': [
    "execution_evidence_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'execution_evidence_guard BEFORE INSERT FOR EACH ROW EXECUTE FUNCTION agentflow.guard_execution_evidence()',
  ],
  'public.events': [
    'events_append_only BEFORE DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.refuse_event_change()',
    'events_no_truncate BEFORE TRUNCATE FOR EACH STATEMENT EXECUTE FUNCTION agentflow.reject_mutation()',
    "events_prepare BEFORE INSERT FOR EACH ROW WHEN (((new.occurred_at IS DISTINCT FROM now()) OR (new.id IS DISTINCT FROM currval('events_id_seq'::regclass)) OR (new.type = ANY (ARRAY['session_start'::text, 'session_stop'::text, 'kpi_updated'::text, 'trust_score_changed'::text])) OR ((new.session_id IS NOT NULL) AND (new.project_id IS NULL)) OR ((current_setting('agentflow.actor_type'::text, true) = 'agent'::text) AND (new.author_id IS DISTINCT FROM (NULLIF(current_setting('agentflow.actor_id'::text, true), ''::text))::uuid)))) EXECUTE FUNCTION agentflow.prepare_event()",
    'events_stamp_tx BEFORE INSERT FOR EACH ROW WHEN ((new.tx_id IS DISTINCT FROM pg_current_xact_id())) EXECUTE FUNCTION agentflow.stamp_event_transaction()',
    'events_checked AFTER INSERT REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION agentflow.check_events()',
    'events_mentions_indexed AFTER INSERT REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION agentflow.index_event_mentions()',
  ],
  'public.event_mentions': [
    'event_mentions_append_only BEFORE DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.refuse_event_change()',
    'event_mentions_no_truncate BEFORE TRUNCATE FOR EACH STATEMENT EXECUTE FUNCTION agentflow.reject_mutation()',
  ],
  'public.agent_credentials': [
    "agent_credentials_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id', 'secret_hash')",
    'agent_credentials_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
  ],
  'public.agent_credential_uses': [
    'agent_credential_uses_append_only BEFORE DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.refuse_event_change()',
    'agent_credential_uses_no_truncate BEFORE TRUNCATE FOR EACH STATEMENT EXECUTE FUNCTION agentflow.reject_mutation()',
  ],
  'public.kpis': [
    "kpis_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'kpis_record BEFORE INSERT FOR EACH ROW EXECUTE FUNCTION agentflow.kpi_record()',
    'kpis_updated_event AFTER INSERT FOR EACH ROW EXECUTE FUNCTION agentflow.kpi_updated_event()',
  ],
  'public.lessons': [
    "lessons_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'lessons_guard BEFORE INSERT OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.guard_lesson()',
    'lessons_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
  ],
  'public.self_reviews': [
    "self_reviews_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'self_reviews_guard BEFORE INSERT OR UPDATE OF task_id, execution_id FOR EACH ROW EXECUTE FUNCTION agentflow.guard_self_review()',
  ],
  'public.patterns': [
    "patterns_audit AFTER INSERT OR DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id')",
    'patterns_guard BEFORE INSERT OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.guard_pattern()',
    'patterns_touch_updated_at BEFORE UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.touch_updated_at()',
  ],
  'public.audit_logs': [
    'audit_logs_append_only BEFORE DELETE OR UPDATE FOR EACH ROW EXECUTE FUNCTION agentflow.reject_mutation()',
    'audit_logs_no_truncate BEFORE TRUNCATE FOR EACH STATEMENT EXECUTE FUNCTION agentflow.reject_mutation()',
  ],
};
