DROP TABLE agents;
DROP FUNCTION agentflow.require_usable_actor(uuid, text, uuid), agentflow.guard_agent();
