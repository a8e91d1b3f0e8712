DROP TABLE agent_states;
DROP TABLE project_files;
DROP TABLE projects;
