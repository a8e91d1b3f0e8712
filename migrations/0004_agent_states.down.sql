DROP TABLE agent_states;
