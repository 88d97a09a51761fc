-- Up Migration
-- The stories of all the operations a what-happened finds are worded in one call, not one call
-- per operation (issue 15, point 5: what-happened over HTTP).
--
-- A correlation id names up to a few operations, and the summary called writ.operation_story()
-- (migration 0013) once for each: each call started and stopped its own executor for a statement
-- of three subqueries over a materialised CTE, about 0.6 ms on the generic plan, where reading and
-- wording the operation's records took about 0.2. A correlation id of 8 operations spent 6-7 ms
-- there, which made it the slowest part of the slowest lookups (the p99 of P3 over HTTP).
--
-- writ.operation_stories() reads the records of every operation asked for in one statement and
-- words each operation's steps, latest events and approval trail by the same rules.
-- writ.operation_story() now calls it for one operation, so there is one definition of the rules.

CREATE FUNCTION writ.operation_stories(operations text[], chains text[])
RETURNS TABLE (operation_id text, steps jsonb, recent jsonb, approval_trail jsonb)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
-- As migration 0015 says of operation_story: planning inlines writ.event_summary() three times.
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
  RETURN QUERY
  WITH wanted AS MATERIALIZED (
    SELECT DISTINCT w.op, w.chain FROM unnest(operations, chains) AS w(op, chain)
  ), described AS MATERIALIZED (
    SELECT d.*, c.change
      FROM (SELECT w.op, r.seq, coalesce(r.event_type, '') AS kind, r.record AS rec,
                   CASE WHEN jsonb_typeof(r.record -> 'payload') = 'object' THEN r.record -> 'payload' ELSE '{}' END AS p,
                   CASE WHEN jsonb_typeof(r.record -> 'stepIndex') = 'number' THEN r.record ->> 'stepIndex' END AS step
              FROM wanted w
              JOIN writ.records r ON r.operation_id = w.op AND r.chain_id = w.chain
            -- Not flattened into the join below, so the payload is picked out once per record.
            OFFSET 0) AS d
      LEFT JOIN LATERAL writ.step_changes(CASE WHEN d.kind = 'step.executed' THEN d.p END) AS c ON d.kind = 'step.executed'
  ), step_facts AS (
    SELECT d.op, d.step,
           (array_agg(d.kind ORDER BY d.seq DESC) FILTER (WHERE d.kind LIKE 'step.%'))[1] AS last,
           (array_agg(d.rec -> 'occurredAt' ORDER BY d.seq DESC))[1] AS at,
           (array_agg(d.change ORDER BY d.seq DESC) FILTER (WHERE d.change IS NOT NULL))[1] AS change,
           (array_agg(writ.event_summary(d.rec, d.change) ORDER BY d.seq DESC)
              FILTER (WHERE d.kind IN ('step.execution_failed', 'step.verification_failed', 'step.compensation_failed')))[1] AS problem
      FROM described d
     WHERE d.step IS NOT NULL
     GROUP BY d.op, d.step
  )
  SELECT w.op,
         (SELECT coalesce(jsonb_object_agg(f.step, jsonb_strip_nulls(jsonb_build_object(
                   'last', f.last, 'at', f.at, 'change', f.change, 'problem', f.problem))), '{}')
            FROM step_facts f
           WHERE f.op = w.op),
         (SELECT coalesce(jsonb_agg(l.event ORDER BY l.seq), '[]')
            FROM (SELECT d.seq, jsonb_build_object('seq', d.seq, 'type', d.kind, 'state', d.rec -> 'state', 'stepIndex', d.rec -> 'stepIndex',
                                                   'at', d.rec -> 'occurredAt', 'actor', d.rec -> 'actor' -> 'id',
                                                   'summary', writ.event_summary(d.rec, d.change)) AS event
                    FROM described d
                   WHERE d.op = w.op
                   ORDER BY d.seq DESC LIMIT 10) AS l),
         (SELECT coalesce(jsonb_agg(t.event ORDER BY t.seq), '[]')
            FROM (SELECT d.seq, jsonb_build_object('seq', d.seq, 'type', d.kind, 'at', d.rec -> 'occurredAt', 'by', d.p -> 'approver',
                                                   'summary', writ.event_summary(d.rec, d.change)) AS event
                    FROM described d
                   WHERE d.op = w.op
                     AND (d.kind LIKE 'approval.%' OR d.kind IN ('operation.approved', 'operation.rejected', 'operation.expired'))
                   ORDER BY d.seq DESC LIMIT 20) AS t)
    FROM wanted w;
END
$$;

CREATE OR REPLACE FUNCTION writ.operation_story(operation text, chain text)
RETURNS TABLE (steps jsonb, recent jsonb, approval_trail jsonb)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT s.steps, s.recent, s.approval_trail FROM writ.operation_stories(ARRAY[operation], ARRAY[chain]) AS s
$$;

REVOKE ALL ON FUNCTION writ.operation_stories(text[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION writ.operation_stories(text[], text[]) TO writ_writer, writ_reader;
