DROP TABLE agents;
DROP FUNCTION agentflow.require_usable_actor(uuid, text, uuid), agentflow.guard_agent(),
  agentflow.agents_with_capabilities(text[], boolean);
