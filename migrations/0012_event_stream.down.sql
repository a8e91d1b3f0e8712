DROP INDEX events_tx_idx;
DROP TRIGGER events_stamp_tx ON events;
DROP FUNCTION agentflow.stamp_event_transaction();
ALTER TABLE events DROP COLUMN tx_id;
