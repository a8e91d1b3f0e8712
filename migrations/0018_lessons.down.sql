DROP TABLE patterns;
DROP FUNCTION agentflow.guard_pattern();
DROP TABLE self_reviews;
DROP FUNCTION agentflow.guard_self_review();
DROP FUNCTION agentflow.search_lessons(text, text, text[], boolean, double precision, double precision, uuid, integer);
DROP TABLE lessons;
DROP FUNCTION agentflow.guard_lesson();
DROP FUNCTION agentflow.tenant_lexeme(uuid), agentflow.tenant_query(uuid);
DROP FUNCTION agentflow.valid_tags(text[]);
