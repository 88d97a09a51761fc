-- Up Migration
-- The ledger: one append-only table of hash-chained audit records. See docs/FORMAT.md.

CREATE EXTENSION IF NOT EXISTS pgcrypto;

CREATE SCHEMA IF NOT EXISTS writ;

-- Roles are cluster-wide, so another database on the same server may have created them already;
-- two migrations racing on a fresh server is why duplicate_object is caught rather than checked.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'writ_writer') THEN
    BEGIN CREATE ROLE writ_writer NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'writ_reader') THEN
    BEGIN CREATE ROLE writ_reader NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END;
  END IF;
END
$$;

-- A client supplies only `canonical` (the RFC 8785 bytes computed in Node). Everything else is
-- derived here: the jsonb copy and the indexed columns come from those bytes, and seq, prev_hash,
-- hash and recorded_at are assigned by the trigger, so no client can forge a link or store a
-- searchable column that disagrees with what was hashed.
CREATE TABLE writ.records (
  chain_id        text GENERATED ALWAYS AS (record ->> 'chain') STORED,
  seq             bigint      NOT NULL,
  canonical       bytea       NOT NULL,
  record          jsonb       NOT NULL,
  prev_hash       bytea       NOT NULL,
  hash            bytea       NOT NULL,
  recorded_at     timestamptz NOT NULL,
  event_id        text GENERATED ALWAYS AS (record ->> 'eventId') STORED,
  idempotency_key text GENERATED ALWAYS AS (record ->> 'idempotencyKey') STORED,
  event_type      text GENERATED ALWAYS AS (record ->> 'type') STORED,
  operation_id    text GENERATED ALWAYS AS (record ->> 'operationId') STORED,
  correlation_id  text GENERATED ALWAYS AS (record ->> 'correlationId') STORED,
  PRIMARY KEY (chain_id, seq),
  CONSTRAINT records_hash_is_sha256 CHECK (octet_length(hash) = 32 AND octet_length(prev_hash) = 32),
  CONSTRAINT records_seq_positive CHECK (seq >= 1)
);

CREATE UNIQUE INDEX records_idempotency ON writ.records (chain_id, idempotency_key);
CREATE UNIQUE INDEX records_event_id ON writ.records (event_id);
CREATE INDEX records_operation ON writ.records (operation_id, chain_id, seq) WHERE operation_id IS NOT NULL;
CREATE INDEX records_correlation ON writ.records (correlation_id, chain_id, seq) WHERE correlation_id IS NOT NULL;

CREATE FUNCTION writ.records_link() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  chain text;
  last_seq bigint;
  last_hash bytea;
BEGIN
  -- Each statement below must see rows committed by the previous lock holder, which only
  -- READ COMMITTED gives inside a trigger; under a snapshot isolation level two writers
  -- would both link to the same predecessor.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'writ.records: appends must run at READ COMMITTED, not %', current_setting('transaction_isolation')
      USING ERRCODE = 'WRT01';
  END IF;

  NEW.record := convert_from(NEW.canonical, 'UTF8')::jsonb;
  chain := NEW.record ->> 'chain';
  IF chain IS NULL OR chain = '' THEN
    RAISE EXCEPTION 'writ.records: the canonical record has no chain' USING ERRCODE = 'WRT02';
  END IF;
  IF (NEW.record ->> 'v') IS DISTINCT FROM '1' THEN
    RAISE EXCEPTION 'writ.records: unknown record format version %', NEW.record ->> 'v' USING ERRCODE = 'WRT03';
  END IF;

  -- Serialises appenders per chain until commit: the head read below cannot change under us.
  PERFORM pg_advisory_xact_lock(hashtextextended('writ.records:' || chain, 0));

  SELECT r.seq, r.hash INTO last_seq, last_hash
    FROM writ.records r
   WHERE r.chain_id = chain
   ORDER BY r.seq DESC
   LIMIT 1;

  NEW.seq := coalesce(last_seq, 0) + 1;
  NEW.prev_hash := coalesce(last_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
  NEW.hash := digest(NEW.prev_hash || NEW.canonical, 'sha256');
  NEW.recorded_at := clock_timestamp();
  RETURN NEW;
END
$$;

CREATE TRIGGER records_link
  BEFORE INSERT ON writ.records
  FOR EACH ROW EXECUTE FUNCTION writ.records_link();

CREATE FUNCTION writ.records_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'writ.records is append-only: % is refused', TG_OP
    USING ERRCODE = 'WRT10', HINT = 'Record a correcting event instead (writ record).';
END
$$;

CREATE TRIGGER records_no_update
  BEFORE UPDATE OR DELETE ON writ.records
  FOR EACH ROW EXECUTE FUNCTION writ.records_refuse_change();

CREATE TRIGGER records_no_truncate
  BEFORE TRUNCATE ON writ.records
  FOR EACH STATEMENT EXECUTE FUNCTION writ.records_refuse_change();

ALTER TABLE writ.records ENABLE ROW LEVEL SECURITY;
CREATE POLICY records_append ON writ.records FOR INSERT TO writ_writer WITH CHECK (true);
CREATE POLICY records_read ON writ.records FOR SELECT TO writ_writer, writ_reader USING (true);

REVOKE ALL ON SCHEMA writ FROM PUBLIC;
REVOKE ALL ON writ.records FROM PUBLIC;
GRANT USAGE ON SCHEMA writ TO writ_writer, writ_reader;
GRANT SELECT, INSERT ON writ.records TO writ_writer;
GRANT SELECT ON writ.records TO writ_reader;
