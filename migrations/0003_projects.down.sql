DROP TABLE agent_states;
DROP TABLE project_files;
DROP TABLE projects;
DROP FUNCTION agentflow.count_live_projects();
DROP FUNCTION agentflow.require_live_project();
