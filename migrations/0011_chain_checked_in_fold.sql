-- Up Migration
-- One chain per operation, checked where the projection row is written rather than by a second
-- query after it. Migration 0010 joined the statement's transition table with writ.operations
-- after the fold; PL/pgSQL plans that join once per session, against whatever the tables held
-- then, and appends ran at about 0.77x the records per second of the fold alone (BENCHMARKS.md,
-- "Chains"). The upsert already finds each operation's row, so the check costs nothing there:
--
-- * an operation whose records in one statement name two chains is refused before its row is written;
-- * an operation whose row names another chain is refused in ON CONFLICT DO UPDATE. Two
--   transactions writing an operation's first records on two chains at once are still caught: the
--   second waits on the first's uncommitted row, then updates the committed one and finds its chain.
--
-- The rest of the fold is migration 0003's, unchanged.

-- VOLATILE (the default) so that the planner never folds a call with constant arguments early.
CREATE FUNCTION writ.refuse_second_chain(operation_id text, lives_on text, written_on text) RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RAISE EXCEPTION 'writ.records: operation % lives on chain %, so a record of it on chain % is refused', operation_id, lives_on, written_on
    USING ERRCODE = 'WRT06',
          HINT = 'All of an operation''s records go to the chain of its first record; append to that chain.';
END
$$;

REVOKE ALL ON FUNCTION writ.refuse_second_chain(text, text, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION writ.operations_fold(batch writ.fold_input[]) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
-- The plan does not depend on the batch, but a custom plan sees its size and looks cheaper than
-- the generic one, so PL/pgSQL would replan this statement (milliseconds) on every append.
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
  IF cardinality(batch) IS NULL OR cardinality(batch) = 0 THEN
    RETURN;
  END IF;
  -- Aggregates take "first" and "last" from arrays built over input sorted by (op, ord) in a
  -- subquery, rather than with ORDER BY inside each aggregate: on PostgreSQL 15 every ordered
  -- aggregate sorts on its own, twenty sorts per operation per statement. PostgreSQL feeds an
  -- aggregate in the order a sorted subquery delivers (its manual says this "usually" works, not
  -- always); the tests fold the same records in one statement and one by one and compare.
  WITH described AS MATERIALIZED (
    SELECT b.operation_id AS op, b.chain_id, b.seq, b.ord, b.record AS rec, b.kind, b.p,
           writ.occurred_at(b.occurred_text, b.recorded_at) AS occurred,
           CASE WHEN jsonb_typeof(b.record -> 'stepIndex') = 'number' THEN b.record ->> 'stepIndex' END AS step,
           c.change,
           writ.event_summary(b.record, c.change) AS summary
      FROM (SELECT u.*, coalesce(u.record ->> 'type', '') AS kind, u.record ->> 'occurredAt' AS occurred_text,
                   CASE WHEN jsonb_typeof(u.record -> 'payload') = 'object' THEN u.record -> 'payload' ELSE '{}' END AS p
              FROM unnest(batch) WITH ORDINALITY AS u (operation_id, chain_id, seq, recorded_at, record, ord)
             WHERE u.operation_id IS NOT NULL
            -- Not flattened into the query above, so each of these is computed once per record.
            OFFSET 0) AS b
      LEFT JOIN LATERAL writ.step_changes(CASE WHEN b.kind = 'step.executed' THEN b.p END) AS c ON b.kind = 'step.executed'
  ), step_patches AS (
    -- Per step, the latest value of each member: what applying each record's patch in turn leaves.
    SELECT e.op, e.step,
           array_agg(e.kind) FILTER (WHERE e.kind LIKE 'step.%') AS lasts,
           array_agg(e.rec -> 'occurredAt') AS ats,
           array_agg(e.change) FILTER (WHERE e.change IS NOT NULL) AS changes,
           array_agg(e.summary) FILTER (WHERE e.kind IN ('step.execution_failed', 'step.verification_failed', 'step.compensation_failed')) AS problems
      FROM (SELECT * FROM described WHERE step IS NOT NULL ORDER BY op, step, ord) AS e
     GROUP BY e.op, e.step
  ), steps AS (
    SELECT sp.op, count(*)::int AS n,
           jsonb_object_agg(sp.step, jsonb_strip_nulls(jsonb_build_object(
             'last', sp.lasts[cardinality(sp.lasts)], 'at', sp.ats[cardinality(sp.ats)],
             'change', sp.changes[cardinality(sp.changes)], 'problem', sp.problems[cardinality(sp.problems)]))) AS steps
      FROM step_patches sp
     GROUP BY sp.op
  ), folded AS (
    SELECT e.op,
      min(e.chain_id) AS chain_lo,
      max(e.chain_id) AS chain_hi,
      array_agg(e.seq) AS seqs,
      array_agg(e.occurred) AS occurred,
      array_agg(e.kind) AS kinds,
      array_agg(e.rec ->> 'correlationId') FILTER (WHERE e.rec ->> 'correlationId' IS NOT NULL) AS correlation_ids,
      array_agg(e.rec -> 'actor') FILTER (WHERE e.kind = 'operation.planned') AS planners,
      array_agg(e.p -> 'envelope' ->> 'intent') FILTER (WHERE e.kind = 'operation.planned' AND e.p -> 'envelope' ->> 'intent' IS NOT NULL) AS intents,
      array_agg(e.p -> 'envelope' ->> 'mode') FILTER (WHERE e.kind = 'operation.planned' AND e.p -> 'envelope' ->> 'mode' IS NOT NULL) AS modes,
      array_agg(e.p -> 'envelope' -> 'targets')
        FILTER (WHERE e.kind = 'operation.planned' AND jsonb_typeof(e.p -> 'envelope' -> 'targets') = 'array' AND e.p -> 'envelope' -> 'targets' <> '[]') AS targets,
      array_agg(e.p -> 'decision' ->> 'policyId') FILTER (WHERE e.kind = 'policy.decided' AND e.p -> 'decision' ->> 'policyId' IS NOT NULL) AS policy_ids,
      array_agg(e.p -> 'decision' ->> 'risk') FILTER (WHERE e.kind = 'policy.decided' AND e.p -> 'decision' ->> 'risk' IS NOT NULL) AS risks,
      array_agg(CASE WHEN (e.p -> 'decision' ->> 'approvalsRequired') ~ '^[0-9]{1,9}$' THEN (e.p -> 'decision' ->> 'approvalsRequired')::int END)
        FILTER (WHERE e.kind = 'policy.decided' AND (e.p -> 'decision' ->> 'approvalsRequired') ~ '^[0-9]{1,9}$') AS approvals_required,
      array_agg(e.occurred) FILTER (WHERE e.kind = 'operation.closed') AS closings,
      -- Records that enter no state (policy.decided, approvals, notes) leave the state as it was.
      array_agg(e.rec ->> 'state') FILTER (WHERE e.rec ->> 'state' IS NOT NULL) AS states,
      array_agg(e.p ->> 'outcome') FILTER (WHERE e.kind = 'operation.closed' AND e.p ->> 'outcome' IS NOT NULL) AS outcomes,
      max(e.occurred) AS last_event_at,
      count(*)::int AS events,
      (count(*) FILTER (WHERE e.kind = 'approval.granted'))::int AS approvals_granted,
      (count(*) FILTER (WHERE e.kind = 'approval.refused'))::int AS approvals_refused,
      (count(*) FILTER (WHERE e.kind = 'approval.rejected'))::int AS approvals_rejected,
      (count(*) FILTER (WHERE e.kind = 'approval.stale'))::int AS approvals_stale,
      (count(*) FILTER (WHERE e.kind = 'step.compensated'))::int AS compensations,
      (count(*) FILTER (WHERE e.kind = 'step.compensation_failed'))::int AS compensation_failures,
      (count(*) FILTER (WHERE e.kind LIKE 'manual.%'))::int AS manual_events,
      jsonb_path_query_array(coalesce(jsonb_agg(jsonb_build_object('seq', e.seq, 'type', e.kind, 'at', e.rec -> 'occurredAt', 'by', e.p -> 'approver', 'summary', e.summary))
                                        FILTER (WHERE e.kind LIKE 'approval.%' OR e.kind IN ('operation.approved', 'operation.rejected', 'operation.expired')), '[]'),
                             '$[last - 19 to last]') AS approval_trail,
      jsonb_path_query_array(jsonb_agg(jsonb_build_object('seq', e.seq, 'type', e.kind, 'state', e.rec -> 'state', 'stepIndex', e.rec -> 'stepIndex',
                                                          'at', e.rec -> 'occurredAt', 'actor', e.rec -> 'actor' -> 'id', 'summary', e.summary)),
                             '$[last - 9 to last]') AS recent
      FROM (SELECT * FROM described ORDER BY op, ord) AS e
     GROUP BY e.op
  )
  INSERT INTO writ.operations AS o (
    operation_id, chain_id, correlation_id, actor, intent, mode, targets, policy_id, risk, approvals_required,
    first_seq, last_seq, started_at, last_event_at, closed_at, state, outcome, last_event_type,
    step_count, steps, events, approvals_granted, approvals_refused, approvals_rejected, approvals_stale,
    compensations, compensation_failures, manual_events, approval_trail, recent)
  SELECT f.op, CASE WHEN f.chain_lo = f.chain_hi THEN f.chain_lo ELSE writ.refuse_second_chain(f.op, f.chain_lo, f.chain_hi) END,
         f.correlation_ids[1], f.planners[cardinality(f.planners)], f.intents[1], f.modes[1],
         coalesce(f.targets[1], '[]'), f.policy_ids[cardinality(f.policy_ids)], f.risks[cardinality(f.risks)],
         f.approvals_required[cardinality(f.approvals_required)],
         f.seqs[1], f.seqs[cardinality(f.seqs)], f.occurred[1], f.last_event_at, f.closings[cardinality(f.closings)],
         f.states[cardinality(f.states)], f.outcomes[cardinality(f.outcomes)], f.kinds[cardinality(f.kinds)],
         coalesce(s.n, 0), coalesce(s.steps, '{}'), f.events, f.approvals_granted, f.approvals_refused, f.approvals_rejected, f.approvals_stale,
         f.compensations, f.compensation_failures, f.manual_events, f.approval_trail, f.recent
    FROM folded f LEFT JOIN steps s ON s.op = f.op
   -- Every batch locks rows in the same order, so two batches never wait on each other in a cycle.
   ORDER BY f.op
  ON CONFLICT (operation_id) DO UPDATE SET
    chain_id = CASE WHEN o.chain_id = EXCLUDED.chain_id THEN o.chain_id
                    ELSE writ.refuse_second_chain(o.operation_id, o.chain_id, EXCLUDED.chain_id) END,
    correlation_id = coalesce(o.correlation_id, EXCLUDED.correlation_id),
    actor = coalesce(EXCLUDED.actor, o.actor),
    intent = coalesce(o.intent, EXCLUDED.intent),
    mode = coalesce(o.mode, EXCLUDED.mode),
    targets = CASE WHEN o.targets = '[]' THEN EXCLUDED.targets ELSE o.targets END,
    policy_id = coalesce(EXCLUDED.policy_id, o.policy_id),
    risk = coalesce(EXCLUDED.risk, o.risk),
    approvals_required = coalesce(EXCLUDED.approvals_required, o.approvals_required),
    last_seq = EXCLUDED.last_seq,
    last_event_at = greatest(o.last_event_at, EXCLUDED.last_event_at),
    closed_at = coalesce(EXCLUDED.closed_at, o.closed_at),
    state = coalesce(EXCLUDED.state, o.state),
    outcome = coalesce(EXCLUDED.outcome, o.outcome),
    last_event_type = EXCLUDED.last_event_type,
    step_count = o.step_count + (SELECT count(*)::int FROM jsonb_object_keys(EXCLUDED.steps) AS k WHERE NOT o.steps ? k),
    steps = o.steps || coalesce((SELECT jsonb_object_agg(k, coalesce(o.steps -> k, '{}') || v) FROM jsonb_each(EXCLUDED.steps) AS x (k, v)), '{}'),
    events = o.events + EXCLUDED.events,
    approvals_granted = o.approvals_granted + EXCLUDED.approvals_granted,
    approvals_refused = o.approvals_refused + EXCLUDED.approvals_refused,
    approvals_rejected = o.approvals_rejected + EXCLUDED.approvals_rejected,
    approvals_stale = o.approvals_stale + EXCLUDED.approvals_stale,
    compensations = o.compensations + EXCLUDED.compensations,
    compensation_failures = o.compensation_failures + EXCLUDED.compensation_failures,
    manual_events = o.manual_events + EXCLUDED.manual_events,
    approval_trail = jsonb_path_query_array(o.approval_trail || EXCLUDED.approval_trail, '$[last - 19 to last]'),
    recent = jsonb_path_query_array(o.recent || EXCLUDED.recent, '$[last - 9 to last]');
END
$$;

CREATE OR REPLACE FUNCTION writ.records_project() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  PERFORM writ.operations_fold(ARRAY(
    SELECT ROW(a.operation_id, a.chain_id, a.seq, a.recorded_at, a.record)::writ.fold_input
      FROM added a
     WHERE a.operation_id IS NOT NULL
     ORDER BY a.chain_id, a.seq));
  RETURN NULL;
END
$$;
