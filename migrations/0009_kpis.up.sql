-- KPIs of agents with their trends, the trust score formula and its change events, and the
-- retention purge of the timeline.

-- Whether a metrics document is one the library stores: the eight core metrics of seed 002 (each
-- optional: a metric not measured is absent, never 0) and customMetrics, a record of up to 100
-- numbers; at least one metric. Counts are integers from 0 to 1e9, averageTaskDuration whole
-- minutes up to a year, codeQualityScore 0–100, featureCompletionRate 0–1, custom values within
-- ±1e15. kpiMetricsSchema in src/kpis/kpis.contract.ts says the same, for friendly errors.
CREATE FUNCTION agentflow.kpi_metrics_valid(metrics jsonb) RETURNS boolean
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  entry record;
  amount numeric;
  metric_count integer := 0;
BEGIN
  IF jsonb_typeof(metrics) IS DISTINCT FROM 'object' THEN RETURN false; END IF;
  FOR entry IN SELECT e.key, e.value AS json FROM jsonb_each(metrics) AS e LOOP
    IF entry.key = 'customMetrics' THEN
      IF jsonb_typeof(entry.json) <> 'object' OR (SELECT count(*) FROM jsonb_object_keys(entry.json)) > 100 THEN
        RETURN false;
      END IF;
      IF EXISTS (SELECT 1 FROM jsonb_each(entry.json) AS c
                  WHERE c.key !~ '^[A-Za-z0-9_.-]{1,100}$' OR jsonb_typeof(c.value) <> 'number'
                     OR abs(c.value::numeric) > 1e15) THEN
        RETURN false;
      END IF;
      metric_count := metric_count + (SELECT count(*) FROM jsonb_object_keys(entry.json));
      CONTINUE;
    END IF;
    IF jsonb_typeof(entry.json) <> 'number' THEN RETURN false; END IF;
    amount := entry.json::numeric;
    metric_count := metric_count + 1;
    CASE entry.key
      WHEN 'tasksCompleted', 'positiveFeedbackCount', 'bugsIntroduced', 'deploymentFailures', 'codeChurn' THEN
        IF amount <> trunc(amount) OR amount < 0 OR amount > 1e9 THEN RETURN false; END IF;
      WHEN 'averageTaskDuration' THEN
        IF amount <> trunc(amount) OR amount < 0 OR amount > 525600 THEN RETURN false; END IF;
      WHEN 'codeQualityScore' THEN
        IF amount < 0 OR amount > 100 THEN RETURN false; END IF;
      WHEN 'featureCompletionRate' THEN
        IF amount < 0 OR amount > 1 THEN RETURN false; END IF;
      ELSE
        RETURN false;
    END CASE;
  END LOOP;
  RETURN metric_count > 0;
END $$;

-- The trend of `current` against `previous` (NULL for an agent's first record): each metric present
-- in both is up, down or stable; overall is improving when more core metrics moved in their better
-- direction than in their worse one, declining for the reverse, else stable (NULL with no previous
-- record). Better is higher for tasksCompleted, codeQualityScore, positiveFeedbackCount and
-- featureCompletionRate, lower for bugsIntroduced, deploymentFailures, codeChurn and
-- averageTaskDuration. Custom metrics get a trend but no better direction, so they do not count.
CREATE FUNCTION agentflow.kpi_trend(previous_id uuid, previous jsonb, current jsonb) RETURNS jsonb
  LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, public, pg_temp
  AS $$
  WITH core (name, better) AS (
    VALUES ('tasksCompleted', 1), ('codeQualityScore', 1), ('positiveFeedbackCount', 1),
           ('featureCompletionRate', 1), ('bugsIntroduced', -1), ('deploymentFailures', -1),
           ('codeChurn', -1), ('averageTaskDuration', -1)
  ), moved AS (
    SELECT name, better, sign((current ->> name)::numeric - (previous ->> name)::numeric) AS direction
      FROM core WHERE current ? name AND previous ? name
  ), custom AS (
    SELECT c.key AS name, sign(c.value::numeric - (previous -> 'customMetrics' ->> c.key)::numeric) AS direction
      FROM jsonb_each(coalesce(current -> 'customMetrics', '{}')) AS c
     WHERE previous -> 'customMetrics' ? c.key
  )
  SELECT jsonb_build_object(
    'previousId', previous_id,
    'metrics', (SELECT coalesce(jsonb_object_agg(name, CASE direction WHEN 1 THEN 'up' WHEN -1 THEN 'down' ELSE 'stable' END), '{}') FROM moved),
    'customMetrics', (SELECT coalesce(jsonb_object_agg(name, CASE direction WHEN 1 THEN 'up' WHEN -1 THEN 'down' ELSE 'stable' END), '{}') FROM custom),
    'overall', CASE WHEN previous IS NULL THEN NULL
                    ELSE (SELECT CASE sign(coalesce(sum(direction * better), 0)) WHEN 1 THEN 'improving' WHEN -1 THEN 'declining' ELSE 'stable' END FROM moved)
               END)
$$;

CREATE TABLE kpis (
  tenant_id uuid NOT NULL DEFAULT agentflow.current_tenant_id(),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  agent_id uuid NOT NULL,
  -- No default: kpis_record sets it after taking the agent's lock (see there).
  recorded_at timestamptz NOT NULL,
  metrics jsonb NOT NULL CONSTRAINT kpis_metrics_check CHECK (agentflow.kpi_metrics_valid(metrics)),
  -- Written by kpis_record, whatever the insert gave.
  trend jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(trend) = 'object'),
  change_reason text CHECK (char_length(change_reason) BETWEEN 1 AND 500),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  CONSTRAINT kpis_agent_recorded_key UNIQUE (tenant_id, agent_id, recorded_at),
  CONSTRAINT kpis_agent_fk FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id) ON DELETE CASCADE
);

-- Before each KPI record: lock the agent row (FOR NO KEY UPDATE: foreign-key checks of other
-- tables still pass), so that the records of one agent are written one at a time; then read the
-- previous record and store the trend against it. Two concurrent records of one agent therefore
-- each see the other or neither, never the same previous one. A record without recorded_at gets the
-- clock once the lock is held (in milliseconds, a JavaScript Date's precision, and after the
-- previous record), so concurrent default records never come out of order. A record older than the
-- agent's latest is refused (AF040): it would make the next record's trend wrong; a record dated
-- more than a minute ahead of the clock is refused too (it would block every record until then).
-- An agent this writer cannot see is left to row-level security and the foreign key to refuse.
CREATE FUNCTION agentflow.kpi_record() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  live boolean;
  previous record;
BEGIN
  SELECT a.deleted_at IS NULL INTO live FROM agents a
   WHERE a.tenant_id = NEW.tenant_id AND a.id = NEW.agent_id FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    -- Row-level security or the foreign key refuses it next; the time only keeps NOT NULL quiet.
    NEW.recorded_at := coalesce(NEW.recorded_at, clock_timestamp());
    RETURN NEW;
  END IF;
  IF NOT live THEN
    RAISE EXCEPTION 'agent % is deleted', NEW.agent_id
      USING ERRCODE = 'foreign_key_violation', TABLE = 'kpis', CONSTRAINT = 'kpis_agent_fk';
  END IF;
  SELECT k.id, k.recorded_at, k.metrics INTO previous FROM kpis k
   WHERE k.tenant_id = NEW.tenant_id AND k.agent_id = NEW.agent_id
   ORDER BY k.recorded_at DESC LIMIT 1;
  IF NEW.recorded_at IS NULL THEN
    NEW.recorded_at := greatest(date_trunc('milliseconds', clock_timestamp()),
                                previous.recorded_at + interval '1 millisecond');
  ELSIF NEW.recorded_at > clock_timestamp() + interval '1 minute' THEN
    RAISE EXCEPTION 'recorded_at % is in the future', NEW.recorded_at
      USING ERRCODE = 'check_violation', TABLE = 'kpis', COLUMN = 'recorded_at', CONSTRAINT = 'kpis_recorded_at_past';
  ELSIF NEW.recorded_at < previous.recorded_at THEN
    RAISE EXCEPTION 'agent % has a KPI record at %, after %: records are kept in time order', NEW.agent_id,
      previous.recorded_at, NEW.recorded_at USING ERRCODE = 'AF040';
  END IF;
  -- Invalid metrics are left to the CHECK, which names itself.
  IF agentflow.kpi_metrics_valid(NEW.metrics) THEN
    NEW.trend := agentflow.kpi_trend(previous.id, previous.metrics, NEW.metrics);
  END IF;
  RETURN NEW;
END $$;

-- After each KPI record: the kpi_updated system event, in the same transaction (no author; it
-- mentions the agent, and belongs to the agent's project, if any).
CREATE FUNCTION agentflow.kpi_updated_event() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  INSERT INTO events (tenant_id, type, project_id, payload, mentions)
  SELECT NEW.tenant_id, 'kpi_updated', a.project_id,
         jsonb_build_object('agentId', NEW.agent_id,
                            'previousKPIs', (SELECT p.metrics FROM kpis p
                                              WHERE p.tenant_id = NEW.tenant_id AND p.id = (NEW.trend ->> 'previousId')::uuid),
                            'newKPIs', NEW.metrics,
                            'changeReason', NEW.change_reason),
         ARRAY[NEW.agent_id]
    FROM agents a WHERE a.tenant_id = NEW.tenant_id AND a.id = NEW.agent_id;
  RETURN NULL;
END $$;

REVOKE EXECUTE ON FUNCTION agentflow.kpi_metrics_valid(jsonb), agentflow.kpi_trend(uuid, jsonb, jsonb),
  agentflow.kpi_record(), agentflow.kpi_updated_event() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentflow.kpi_metrics_valid(jsonb), agentflow.kpi_trend(uuid, jsonb, jsonb)
  TO agentflow_app, agentflow_service;

CREATE TRIGGER kpis_record BEFORE INSERT ON kpis FOR EACH ROW EXECUTE FUNCTION agentflow.kpi_record();
CREATE TRIGGER kpis_updated_event AFTER INSERT ON kpis FOR EACH ROW EXECUTE FUNCTION agentflow.kpi_updated_event();
-- History: rows are added, never changed, so no trend goes stale; they go with their agent (cascade).
CREATE TRIGGER kpis_audit AFTER INSERT OR UPDATE OR DELETE ON kpis
  FOR EACH ROW EXECUTE FUNCTION agentflow.audit_row('tenant_id');
SELECT agentflow.isolate_by_tenant('kpis');
GRANT SELECT, INSERT ON kpis TO agentflow_app, agentflow_service;

-- Trust formula trust-v1 (README "KPIs and the trust score"). The score of one KPI record is the
-- weighted mean of the components its metrics allow, each 0–100:
--   quality      codeQualityScore                                   weight 0.4
--   completion   100 × featureCompletionRate                         weight 0.3
--   reliability  100 × tasks / (tasks + bugs + deployment failures)  weight 0.3
--                (tasksCompleted present and the sum above 0; an absent bug or failure count is 0)
-- A record with none of them has no score. The trust score is the mean of the newest 10 scored
-- records of the agent, the i-th newest (i = 0, 1, …) weighted 0.8^i, clamped to 0–100 and rounded
-- to two decimals (half away from zero); NULL when the agent has no scored record.
CREATE FUNCTION agentflow.kpi_record_score(metrics jsonb) RETURNS numeric
  LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, public, pg_temp
  AS $$
  SELECT (coalesce(0.4 * q, 0) + coalesce(0.3 * c, 0) + coalesce(0.3 * r, 0))
         / nullif(CASE WHEN q IS NULL THEN 0 ELSE 0.4 END + CASE WHEN c IS NULL THEN 0 ELSE 0.3 END
                  + CASE WHEN r IS NULL THEN 0 ELSE 0.3 END, 0)
    FROM (SELECT (metrics ->> 'codeQualityScore')::numeric AS q,
                 100 * (metrics ->> 'featureCompletionRate')::numeric AS c,
                 100 * t / nullif(t + coalesce((metrics ->> 'bugsIntroduced')::numeric, 0)
                                    + coalesce((metrics ->> 'deploymentFailures')::numeric, 0), 0) AS r
            FROM (SELECT (metrics ->> 'tasksCompleted')::numeric AS t) AS tasks) AS components
$$;

CREATE FUNCTION agentflow.trust_score_v1(target_tenant uuid, target_agent uuid) RETURNS numeric
  LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp
  AS $$
  -- greatest and least skip a NULL: no scored record must stay NULL, not become 0 or 100.
  SELECT CASE WHEN mean IS NOT NULL THEN round(greatest(0, least(100, mean)), 2) END
    FROM (SELECT sum(score * 0.8 ^ age) / sum(0.8 ^ age) AS mean
    FROM (SELECT score, row_number() OVER (ORDER BY recorded_at DESC) - 1 AS age
            FROM (SELECT k.recorded_at, agentflow.kpi_record_score(k.metrics) AS score
                    FROM kpis k
                   WHERE k.tenant_id = target_tenant AND k.agent_id = target_agent
                     AND agentflow.kpi_record_score(k.metrics) IS NOT NULL
                   ORDER BY k.recorded_at DESC
                   LIMIT 10) AS scored) AS weighted) AS result
$$;

-- Recomputes an agent's trust score with trust-v1 under the agent's row lock, with the caller's
-- rights (row-level security applies), and tells the change event which formula wrote it through a
-- transaction-local setting, cleared again at once. No row when the agent does not exist (or is
-- deleted); the score stays as it is when the agent has no scored KPI record.
CREATE FUNCTION agentflow.recompute_trust_score(target_tenant uuid, target_agent uuid,
  OUT previous numeric, OUT current numeric, OUT formula text, OUT records integer)
  RETURNS SETOF record
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  SELECT a.trust_score INTO previous FROM agents a
   WHERE a.tenant_id = target_tenant AND a.id = target_agent AND a.deleted_at IS NULL FOR NO KEY UPDATE;
  IF NOT FOUND THEN RETURN; END IF;
  formula := 'trust-v1';
  current := coalesce(agentflow.trust_score_v1(target_tenant, target_agent), previous);
  SELECT count(*) INTO records FROM (
    SELECT 1 FROM kpis k WHERE k.tenant_id = target_tenant AND k.agent_id = target_agent
       AND agentflow.kpi_record_score(k.metrics) IS NOT NULL LIMIT 10) AS scored;
  IF current IS DISTINCT FROM previous THEN
    PERFORM set_config('agentflow.trust_score_formula', formula, true);
    UPDATE agents SET trust_score = current WHERE tenant_id = target_tenant AND id = target_agent;
    PERFORM set_config('agentflow.trust_score_formula', '', true);
  END IF;
  RETURN NEXT;
END $$;

-- Every change of agents.trust_score, whoever writes it, raw SQL included: a trust_score_changed
-- system event in the same transaction. formulaVersion names the formula when
-- recompute_trust_score wrote it (reason 'recomputed'), else it is null (reason 'set directly').
CREATE FUNCTION agentflow.trust_score_changed_event() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  formula text := nullif(current_setting('agentflow.trust_score_formula', true), '');
BEGIN
  INSERT INTO events (tenant_id, type, project_id, payload, mentions)
  VALUES (NEW.tenant_id, 'trust_score_changed', NEW.project_id,
          jsonb_build_object('agentId', NEW.id, 'previous', OLD.trust_score, 'new', NEW.trust_score,
                             'formulaVersion', formula,
                             'reason', CASE WHEN formula IS NULL THEN 'set directly' ELSE 'recomputed' END),
          ARRAY[NEW.id]);
  RETURN NULL;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.kpi_record_score(jsonb), agentflow.trust_score_v1(uuid, uuid),
  agentflow.recompute_trust_score(uuid, uuid), agentflow.trust_score_changed_event() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentflow.kpi_record_score(jsonb), agentflow.trust_score_v1(uuid, uuid),
  agentflow.recompute_trust_score(uuid, uuid) TO agentflow_app, agentflow_service;
CREATE TRIGGER agents_trust_score_changed AFTER UPDATE OF trust_score ON agents
  FOR EACH ROW WHEN (OLD.trust_score IS DISTINCT FROM NEW.trust_score)
  EXECUTE FUNCTION agentflow.trust_score_changed_event();

-- A tenant's retention setting, settings.retention: an object of day counts, each a whole number
-- from 1 to 36500 (README "Retention and export"; which keys mean what is the library's, checked
-- there). Checked when settings are written, like their size (migration 2).
CREATE FUNCTION agentflow.check_retention_setting() RETURNS trigger
  LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp
  AS $$
BEGIN
  IF NEW.settings ? 'retention' AND (jsonb_typeof(NEW.settings -> 'retention') <> 'object' OR EXISTS (
       SELECT 1 FROM jsonb_each(NEW.settings -> 'retention') AS r
        WHERE jsonb_typeof(r.value) <> 'number' OR r.value::numeric <> trunc(r.value::numeric)
           OR r.value::numeric < 1 OR r.value::numeric > 36500)) THEN
    RAISE EXCEPTION 'settings.retention must map names to whole numbers of days from 1 to 36500'
      USING ERRCODE = 'check_violation', CONSTRAINT = 'tenants_retention_setting', TABLE = 'tenants',
            COLUMN = 'settings';
  END IF;
  RETURN NEW;
END $$;
REVOKE EXECUTE ON FUNCTION agentflow.check_retention_setting() FROM PUBLIC;
CREATE TRIGGER tenants_retention_setting BEFORE INSERT OR UPDATE OF settings ON tenants
  FOR EACH ROW EXECUTE FUNCTION agentflow.check_retention_setting();

-- The retention purge: removes the rows of one tenant named by `keys` (a JSON array of
-- {"occurred_at", "id"}, the rows the caller has just exported) from `target`, only those older
-- than `cutoff`, and writes one audit row saying what went: table, tenant, count and cutoff.
-- `target` must be an append-only log whose guard (agentflow.refuse_event_change, migration 7)
-- lets only its owner delete, keyed (tenant_id, occurred_at, id): events, and any such table a
-- later migration guards the same way. SECURITY DEFINER so that it runs as that owner; EXECUTE for
-- the service role only.
CREATE FUNCTION agentflow.purge_expired(target regclass, target_tenant uuid, cutoff timestamptz, keys jsonb)
  RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp
  AS $$
DECLARE
  purged bigint;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_trigger t
                  WHERE t.tgrelid = target AND t.tgfoid = 'agentflow.refuse_event_change()'::regprocedure) THEN
    RAISE EXCEPTION 'table % is not kept under retention', target USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF cutoff IS NULL OR cutoff > now() THEN
    RAISE EXCEPTION 'retention cutoff % is not in the past', cutoff USING ERRCODE = 'invalid_parameter_value';
  END IF;
  EXECUTE format('DELETE FROM %s t USING jsonb_to_recordset($3) AS k (occurred_at timestamptz, id text)
                   WHERE t.tenant_id = $1 AND t.occurred_at < $2 AND t.occurred_at = k.occurred_at AND t.id::text = k.id',
                 target)
    USING target_tenant, cutoff, keys;
  GET DIAGNOSTICS purged = ROW_COUNT;
  INSERT INTO audit_logs (tenant_id, actor_type, actor_id, db_role, action, table_name, row_id,
                          old_values, new_values, request_context)
  VALUES (target_tenant,
          coalesce(nullif(current_setting('agentflow.actor_type', true), ''), 'system'),
          coalesce(nullif(current_setting('agentflow.actor_id', true), ''), session_user::text),
          coalesce(nullif(current_setting('role', true), 'none'), session_user::text),
          'delete', (SELECT relname FROM pg_class WHERE oid = target), NULL,
          jsonb_build_object('retention', jsonb_build_object('purged', purged, 'cutoff', cutoff)), NULL,
          nullif(current_setting('agentflow.request_context', true), '')::jsonb);
  RETURN purged;
END $$;
REVOKE ALL ON FUNCTION agentflow.purge_expired(regclass, uuid, timestamptz, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION agentflow.purge_expired(regclass, uuid, timestamptz, jsonb) TO agentflow_service;
