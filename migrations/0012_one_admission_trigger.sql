-- Up Migration
-- One BEFORE INSERT trigger per record instead of three (issue 15, point 1). records_check_bytes
-- (0005), records_link (0001, 0004) and records_proof_once (0010) each parsed or read the same
-- record on their own: the text was decoded twice and parsed to jsonb twice per row, and the two
-- with a pinned search_path saved and restored it on every call. writ.records_admit does the same
-- checks, in the same order, with the same SQLSTATEs and messages, decoding and parsing once:
--
-- 1. READ COMMITTED, else WRT01 (the head read below must see the previous lock holder's rows);
-- 2. the bytes give no key twice in one object, else WRT04, checked before the chain's lock is
--    taken, so a refused row never waits for the lock or holds it (0005 explains the count);
-- 3. a chain and format version 1, else WRT02 and WRT03;
-- 4. the chain's lock, the head, the link and the database clock;
-- 5. a proof of identity is used on one chain only, else WRT07, under the proof's own lock, taken
--    after the chain's as before.
--
-- SET search_path pins every name the body does not qualify (its operators and casts): the
-- appender's session chooses its own search_path, and one naming a schema it can create in ahead
-- of pg_catalog would otherwise choose the operators this trigger links with.
--
-- The duplicate-key check can no longer be switched off on its own; an owner who wants bytes that
-- read two ways in the ledger (the verifier's tests do) can still disable this trigger and write
-- every column by hand, which is what the check guards against in the first place.

CREATE FUNCTION writ.records_admit() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  written text;
  parsed text;
  written_members bigint;
  parsed_members bigint;
  chain text;
  proof_key text;
  last_seq bigint;
  last_hash bytea;
  used_on text;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'writ.records: appends must run at READ COMMITTED, not %', current_setting('transaction_isolation')
      USING ERRCODE = 'WRT01';
  END IF;

  written := convert_from(NEW.canonical, 'UTF8');
  NEW.record := written::jsonb;
  parsed := NEW.record::text;
  IF strpos(written, '\u') = 0 AND strpos(written, '" ') = 0
     AND strpos(written, E'"\n') = 0 AND strpos(written, E'"\t') = 0 AND strpos(written, E'"\r') = 0 THEN
    written_members := length(written) - length(replace(written, '":', ''));
    parsed_members := length(parsed) - length(replace(parsed, '":', ''));
  ELSE
    written_members := writ.json_members(written);
    parsed_members := writ.json_members(parsed);
  END IF;
  IF written_members <> parsed_members THEN
    RAISE EXCEPTION 'writ.records: the canonical bytes give a key twice in one object (% members written, % read), so they read differently to different parsers', written_members, parsed_members
      USING ERRCODE = 'WRT04', HINT = 'Append records through Writ, which writes RFC 8785 canonical JSON.';
  END IF;

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
  NEW.hash := sha256(NEW.prev_hash || NEW.canonical);
  NEW.recorded_at := clock_timestamp();

  proof_key := NEW.record ->> 'idempotencyKey';
  IF proof_key LIKE 'identity/proof/%' THEN
    -- Two first uses of one proof on two chains take turns; the second then sees the first.
    PERFORM pg_advisory_xact_lock(hashtextextended('writ.proof:' || proof_key, 0));
    -- The LIKE repeats the index's predicate so that the planner can use records_proof_use.
    SELECT r.chain_id INTO used_on FROM writ.records r
     WHERE r.idempotency_key = proof_key AND r.idempotency_key LIKE 'identity/proof/%' AND r.chain_id <> chain LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'writ.records: the proof under % was already used on chain %', proof_key, used_on
        USING ERRCODE = 'WRT07', HINT = 'A proof of identity counts once; ask for a new one.';
    END IF;
  END IF;
  RETURN NEW;
END
$$;

DROP TRIGGER records_check_bytes ON writ.records;
DROP TRIGGER records_link ON writ.records;
DROP TRIGGER records_proof_once ON writ.records;
DROP FUNCTION writ.records_refuse_duplicate_keys();
DROP FUNCTION writ.records_link();
DROP FUNCTION writ.records_proof_once();

CREATE TRIGGER records_admit
  BEFORE INSERT ON writ.records
  FOR EACH ROW EXECUTE FUNCTION writ.records_admit();

REVOKE ALL ON FUNCTION writ.records_admit() FROM PUBLIC;
