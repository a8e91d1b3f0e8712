DROP TABLE project_files;
DROP TABLE projects;
DROP FUNCTION agentflow.count_live_projects();
DROP FUNCTION agentflow.require_live_project();
-- The projects counter described the rows just dropped; a later re-apply starts counting from zero.
UPDATE tenants SET usage = usage - 'projects' WHERE usage ? 'projects';
