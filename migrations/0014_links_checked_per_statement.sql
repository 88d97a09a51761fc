-- Up Migration
-- Links made by the appender and checked by the database once per statement (issue 15, point 1).
--
-- Until now writ.records_admit (0012) made every record's link itself, row by row: under the
-- chain's lock it looked the head up with a query of its own and hashed, and its pinned
-- search_path was saved and restored on every call. That cost about 60 µs a record of the 110 an
-- append spent in PostgreSQL, and since the first row took the chain's lock, every other batch of
-- the chain waited from its first row until this one's commit had reached the disk.
--
-- Now a client may send the link with the record: seq, prev_hash and hash. A row that comes with
-- its seq only gets the jsonb copy and the database clock (writ.records_stamp, no query, no
-- search_path to restore). writ.records_check_links then checks every row of the statement in one
-- pass over its transition table, taking each chain's lock once:
--
-- 1. READ COMMITTED, else WRT01 (the head read under the lock must see the previous holder's rows);
-- 2. a chain and format version 1 on every row, else WRT02 and WRT03;
-- 3. no key twice in one object, else WRT04, as 0012 counts it; all three before any lock;
-- 4. per chain, in chain order: the lock, then the rows' seqs follow each other, the first row
--    links on to the stored row before it (or the zero hash at seq 1), each row on to the one
--    before it, and every hash is SHA-256(prev_hash || canonical); else WRT08. A row with seq N
--    can only be stored when no stored row has seq N (the primary key), so a first row that
--    links on to seq N-1 as it stands once the lock is held continues the chain at its head;
-- 5. a proof of identity used on one chain only, else WRT07, under the proof's own lock.
--
-- A forged link is refused rather than replaced. A row sent without its seq is linked row by row
-- as before (writ.records_admit, now only for such rows): hand-written inserts and the appender's
-- retries after it lost track of the head. Its link is checked again at the end of the statement;
-- that costs a hashing a row on a path that is not the hot one.
--
-- The appender links a batch while the one before it may still be committing: the check of the
-- second waits for the first's lock, so the second batch's rows, indexes and generated columns
-- are written while the first one's commit is flushed. When the batch before it did not commit,
-- or another process appended in between, the rows' link does not continue the chain (WRT08) or
-- their seq is taken (23505): nothing is written, and the appender sends them again without a
-- link.

CREATE FUNCTION writ.records_stamp() RETURNS trigger
LANGUAGE plpgsql
-- No pinned search_path, which would be saved and restored on every row: every name is qualified
-- and the body uses no operator, so the caller's search_path chooses nothing here.
AS $$
BEGIN
  NEW.record := pg_catalog.convert_from(NEW.canonical, 'UTF8')::pg_catalog.jsonb;
  NEW.recorded_at := pg_catalog.clock_timestamp();
  -- Says "rows linked by their writer are being written to this chain" until commit, so that the
  -- check of a batch linked on to this one can wait for it (see records_check_links).
  PERFORM pg_catalog.pg_advisory_xact_lock_shared(pg_catalog.hashtextextended(
    pg_catalog.textcat('writ.linking:', pg_catalog.jsonb_extract_path_text(NEW.record, 'chain')), 0));
  RETURN NEW;
END
$$;

CREATE FUNCTION writ.records_check_links() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  bad record;
  chain_name text;
  first_seq bigint;
  last_seq bigint;
  rows_sent bigint;
  proof record;
  before_first bytea;
  used_on text;
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'writ.records: appends must run at READ COMMITTED, not %', current_setting('transaction_isolation')
      USING ERRCODE = 'WRT01';
  END IF;

  SELECT a.seq, a.chain_id, a.record ->> 'v' AS v INTO bad
    FROM added a
   WHERE a.chain_id IS NULL OR a.chain_id = '' OR (a.record ->> 'v') IS DISTINCT FROM '1'
   LIMIT 1;
  IF FOUND THEN
    IF bad.chain_id IS NULL OR bad.chain_id = '' THEN
      RAISE EXCEPTION 'writ.records: the canonical record has no chain' USING ERRCODE = 'WRT02';
    END IF;
    RAISE EXCEPTION 'writ.records: unknown record format version %', bad.v USING ERRCODE = 'WRT03';
  END IF;

  -- 0012's count of members, for a whole statement: where no escape and no space follows a quote
  -- (the regular expression), every '":' ends a key. Each text is worked out once (OFFSET 0 keeps
  -- the planner from copying the expressions into every place that uses them).
  SELECT c.written_members, c.parsed_members INTO bad
    FROM (SELECT CASE WHEN t.plain THEN octet_length(t.written) - octet_length(replace(t.written, '":', ''))
                      ELSE 2 * writ.json_members(t.written) END AS written_members,
                 CASE WHEN t.plain THEN octet_length(t.parsed) - octet_length(replace(t.parsed, '":', ''))
                      ELSE 2 * writ.json_members(t.parsed) END AS parsed_members
            FROM (SELECT s.written, s.parsed, s.written !~ '\\u|"[ \n\t\r]' AS plain
                    FROM (SELECT convert_from(a.canonical, 'UTF8') AS written, a.record::text AS parsed FROM added a OFFSET 0) s
                  OFFSET 0) t) c
   WHERE c.written_members <> c.parsed_members
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'writ.records: the canonical bytes give a key twice in one object (% members written, % read), so they read differently to different parsers', bad.written_members / 2, bad.parsed_members / 2
      USING ERRCODE = 'WRT04', HINT = 'Append records through Writ, which writes RFC 8785 canonical JSON.';
  END IF;

  FOR chain_name, first_seq, last_seq, rows_sent IN
    SELECT a.chain_id, min(a.seq), max(a.seq), count(*)
      FROM added a GROUP BY a.chain_id ORDER BY a.chain_id
  LOOP
    -- Before this chain's wait and lock, like the checks above: a refused statement holds up no one.
    IF last_seq - first_seq + 1 <> rows_sent THEN
      RAISE EXCEPTION 'writ.records: the rows for chain % skip a sequence number between % and %', chain_name, first_seq, last_seq
        USING ERRCODE = 'WRT08', HINT = 'Send the records without seq, prev_hash and hash and the ledger links them.';
    END IF;
    IF first_seq = 1 THEN
      before_first := '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea;
    ELSE
      -- A stored record never changes, so once seen it need not be read again under the lock.
      -- Asked as "the newest record before first_seq" so that the primary key is the one good
      -- plan: asked as "the record at first_seq - 1", a table without statistics yet (a new
      -- deployment) made records_idempotency, which also leads with chain_id, look as cheap, and
      -- that plan, once cached, read the whole chain.
      SELECT CASE WHEN newest.seq = first_seq - 1 THEN newest.hash END INTO before_first
        FROM (SELECT r.seq, r.hash FROM writ.records r
               WHERE r.chain_id = chain_name AND r.seq < first_seq ORDER BY r.seq DESC LIMIT 1) AS newest;
      IF before_first IS NULL THEN
        -- The batch these rows link on to may still be being written or committed: the appender
        -- sends a chain's next batch before the last one has committed. Wait until every other
        -- transaction writing linked rows to the chain has ended: the exclusive lock waits for
        -- their shared ones (records_stamp), and rolling the block back gives it up at once, so
        -- that batches after this one are not held up by it. The wait is bounded: two writers
        -- whose batches wait for each other (two processes on one chain) would otherwise stay
        -- deadlocked until PostgreSQL's deadlock_timeout; after it the check below decides, and
        -- a refused batch is sent again.
        BEGIN
          PERFORM set_config('lock_timeout', '100ms', true);
          PERFORM pg_advisory_xact_lock(hashtextextended('writ.linking:' || chain_name, 0));
          RAISE EXCEPTION 'waited' USING ERRCODE = 'WRT09';
        EXCEPTION WHEN SQLSTATE 'WRT09' OR lock_not_available THEN
          NULL;
        END;
      END IF;
    END IF;

    -- Serialises appenders per chain until commit, as records_admit does for rows it links itself.
    PERFORM pg_advisory_xact_lock(hashtextextended('writ.records:' || chain_name, 0));

    IF before_first IS NULL THEN
      SELECT CASE WHEN newest.seq = first_seq - 1 THEN newest.hash END INTO before_first
        FROM (SELECT r.seq, r.hash FROM writ.records r
               WHERE r.chain_id = chain_name AND r.seq < first_seq ORDER BY r.seq DESC LIMIT 1) AS newest;
      IF before_first IS NULL THEN
        RAISE EXCEPTION 'writ.records: chain % has no record % for record % to link on to', chain_name, first_seq - 1, first_seq
          USING ERRCODE = 'WRT08', HINT = 'Send the records without seq, prev_hash and hash and the ledger links them.';
      END IF;
    END IF;

    SELECT l.seq, l.prev_hash = coalesce(l.hash_before, before_first) AS links_on INTO bad
      FROM (SELECT a.seq, a.prev_hash, a.hash, a.canonical, lag(a.hash) OVER (ORDER BY a.seq) AS hash_before
              FROM added a WHERE a.chain_id = chain_name) l
     WHERE l.prev_hash <> coalesce(l.hash_before, before_first) OR l.hash <> sha256(l.prev_hash || l.canonical)
     ORDER BY l.seq
     LIMIT 1;
    IF FOUND THEN
      IF bad.links_on THEN
        RAISE EXCEPTION 'writ.records: record % of chain % has a hash that is not SHA-256 of its prev_hash and canonical bytes', bad.seq, chain_name
          USING ERRCODE = 'WRT08', HINT = 'Send the records without seq, prev_hash and hash and the ledger links them.';
      END IF;
      RAISE EXCEPTION 'writ.records: the prev_hash of record % of chain % is not the hash of the record before it', bad.seq, chain_name
        USING ERRCODE = 'WRT08', HINT = 'Send the records without seq, prev_hash and hash and the ledger links them.';
    END IF;
    before_first := NULL;
  END LOOP;

  FOR proof IN
    SELECT DISTINCT a.idempotency_key, a.chain_id
      FROM added a WHERE a.idempotency_key LIKE 'identity/proof/%' ORDER BY 1, 2
  LOOP
    -- Two first uses of one proof on two chains take turns; the second then sees the first.
    PERFORM pg_advisory_xact_lock(hashtextextended('writ.proof:' || proof.idempotency_key, 0));
    -- The LIKE repeats the index's predicate so that the planner can use records_proof_use.
    SELECT r.chain_id INTO used_on FROM writ.records r
     WHERE r.idempotency_key = proof.idempotency_key AND r.idempotency_key LIKE 'identity/proof/%' AND r.chain_id <> proof.chain_id LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'writ.records: the proof under % was already used on chain %', proof.idempotency_key, used_on
        USING ERRCODE = 'WRT07', HINT = 'A proof of identity counts once; ask for a new one.';
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;

-- 0012's row trigger, for rows sent without a seq, and one lock more.
CREATE OR REPLACE FUNCTION writ.records_admit() RETURNS trigger
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

  -- Rows linked by their writer may be on their way to the head (records_stamp): wait until their
  -- transactions end, and hold theirs off until this one's, so that a head read here is not
  -- overtaken by a seq that one of them holds uncommitted.
  PERFORM pg_advisory_xact_lock(hashtextextended('writ.linking:' || chain, 0));
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

-- Rows without a seq keep 0012's row trigger, which links them under the chain's lock.
DROP TRIGGER records_admit ON writ.records;
CREATE TRIGGER records_admit
  BEFORE INSERT ON writ.records
  FOR EACH ROW WHEN (NEW.seq IS NULL) EXECUTE FUNCTION writ.records_admit();

CREATE TRIGGER records_stamp
  BEFORE INSERT ON writ.records
  FOR EACH ROW WHEN (NEW.seq IS NOT NULL) EXECUTE FUNCTION writ.records_stamp();

-- Named to fire before records_project (AFTER statement triggers fire in name order): the fold
-- runs on rows whose links hold, under the chain's lock this trigger took.
CREATE TRIGGER records_check_links
  AFTER INSERT ON writ.records
  REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION writ.records_check_links();

REVOKE ALL ON FUNCTION writ.records_stamp() FROM PUBLIC;
REVOKE ALL ON FUNCTION writ.records_check_links() FROM PUBLIC;

-- The check names writ.json_members in a query over the whole statement, where 0012 only called
-- it for a row that needed it: every role that appends needs it now (it reads only its argument).
GRANT EXECUTE ON FUNCTION writ.json_members(text) TO writ_access_recorder;
