-- The live timeline (GET /v1/events/stream) hands out each event once, in an order in which no
-- event can still turn up behind what was sent. (occurred_at, id) is no such order: occurred_at is
-- the transaction's start and ids come from a sequence, so an event may commit after events with a
-- later time or a higher id, and a reader resuming "after the last one sent" would skip it.
--
-- Each event records the id of the transaction that wrote it. A reader takes the events after its
-- cursor in (tx_id, id) order whose tx_id is below its snapshot's xmin: every transaction below
-- that has finished, so no event can appear behind the cursor later, and none is read twice.
--
-- Rows written before this migration get 0, which sorts them before every later transaction
-- (among themselves by id); a constant default adds the column without rewriting the table.
ALTER TABLE events ADD COLUMN tx_id xid8 NOT NULL DEFAULT '0';
ALTER TABLE events ALTER COLUMN tx_id SET DEFAULT pg_current_xact_id();

-- The writer cannot choose it: a value other than its own transaction's (given in an INSERT, raw SQL
-- included) is replaced. Named to fire after events_prepare (BEFORE triggers fire in name order),
-- so that no other trigger changes it afterwards; only a row that needs it calls the function.
CREATE FUNCTION agentflow.stamp_event_transaction() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  NEW.tx_id := pg_current_xact_id();
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.stamp_event_transaction() FROM PUBLIC;
CREATE TRIGGER events_stamp_tx BEFORE INSERT ON events
  FOR EACH ROW WHEN (NEW.tx_id IS DISTINCT FROM pg_current_xact_id())
  EXECUTE FUNCTION agentflow.stamp_event_transaction();

-- The stream's read: one tenant's events after a (tx_id, id) cursor, below the watermark, in order.
-- xid8's comparison operators are leakproof, so under row-level security the range stays an index
-- condition.
CREATE INDEX events_tx_idx ON events (tenant_id, tx_id, id);
