-- Up Migration
-- Personal values outside the ledger (issue 13; docs/FORMAT.md section 16).
--
-- A record holds a salted commitment where a personal value was; the value and its salt live here,
-- keyed by data subject, so erasure and retention can delete them while every hash, Merkle proof,
-- checkpoint and bundle stays as it was. What this table guards:
--   * a row stands for a marker that is really in a record: inserted only beside that record (the
--     trigger finds the record and the marker at the row's pointer), never for an erased commitment;
--   * nobody updates a row, and a row is deleted only under a ledger record that says why
--     (`privacy.erased` or `retention.applied`, named in the transaction's `writ.erasure_event`
--     setting), never under a legal hold; each deletion leaves a tombstone naming that record.

CREATE TABLE writ.sealed_values (
  commitment      bytea PRIMARY KEY CHECK (octet_length(commitment) = 32),
  chain_id        text NOT NULL,
  idempotency_key text NOT NULL,
  pointer         text NOT NULL,
  subject         text NOT NULL,
  salt            text NOT NULL CHECK (length(salt) >= 22),
  value           text NOT NULL,
  record_type     text NOT NULL,
  operation_id    text,
  correlation_id  text,
  actor_id        text,
  occurred_at     timestamptz NOT NULL,
  UNIQUE (chain_id, idempotency_key, pointer)
);
CREATE INDEX sealed_values_subject ON writ.sealed_values (subject);
CREATE INDEX sealed_values_class ON writ.sealed_values (record_type, occurred_at);

CREATE TABLE writ.sealed_erasures (
  commitment       bytea PRIMARY KEY,
  erasure_event_id text NOT NULL,
  erased_at        timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE FUNCTION writ.json_pointer_path(pointer text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT coalesce(array_agg(replace(replace(part, '~1', '/'), '~0', '~') ORDER BY n), '{}')
    FROM unnest(string_to_array(substr(pointer, 2), '/')) WITH ORDINALITY AS p(part, n)
$$;

CREATE FUNCTION writ.sealed_values_admit() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, writ AS $$
DECLARE
  marker jsonb;
BEGIN
  IF EXISTS (SELECT 1 FROM writ.sealed_erasures e WHERE e.commitment = NEW.commitment) THEN
    RAISE EXCEPTION 'writ.sealed_values: commitment % was erased; its value cannot come back', encode(NEW.commitment, 'hex')
      USING ERRCODE = 'WRT40';
  END IF;
  SELECT r.record -> 'payload' #> writ.json_pointer_path(NEW.pointer) INTO marker
    FROM writ.records r WHERE r.chain_id = NEW.chain_id AND r.idempotency_key = NEW.idempotency_key;
  IF marker IS DISTINCT FROM jsonb_build_object('writ:sealed', encode(NEW.commitment, 'hex')) THEN
    RAISE EXCEPTION 'writ.sealed_values: no record % holds commitment % at %', NEW.idempotency_key,
      encode(NEW.commitment, 'hex'), NEW.pointer USING ERRCODE = 'WRT41';
  END IF;
  RETURN NEW;
END
$$;

CREATE FUNCTION writ.sealed_values_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'writ.sealed_values: values are never changed, only erased under a ledger record'
    USING ERRCODE = 'WRT42';
END
$$;

CREATE FUNCTION writ.sealed_values_erase() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, writ AS $$
DECLARE
  erasure text := nullif(current_setting('writ.erasure_event', true), '');
BEGIN
  IF erasure IS NULL OR NOT EXISTS (
       SELECT 1 FROM writ.records r
        WHERE r.event_id = erasure AND r.event_type IN ('privacy.erased', 'retention.applied')) THEN
    RAISE EXCEPTION 'writ.sealed_values: a value is deleted only under a privacy.erased or retention.applied record (writ erase, writ retention apply)'
      USING ERRCODE = 'WRT43';
  END IF;
  IF writ.hold_covering(OLD.operation_id, OLD.correlation_id, OLD.actor_id, OLD.occurred_at) IS NOT NULL THEN
    RAISE EXCEPTION 'writ.sealed_values: % is under legal hold %', encode(OLD.commitment, 'hex'),
      writ.hold_covering(OLD.operation_id, OLD.correlation_id, OLD.actor_id, OLD.occurred_at) USING ERRCODE = 'WRT44';
  END IF;
  INSERT INTO writ.sealed_erasures (commitment, erasure_event_id) VALUES (OLD.commitment, erasure);
  RETURN OLD;
END
$$;

CREATE TRIGGER sealed_values_admit BEFORE INSERT ON writ.sealed_values
  FOR EACH ROW EXECUTE FUNCTION writ.sealed_values_admit();
CREATE TRIGGER sealed_values_no_update BEFORE UPDATE ON writ.sealed_values
  FOR EACH ROW EXECUTE FUNCTION writ.sealed_values_refuse_change();
CREATE TRIGGER sealed_values_no_truncate BEFORE TRUNCATE ON writ.sealed_values
  FOR EACH STATEMENT EXECUTE FUNCTION writ.sealed_values_refuse_change();
CREATE TRIGGER sealed_values_erase BEFORE DELETE ON writ.sealed_values
  FOR EACH ROW EXECUTE FUNCTION writ.sealed_values_erase();
CREATE TRIGGER sealed_erasures_no_change BEFORE UPDATE OR DELETE ON writ.sealed_erasures
  FOR EACH ROW EXECUTE FUNCTION writ.sealed_values_refuse_change();
CREATE TRIGGER sealed_erasures_no_truncate BEFORE TRUNCATE ON writ.sealed_erasures
  FOR EACH STATEMENT EXECUTE FUNCTION writ.sealed_values_refuse_change();

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'writ_custodian') THEN
    BEGIN
      CREATE ROLE writ_custodian NOLOGIN;
    EXCEPTION WHEN duplicate_object THEN NULL;
    END;
  END IF;
END
$$;

REVOKE ALL ON writ.sealed_values, writ.sealed_erasures FROM PUBLIC;
REVOKE ALL ON FUNCTION writ.sealed_values_admit(), writ.sealed_values_erase(), writ.sealed_values_refuse_change() FROM PUBLIC;
GRANT USAGE ON SCHEMA writ TO writ_custodian;
GRANT SELECT, INSERT ON writ.sealed_values TO writ_writer;
GRANT SELECT ON writ.sealed_values, writ.sealed_erasures TO writ_reader, writ_writer;
-- Erasure and retention append their record and delete in one transaction: the custodian appends
-- as a writer does, and is the only role that deletes values.
GRANT writ_writer TO writ_custodian;
GRANT SELECT, DELETE ON writ.sealed_values TO writ_custodian;
GRANT SELECT ON writ.sealed_erasures, writ.records TO writ_custodian;
GRANT EXECUTE ON FUNCTION writ.hold_covering(text, text, text, timestamptz) TO writ_custodian;

-- Only the custodian says values were erased or expired, or that an erasure was refused: a writer
-- appending `privacy.erased` would put a claim on the record that nobody made. Restrictive and for
-- every role, as 0008 does for holds; a superuser passes pg_has_role.
CREATE POLICY records_privacy_by_custodians ON writ.records AS RESTRICTIVE FOR INSERT TO PUBLIC
  WITH CHECK (coalesce(record ->> 'type', '') NOT IN ('privacy.erased', 'privacy.erase_refused', 'retention.applied')
              OR pg_has_role(current_user, 'writ_custodian', 'MEMBER'));
