-- Idempotency keys of the HTTP API: a POST sent with `Idempotency-Key` claims the key in its own
-- unit of work and stores its response there, so the key is recorded if and only if the request's
-- writes are committed. A retry with the same key (for 24 hours, per tenant) gets the stored response.
-- Not audited: the rows are copies of responses, and the writes they answer are audited themselves.
CREATE TABLE idempotency_keys (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id(),
  key text NOT NULL CONSTRAINT idempotency_keys_key_check CHECK (key ~ '^[!-~]{1,255}$'),
  -- SHA-256 (hex) of the actor, method, path and body: the same key for another request is refused.
  fingerprint text NOT NULL CONSTRAINT idempotency_keys_fingerprint_check CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
  -- NULL only while the claiming request runs (uncommitted, so never seen by another).
  response_status integer CONSTRAINT idempotency_keys_status_check CHECK (response_status BETWEEN 200 AND 299),
  response_body text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, key)
);
-- No index on created_at: it would not lead with tenant_id (db verify's rule), and the table holds
-- one day of keys, which the hourly prune reads through once.
SELECT agentflow.isolate_by_tenant('idempotency_keys');
GRANT SELECT, INSERT, UPDATE ON idempotency_keys TO agentflow_app;
GRANT SELECT, DELETE ON idempotency_keys TO agentflow_service;
