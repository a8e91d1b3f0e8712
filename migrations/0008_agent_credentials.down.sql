DROP FUNCTION agentflow.authenticate_agent_key(text, text, jsonb);
DROP TABLE agent_credential_uses;
DROP TABLE agent_credentials;
