-- Up Migration
-- Legal holds (issue 13): while a hold is in force, the personal values it covers must not be
-- erased, whether by `writ erase`, by `writ retention apply` or by a login that skips the CLI.
--
-- A hold is two ledger records, `hold.placed` and at most one `hold.released` (docs/FORMAT.md 17).
-- writ.holds is their projection: one row per record, filled by a trigger in the same transaction
-- as the append, never updated or deleted (a release is a second row, not a change to the first).
-- The trigger refuses a hold record that makes no sense (no scope, two scopes, a range that ends
-- before it starts, an empty reason, a release of a hold never placed or already released), so the
-- append fails and nothing is written: the ledger and the table cannot disagree about a hold.
-- writ.hold_covering() answers "is this value held?" for the erasure triggers.

DO $$
BEGIN
  -- Roles are cluster-wide: created only when missing, as 0001 does.
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'writ_hold_keeper') THEN
    BEGIN CREATE ROLE writ_hold_keeper NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END;
  END IF;
END
$$;

CREATE TABLE writ.holds (
  hold_id              uuid        NOT NULL,
  event                text        NOT NULL CHECK (event IN ('placed', 'released')),
  chain_id             text        NOT NULL,
  seq                  bigint      NOT NULL,
  event_id             text        NOT NULL,
  occurred_at          timestamptz NOT NULL,
  recorded_at          timestamptz NOT NULL,
  by_id                text        NOT NULL,
  reason               text        NOT NULL CHECK (btrim(reason) <> ''),
  scope_operation_id   text,
  scope_correlation_id text,
  scope_actor_id       text,
  scope_from           timestamptz,
  scope_to             timestamptz,
  -- One placing and at most one release per hold, whoever races whom.
  PRIMARY KEY (hold_id, event),
  UNIQUE (chain_id, seq),
  CONSTRAINT holds_one_scope CHECK (CASE event
    WHEN 'placed' THEN num_nonnulls(scope_operation_id, scope_correlation_id, scope_actor_id, scope_from) = 1
                       AND (scope_from IS NULL) = (scope_to IS NULL) AND (scope_from IS NULL OR scope_from <= scope_to)
    ELSE num_nonnulls(scope_operation_id, scope_correlation_id, scope_actor_id, scope_from, scope_to) = 0 END)
);

CREATE INDEX holds_operation ON writ.holds (scope_operation_id) WHERE scope_operation_id IS NOT NULL;
CREATE INDEX holds_correlation ON writ.holds (scope_correlation_id) WHERE scope_correlation_id IS NOT NULL;
CREATE INDEX holds_actor ON writ.holds (scope_actor_id) WHERE scope_actor_id IS NOT NULL;

-- Projects one hold record, or refuses it (and with it the whole append). SECURITY DEFINER: only
-- this function, as the table's owner, ever writes writ.holds.
CREATE FUNCTION writ.holds_project() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  p jsonb := NEW.record -> 'payload';
  scope jsonb := NEW.record -> 'payload' -> 'scope';
  hold uuid;
  reason text := NEW.record -> 'payload' ->> 'reason';
  members text[];
  range_from timestamptz;
  range_to timestamptz;
BEGIN
  IF NEW.operation_id IS NOT NULL OR NEW.correlation_id IS NOT NULL THEN
    RAISE EXCEPTION 'writ.holds: a hold record is filed under no operation and no correlation id' USING ERRCODE = 'WRT31';
  END IF;
  IF (p ->> 'holdId') IS NULL OR (p ->> 'holdId') !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
    RAISE EXCEPTION 'writ.holds: payload.holdId must be a lower-case UUID, not %', coalesce(p ->> 'holdId', 'nothing') USING ERRCODE = 'WRT31';
  END IF;
  hold := (p ->> 'holdId')::uuid;
  IF jsonb_typeof(p -> 'reason') IS DISTINCT FROM 'string' OR btrim(reason) = '' THEN
    RAISE EXCEPTION 'writ.holds: hold % needs a reason', hold USING ERRCODE = 'WRT31';
  END IF;
  IF coalesce(NEW.record -> 'actor' ->> 'id', '') = '' THEN
    RAISE EXCEPTION 'writ.holds: hold % names nobody as its actor', hold USING ERRCODE = 'WRT31';
  END IF;

  IF NEW.event_type = 'hold.released' THEN
    IF NOT EXISTS (SELECT 1 FROM writ.holds h WHERE h.hold_id = hold AND h.event = 'placed') THEN
      RAISE EXCEPTION 'writ.holds: no hold % was placed, so none can be released', hold USING ERRCODE = 'WRT32';
    END IF;
    -- ON CONFLICT waits for a concurrent release of the same hold and then skips: one release wins.
    INSERT INTO writ.holds (hold_id, event, chain_id, seq, event_id, occurred_at, recorded_at, by_id, reason)
    VALUES (hold, 'released', NEW.chain_id, NEW.seq, NEW.event_id, writ.occurred_at(NEW.record ->> 'occurredAt', NEW.recorded_at),
            NEW.recorded_at, NEW.record -> 'actor' ->> 'id', reason)
    ON CONFLICT (hold_id, event) DO NOTHING;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'writ.holds: hold % was already released', hold USING ERRCODE = 'WRT33';
    END IF;
    RETURN NULL;
  END IF;

  SELECT array_agg(k ORDER BY k) INTO members FROM jsonb_object_keys(CASE WHEN jsonb_typeof(scope) = 'object' THEN scope ELSE '{}' END) AS k;
  IF members IS NULL OR NOT (members IN ('{operationId}', '{correlationId}', '{actorId}', '{from,to}')) THEN
    RAISE EXCEPTION 'writ.holds: hold % must have exactly one scope (operationId, correlationId, actorId, or from and to), not %',
      hold, coalesce(scope::text, 'none') USING ERRCODE = 'WRT31';
  END IF;
  IF EXISTS (SELECT 1 FROM jsonb_each(scope) AS s WHERE jsonb_typeof(s.value) <> 'string' OR btrim(s.value #>> '{}') = '') THEN
    RAISE EXCEPTION 'writ.holds: the scope of hold % holds an empty or non-text value', hold USING ERRCODE = 'WRT31';
  END IF;
  IF members = '{correlationId}' AND (scope ->> 'correlationId') !~ '^[0-9a-f]{32}$' THEN
    RAISE EXCEPTION 'writ.holds: hold %: correlationId must be 32 lower-case hex digits', hold USING ERRCODE = 'WRT31';
  END IF;
  IF members = '{from,to}' THEN
    range_from := writ.occurred_at(scope ->> 'from', NULL);
    range_to := writ.occurred_at(scope ->> 'to', NULL);
    IF range_from IS NULL OR range_to IS NULL OR range_from > range_to THEN
      RAISE EXCEPTION 'writ.holds: hold %: from and to must be RFC 3339 UTC times with from no later than to, not % and %',
        hold, scope ->> 'from', scope ->> 'to' USING ERRCODE = 'WRT31';
    END IF;
  END IF;
  INSERT INTO writ.holds (hold_id, event, chain_id, seq, event_id, occurred_at, recorded_at, by_id, reason,
                          scope_operation_id, scope_correlation_id, scope_actor_id, scope_from, scope_to)
  VALUES (hold, 'placed', NEW.chain_id, NEW.seq, NEW.event_id, writ.occurred_at(NEW.record ->> 'occurredAt', NEW.recorded_at),
          NEW.recorded_at, NEW.record -> 'actor' ->> 'id', reason,
          scope ->> 'operationId', scope ->> 'correlationId', scope ->> 'actorId', range_from, range_to)
  ON CONFLICT (hold_id, event) DO NOTHING;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'writ.holds: hold % was already placed', hold USING ERRCODE = 'WRT31';
  END IF;
  RETURN NULL;
END
$$;

-- Per row, and only for hold records: the WHEN clause is checked without calling any function, so
-- every other append pays one string comparison.
CREATE TRIGGER records_holds
  AFTER INSERT ON writ.records
  FOR EACH ROW
  WHEN (NEW.event_type IN ('hold.placed', 'hold.released'))
  EXECUTE FUNCTION writ.holds_project();

CREATE FUNCTION writ.holds_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'writ.holds is append-only: % is refused', TG_OP
    USING ERRCODE = 'WRT30', HINT = 'Release a hold with writ hold release, which records hold.released.';
END
$$;

CREATE TRIGGER holds_no_update
  BEFORE UPDATE OR DELETE ON writ.holds
  FOR EACH ROW EXECUTE FUNCTION writ.holds_refuse_change();

CREATE TRIGGER holds_no_truncate
  BEFORE TRUNCATE ON writ.holds
  FOR EACH STATEMENT EXECUTE FUNCTION writ.holds_refuse_change();

-- The id of an active hold (placed and not released) covering a value recorded under this
-- operation, correlation id, actor and time, or NULL. Holds combine as a union: any one of them
-- covering the value holds it. The oldest such hold is named. SECURITY DEFINER so that whoever
-- deletes values (through a trigger that calls this) need not read writ.holds itself.
CREATE FUNCTION writ.hold_covering(operation_id text, correlation_id text, actor_id text, occurred_at timestamptz)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  covering text;
BEGIN
  -- Under a snapshot level, a hold committed after the transaction began would go unseen and the
  -- value it holds could be erased; READ COMMITTED reads every hold committed before this call.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'writ.hold_covering() must run at READ COMMITTED, not %', current_setting('transaction_isolation')
      USING ERRCODE = 'WRT01';
  END IF;
  SELECT h.hold_id::text INTO covering
    FROM writ.holds h
   WHERE h.event = 'placed'
     AND (h.scope_operation_id = hold_covering.operation_id
          OR h.scope_correlation_id = hold_covering.correlation_id
          OR h.scope_actor_id IN (hold_covering.actor_id, lower(btrim(hold_covering.actor_id)))
          OR hold_covering.occurred_at BETWEEN h.scope_from AND h.scope_to)
     AND NOT EXISTS (SELECT 1 FROM writ.holds r WHERE r.hold_id = h.hold_id AND r.event = 'released')
   ORDER BY h.chain_id, h.seq
   LIMIT 1;
  RETURN covering;
END
$$;

REVOKE ALL ON FUNCTION writ.holds_project(), writ.holds_refuse_change() FROM PUBLIC;
-- Reaching it takes USAGE on schema writ, which only Writ's roles have.
GRANT EXECUTE ON FUNCTION writ.hold_covering(text, text, text, timestamptz) TO PUBLIC;

REVOKE ALL ON writ.holds FROM PUBLIC;
GRANT SELECT ON writ.holds TO writ_writer, writ_reader, writ_hold_keeper;

ALTER TABLE writ.holds ENABLE ROW LEVEL SECURITY;
CREATE POLICY holds_read ON writ.holds FOR SELECT TO writ_writer, writ_reader, writ_hold_keeper USING (true);

-- Only holders of writ_hold_keeper append hold records. Without this, the worker's login (or any
-- role that may append) could release a hold and then erase what it held. Restrictive, and for
-- every role, so that a role added later is bound too; a superuser passes pg_has_role.
GRANT USAGE ON SCHEMA writ TO writ_hold_keeper;
GRANT SELECT, INSERT ON writ.records TO writ_hold_keeper;
-- The duplicate-key check runs as whoever inserts (0005).
GRANT EXECUTE ON FUNCTION writ.json_members(text) TO writ_hold_keeper;
CREATE POLICY records_hold_keeper_read ON writ.records FOR SELECT TO writ_hold_keeper USING (true);
CREATE POLICY records_hold_keeper_append ON writ.records FOR INSERT TO writ_hold_keeper
  WITH CHECK (record ->> 'type' IN ('hold.placed', 'hold.released') AND record ->> 'operationId' IS NULL AND record ->> 'correlationId' IS NULL);
CREATE POLICY records_holds_by_keepers ON writ.records AS RESTRICTIVE FOR INSERT TO PUBLIC
  WITH CHECK (coalesce(record ->> 'type', '') NOT LIKE 'hold.%' OR pg_has_role(current_user, 'writ_hold_keeper', 'MEMBER'));

DO $$
DECLARE
  owner text;
BEGIN
  SELECT pg_get_userbyid(c.relowner) INTO owner FROM pg_class c WHERE c.oid = 'writ.holds'::regclass;
  EXECUTE format('CREATE POLICY holds_owner_read ON writ.holds FOR SELECT TO %I USING (true)', owner);
  -- writ.holds_project() and writ.hold_covering() run as the owner.
  EXECUTE format('CREATE POLICY holds_owner_append ON writ.holds FOR INSERT TO %I WITH CHECK (true)', owner);
END
$$;
ALTER TABLE writ.holds FORCE ROW LEVEL SECURITY;
