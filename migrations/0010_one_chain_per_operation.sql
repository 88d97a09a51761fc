-- Up Migration
-- Several chains (WRIT_CHAINS, issue 15 item 3). Two things that held by accident while every
-- record went to chain `main` must now hold by rule, whoever inserts:
--
-- 1. An operation's records all live on one chain: the chain of its first record. Otherwise a
--    holder of writ_writer could file records under a running operation's id on a second chain
--    (squat it), and what-happened, the timeline and a bundle (which holds one chain) would each
--    tell a different story about one operation. The projection row (writ.operations.chain_id)
--    holds the operation's chain; the check runs after the fold, so that two transactions that
--    write an operation's first records on two chains at once are caught too: the second waits
--    on the first's projection row, then finds it names the other chain.
-- 2. A proof of identity is used once across all chains. The ledger's unique key
--    (chain_id, idempotency_key) is the arbiter of a proof's use (identity.proof_used), and it is
--    per chain; without this, a proof used on one chain could be replayed on another.

CREATE OR REPLACE FUNCTION writ.records_project() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  op text;
  written_on text;
  lives_on text;
BEGIN
  PERFORM writ.operations_fold(ARRAY(
    SELECT ROW(a.operation_id, a.chain_id, a.seq, a.recorded_at, a.record)::writ.fold_input
      FROM added a
     WHERE a.operation_id IS NOT NULL
     ORDER BY a.chain_id, a.seq));
  -- A fresh snapshot (READ COMMITTED, enforced by the link trigger): it sees the row as this
  -- statement's fold left it, on top of whatever a concurrent append committed first.
  SELECT a.operation_id, a.chain_id, o.chain_id INTO op, written_on, lives_on
    FROM added a
    JOIN writ.operations o ON o.operation_id = a.operation_id
   WHERE a.operation_id IS NOT NULL AND o.chain_id <> a.chain_id
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'writ.records: operation % lives on chain %, so a record of it on chain % is refused', op, lives_on, written_on
      USING ERRCODE = 'WRT06',
            HINT = 'All of an operation''s records go to the chain of its first record; append to that chain.';
  END IF;
  RETURN NULL;
END
$$;

CREATE INDEX records_proof_use ON writ.records (idempotency_key) WHERE idempotency_key LIKE 'identity/proof/%';

-- Fires after records_link (triggers fire in name order), once the row has its parsed record.
-- The lock makes two first uses of one proof on two chains take turns; the second then sees the first.
CREATE FUNCTION writ.records_proof_once() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  key text := NEW.record ->> 'idempotencyKey';
  chain text := NEW.record ->> 'chain';
  used_on text;
BEGIN
  IF key IS NULL OR key NOT LIKE 'identity/proof/%' THEN
    RETURN NEW;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtextextended('writ.proof:' || key, 0));
  -- The LIKE repeats the index's predicate so that the planner can use records_proof_use.
  SELECT r.chain_id INTO used_on FROM writ.records r
   WHERE r.idempotency_key = key AND r.idempotency_key LIKE 'identity/proof/%' AND r.chain_id <> chain LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'writ.records: the proof under % was already used on chain %', key, used_on
      USING ERRCODE = 'WRT07', HINT = 'A proof of identity counts once; ask for a new one.';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER records_proof_once
  BEFORE INSERT ON writ.records
  FOR EACH ROW EXECUTE FUNCTION writ.records_proof_once();

REVOKE ALL ON FUNCTION writ.records_proof_once() FROM PUBLIC;
