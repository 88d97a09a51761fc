-- Up Migration
-- The what-happened projection: one row per operation, folded from writ.records by a trigger in
-- the same transaction as each append, so "what happened to X" is one indexed read instead of a
-- scan of the ledger. It is derived: writ.rebuild_operations() recomputes it from the records,
-- and nothing here ever changes writ.records itself.

-- One line a person can read per event, computed in the database so that the projection's recent
-- events and `writ what-happened --timeline` (which reads writ.records) say the same words.
-- Nothing here may raise: summaries are computed inside every append, and a record with an
-- unexpected payload (any holder of writ_writer can insert one) must still be appended, with a
-- thinner line. Hence the jsonb_typeof guards, and format(), which prints a missing field as ''.
-- None of these pins search_path: they touch no table, and a SET clause would keep the planner
-- from inlining the SQL ones into the fold, which is most of what makes them cheap.

-- What a step.executed payload says was changed (or would be, in a dry run): `tier: "silver" ->
-- "gold"`. A set-returning SQL function so that the fold can join it LATERAL: the planner then
-- inlines it into the fold's own plan, where the key loop is a subplan set up once per statement
-- rather than a query started for every record.
CREATE FUNCTION writ.step_changes(p jsonb) RETURNS TABLE (change text)
LANGUAGE sql STABLE PARALLEL SAFE ROWS 1
AS $$
  SELECT left(CASE WHEN x.dry THEN 'would change ' ELSE '' END || CASE
      WHEN x.b IS NOT DISTINCT FROM x.a THEN 'no change'
      WHEN jsonb_typeof(x.b) = 'object' AND jsonb_typeof(x.a) = 'object' THEN
        -- `b || a` holds every key of either side, in jsonb's own (deterministic) order.
        coalesce((SELECT string_agg(format('%s: %s -> %s', k, coalesce(left((x.b -> k)::text, 60), '(none)'), coalesce(left((x.a -> k)::text, 60), '(none)')), '; ')
                    FROM jsonb_object_keys(x.b || x.a) AS k
                   WHERE x.b -> k IS DISTINCT FROM x.a -> k), '')
      ELSE format('%s -> %s', coalesce(left(x.b::text, 80), 'nothing'), coalesce(left(x.a::text, 80), 'nothing'))
    END, 200)
  FROM (SELECT p ->> 'dryRun' = 'true' AS dry,
               CASE WHEN p ->> 'dryRun' = 'true' THEN p -> 'wouldChange' -> 'before' ELSE p -> 'before' END AS b,
               CASE WHEN p ->> 'dryRun' = 'true' THEN p -> 'wouldChange' -> 'after' ELSE p -> 'after' END AS a) AS x
  -- Keeps the inlined body a subquery of its own, so its result is a plain column to the caller
  -- (which also passes it to event_summary) rather than an expression evaluated at each use.
  OFFSET 0
$$;

CREATE FUNCTION writ.step_change(p jsonb) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT change FROM writ.step_changes(p)
$$;

-- A JSON array's strings joined, or '' when the member is missing or not an array.
CREATE FUNCTION writ.joined(list jsonb, separator text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  result text;
BEGIN
  IF list IS NULL OR jsonb_typeof(list) <> 'array' THEN
    RETURN '';
  END IF;
  SELECT string_agg(x, separator) INTO result FROM jsonb_array_elements_text(list) AS x;
  RETURN coalesce(result, '');
END
$$;

CREATE FUNCTION writ.step_number(rec jsonb) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN jsonb_typeof(rec -> 'stepIndex') = 'number' AND (rec ->> 'stepIndex') ~ '^[0-9]{1,9}$'
              THEN ((rec ->> 'stepIndex')::int + 1)::text ELSE '?' END
$$;

-- `change` lets the fold pass the step's change it has already worked out (else it is computed).
-- STABLE only because format() is; the result depends on nothing but the arguments. Written as
-- one expression with each argument used where the planner can still inline it into the fold.
CREATE FUNCTION writ.event_summary(rec jsonb, change text DEFAULT NULL) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT left(CASE rec ->> 'type'
    WHEN 'operation.planned' THEN
      CASE WHEN jsonb_typeof(rec -> 'payload' -> 'envelope') = 'object' THEN
        format('%s asked for %s step(s): %s', rec -> 'actor' ->> 'id',
               CASE WHEN jsonb_typeof(rec -> 'payload' -> 'envelope' -> 'targets') = 'array' THEN jsonb_array_length(rec -> 'payload' -> 'envelope' -> 'targets') END,
               rec -> 'payload' -> 'envelope' ->> 'intent')
      ELSE format('request from %s refused at planning: %s', rec -> 'actor' ->> 'id', rec -> 'payload' ->> 'problem') END
    WHEN 'policy.decided' THEN
      format('policy %s: risk %s, %s approval(s) required', rec -> 'payload' -> 'decision' ->> 'policyId',
             rec -> 'payload' -> 'decision' ->> 'risk', rec -> 'payload' -> 'decision' ->> 'approvalsRequired')
    WHEN 'operation.validated' THEN 'validated against the current state of every target'
    WHEN 'operation.validation_failed' THEN 'invalid: ' || writ.joined(rec -> 'payload' -> 'problems', '; ')
    WHEN 'approval.requested' THEN
      format('%s approval(s) requested from %s, until %s', rec -> 'payload' ->> 'required',
             coalesce(nullif(writ.joined(rec -> 'payload' -> 'approverGroups', ', '), ''), 'any approver'), rec -> 'payload' ->> 'deadline')
    WHEN 'approval.not_requested' THEN coalesce(rec -> 'payload' ->> 'reason', 'approval not requested')
    WHEN 'approval.granted' THEN format('approved by %s: %s', rec -> 'payload' ->> 'approver', rec -> 'payload' ->> 'reason')
    WHEN 'approval.rejected' THEN format('rejected by %s: %s', rec -> 'payload' ->> 'approver', rec -> 'payload' ->> 'reason')
    WHEN 'approval.refused' THEN
      format('%s by %s refused: %s', CASE WHEN rec -> 'payload' ->> 'kind' = 'reject' THEN 'rejection' ELSE 'approval' END,
             rec -> 'payload' ->> 'approver', rec -> 'payload' ->> 'refusal')
    WHEN 'approval.stale' THEN 'approval went stale: a target changed after it was approved, so approval is asked again'
    WHEN 'operation.approved' THEN 'approval complete: approved by ' || writ.joined(rec -> 'payload' -> 'approvers', ', ')
    WHEN 'operation.rejected' THEN format('rejected by %s: %s; nothing was changed', rec -> 'payload' ->> 'approver', rec -> 'payload' ->> 'reason')
    WHEN 'operation.expired' THEN
      format('expired at %s with %s of %s approval(s); nothing was changed', rec -> 'payload' ->> 'deadline', rec -> 'payload' ->> 'granted', rec -> 'payload' ->> 'required')
    WHEN 'step.executing' THEN
      format('step %s: %s %s%s', writ.step_number(rec), rec -> 'payload' -> 'target' ->> 'action', rec -> 'payload' -> 'target' ->> 'identity',
             CASE WHEN rec -> 'payload' ->> 'dryRun' = 'true' THEN ' (dry run)' ELSE '' END)
    WHEN 'step.executed' THEN
      format('step %s %s %s', writ.step_number(rec), CASE WHEN rec -> 'payload' ->> 'dryRun' = 'true' THEN 'previewed,' ELSE 'changed' END,
             coalesce(change, writ.step_change(rec -> 'payload')))
    WHEN 'step.execution_failed' THEN format('step %s failed to execute: %s', writ.step_number(rec), rec -> 'payload' ->> 'error')
    WHEN 'step.verifying' THEN format('step %s: reading the target back', writ.step_number(rec))
    WHEN 'step.verified' THEN
      CASE WHEN rec -> 'payload' ->> 'dryRun' = 'true'
           THEN format('step %s checked: the target did not change during the dry run', writ.step_number(rec))
           ELSE format('step %s verified: the target reads back as written', writ.step_number(rec)) END
    WHEN 'step.verification_failed' THEN format('step %s failed verification: %s', writ.step_number(rec), rec -> 'payload' ->> 'reason')
    WHEN 'step.compensating' THEN format('step %s: rolling back (%s)', writ.step_number(rec), rec -> 'payload' ->> 'method')
    WHEN 'step.compensated' THEN format('step %s rolled back', writ.step_number(rec))
    WHEN 'step.compensation_failed' THEN format('step %s could not be rolled back: %s', writ.step_number(rec), rec -> 'payload' ->> 'error')
    WHEN 'operation.compensated' THEN format('every executed step was rolled back (%s)', rec -> 'payload' ->> 'cause')
    WHEN 'operation.compensation_failed' THEN 'rollback failed: ' || writ.joined(rec -> 'payload' -> 'failures', '; ')
    WHEN 'operation.needs_intervention' THEN format('needs a person: %s', rec -> 'payload' ->> 'cause')
    WHEN 'operation.resolved' THEN
      format('resolved by hand by %s: %s (%s)', rec -> 'payload' ->> 'by', rec -> 'payload' ->> 'action', rec -> 'payload' ->> 'reason')
    WHEN 'operation.resolve_refused' THEN format('resolution by %s refused: %s', rec -> 'payload' ->> 'by', rec -> 'payload' ->> 'refusal')
    WHEN 'operation.closed' THEN format('closed: %s', rec -> 'payload' ->> 'outcome')
    ELSE CASE WHEN rec ->> 'type' LIKE 'manual.%'
              THEN format('%s by %s (recorded by hand): %s', substr(rec ->> 'type', 8), rec -> 'actor' ->> 'id', rec -> 'payload' ->> 'message')
              ELSE rec ->> 'type' END
  END, 200)
$$;

-- The writer's occurredAt (the hashed time), or `fallback` when a writer that bypassed Writ's own
-- validation stored something that is not RFC 3339 UTC. The shape is checked with translate()
-- and plain comparisons (a regular expression costs several times more on every append), and the
-- value built with make_timestamptz plus whole days, so that no string, not even 2026-02-31, can
-- raise and so refuse the append.
CREATE FUNCTION writ.occurred_at(t text, fallback timestamptz) RETURNS timestamptz
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT CASE
    WHEN translate(t, '123456789', '000000000') IN ('0000-00-00T00:00:00Z', '0000-00-00T00:00:00.0Z', '0000-00-00T00:00:00.00Z',
                                                    '0000-00-00T00:00:00.000Z', '0000-00-00T00:00:00.0000Z', '0000-00-00T00:00:00.00000Z',
                                                    '0000-00-00T00:00:00.000000Z')
     AND substr(t, 1, 4) >= '0001' AND substr(t, 6, 2) BETWEEN '01' AND '12' AND substr(t, 9, 2) BETWEEN '01' AND '31'
     AND substr(t, 12, 2) <= '23' AND substr(t, 15, 2) <= '59' AND substr(t, 18, 2) <= '59' THEN
      make_timestamptz(substr(t, 1, 4)::int, substr(t, 6, 2)::int, 1, substr(t, 12, 2)::int, substr(t, 15, 2)::int,
                       rtrim(substr(t, 18), 'Z')::numeric::double precision, 'UTC')
        + (substr(t, 9, 2)::int - 1) * interval '1 day'
    ELSE fallback
  END
$$;

CREATE TABLE writ.operations (
  operation_id          text        PRIMARY KEY,
  -- An operation's records all go to one chain; first_seq and last_seq are positions in it.
  chain_id              text        NOT NULL,
  correlation_id        text,
  -- Who asked: the actor of operation.planned (null when only hand-written events name the operation).
  actor                 jsonb,
  intent                text,
  mode                  text,
  targets               jsonb       NOT NULL DEFAULT '[]',
  policy_id             text,
  risk                  text,
  approvals_required    integer,
  first_seq             bigint      NOT NULL,
  last_seq              bigint      NOT NULL,
  -- Both are the writers' occurredAt (the hashed time), not the database's recorded_at.
  started_at            timestamptz NOT NULL,
  last_event_at         timestamptz NOT NULL,
  closed_at             timestamptz,
  state                 text,
  outcome               text,
  last_event_type       text        NOT NULL,
  step_count            integer     NOT NULL DEFAULT 0,
  -- {"<stepIndex>": {"last": the latest step.* type, "at", "change"?, "problem"?}}
  steps                 jsonb       NOT NULL DEFAULT '{}',
  events                integer     NOT NULL DEFAULT 0,
  approvals_granted     integer     NOT NULL DEFAULT 0,
  approvals_refused     integer     NOT NULL DEFAULT 0,
  approvals_rejected    integer     NOT NULL DEFAULT 0,
  approvals_stale       integer     NOT NULL DEFAULT 0,
  compensations         integer     NOT NULL DEFAULT 0,
  compensation_failures integer     NOT NULL DEFAULT 0,
  manual_events         integer     NOT NULL DEFAULT 0,
  -- The last 20 approval events and the last 10 events: capped so a row never grows with the ledger.
  approval_trail        jsonb       NOT NULL DEFAULT '[]',
  recent                jsonb       NOT NULL DEFAULT '[]'
) WITH (fillfactor = 70);
-- Free space on each page lets the rewrite of a row on append be a HOT update (no index entries).

CREATE INDEX operations_correlation ON writ.operations (correlation_id) WHERE correlation_id IS NOT NULL;

-- What the fold needs of a record: not its canonical bytes, which would only be copied around.
CREATE TYPE writ.fold_input AS (operation_id text, chain_id text, seq bigint, recorded_at timestamptz, record jsonb);

-- Folds a batch of records into their operations' rows, in (chain_id, seq) order within each
-- operation. It is an incremental fold: folding a batch gives the same rows as folding its
-- records one at a time, so the trigger (one batch per INSERT statement) and the rebuild (any
-- chunking of the ledger) agree by construction. Set-based on purpose: the group-commit appender
-- sends records in batches, and per statement the executor is set up once and each operation's
-- row rewritten once, however many records it got. A fold per row (one UPDATE each) measured
-- about 1.6x the cost of this one at 32 records a statement and about the same at 4; it is
-- cheaper only for single-record statements, which come when the ledger is lightly loaded.
CREATE FUNCTION writ.operations_fold(batch writ.fold_input[]) RETURNS void
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
      array_agg(e.chain_id) AS chains,
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
  SELECT f.op, f.chains[1], f.correlation_ids[1], f.planners[cardinality(f.planners)], f.intents[1], f.modes[1],
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

-- SECURITY DEFINER: writ_writer may only read the projection, yet its appends must maintain it.
CREATE FUNCTION writ.records_project() RETURNS trigger
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

-- Once per INSERT statement, after the link trigger has numbered every row; the transition table
-- holds only rows actually inserted, so a retried append skipped by ON CONFLICT DO NOTHING is not
-- counted twice.
CREATE TRIGGER records_project
  AFTER INSERT ON writ.records
  REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT
  EXECUTE FUNCTION writ.records_project();

-- Recomputes the projection from the records (after a restore, a bulk load with triggers off, or
-- a change to the fold). Returns the number of records folded. `chunk_size` bounds what one fold
-- call holds; any size gives the same rows.
CREATE FUNCTION writ.rebuild_operations(chunk_size integer DEFAULT 5000) RETURNS bigint
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  chunk writ.fold_input[];
  last_input writ.fold_input;
  folded bigint := 0;
BEGIN
  -- The lock comes first and the scans' snapshots after it, which only READ COMMITTED gives: an
  -- append already folded but not yet committed is then waited for and read, and one that folds
  -- later waits for this transaction and folds on top. Under a snapshot taken before the lock, the
  -- first kind would be truncated away and never read.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'writ.rebuild_operations() must run at READ COMMITTED, not %', current_setting('transaction_isolation')
      USING ERRCODE = 'WRT01';
  END IF;
  IF chunk_size IS NULL OR chunk_size < 1 THEN
    RAISE EXCEPTION 'writ.rebuild_operations(): chunk_size must be at least 1, not %', chunk_size USING ERRCODE = '22023';
  END IF;
  LOCK TABLE writ.operations IN ACCESS EXCLUSIVE MODE;
  TRUNCATE writ.operations;
  -- Chunks in index order; an operation cut between two chunks is simply folded in two goes,
  -- incrementally, as the trigger would have.
  -- Two statements rather than one with an OR, which would cost each chunk an index scan from the start.
  SELECT array_agg(ROW(r.operation_id, r.chain_id, r.seq, r.recorded_at, r.record)::writ.fold_input ORDER BY r.operation_id, r.chain_id, r.seq)
    INTO chunk
    FROM (SELECT * FROM writ.records r WHERE r.operation_id IS NOT NULL ORDER BY r.operation_id, r.chain_id, r.seq LIMIT chunk_size) r;
  LOOP
    EXIT WHEN chunk IS NULL;
    PERFORM writ.operations_fold(chunk);
    folded := folded + cardinality(chunk);
    last_input := chunk[cardinality(chunk)];
    SELECT array_agg(ROW(r.operation_id, r.chain_id, r.seq, r.recorded_at, r.record)::writ.fold_input ORDER BY r.operation_id, r.chain_id, r.seq)
      INTO chunk
      FROM (SELECT * FROM writ.records r
             WHERE r.operation_id IS NOT NULL
               AND (r.operation_id, r.chain_id, r.seq) > (last_input.operation_id, last_input.chain_id, last_input.seq)
             ORDER BY r.operation_id, r.chain_id, r.seq
             LIMIT chunk_size) r;
  END LOOP;
  RETURN folded;
END
$$;

REVOKE ALL ON writ.operations FROM PUBLIC;
GRANT SELECT ON writ.operations TO writ_writer, writ_reader;
REVOKE ALL ON FUNCTION writ.operations_fold(writ.fold_input[]), writ.records_project(), writ.rebuild_operations(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION writ.event_summary(jsonb, text), writ.step_number(jsonb), writ.step_changes(jsonb), writ.step_change(jsonb),
  writ.joined(jsonb, text), writ.occurred_at(text, timestamptz) FROM PUBLIC;
-- Readers print timelines with the same summaries the projection stores.
GRANT EXECUTE ON FUNCTION writ.event_summary(jsonb, text), writ.step_number(jsonb), writ.step_changes(jsonb), writ.step_change(jsonb),
  writ.joined(jsonb, text), writ.occurred_at(text, timestamptz) TO writ_writer, writ_reader;

-- A ledger that already has records gets its projection now rather than on the next append.
SELECT writ.rebuild_operations();
