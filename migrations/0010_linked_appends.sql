-- Up Migration
-- Appends at the speed of PostgreSQL (issue 15, P1). Until now a row trigger linked every record
-- itself: two queries per row (the chain's advisory lock and its head) under the lock. Now the
-- appender inserts each batch in one statement whose rows come from writ.link_records, which takes
-- each chain's lock and reads its head once; one statement-level trigger then
-- checks the whole statement's rows in one pass against what is stored, so no client can forge a
-- link by sending one, only have its insert refused. An INSERT of `canonical` alone (as before)
-- is linked row by row as it always was.
--
-- Why a supplied link cannot fork or rewrite the chain:
--  * each new row's hash must be SHA-256(prev_hash || canonical);
--  * its prev_hash must be the hash of record seq-1 of its chain, read from this statement's rows
--    or from the stored ones, and 32 zero bytes for seq 1: so no row can follow a record that
--    does not exist (no gap) or claim another predecessor;
--  * the primary key (chain_id, seq) admits one record per position, so a second record at a
--    taken position (a fork, or a row "before" the head) fails as a duplicate; two writers that
--    skip the lock and race for one position meet the same key and one of them fails.
-- The check reads only rows visible to the inserting statement, and PostgreSQL checks the key
-- against every row, committed or not, so it holds at any isolation level.

DROP TRIGGER records_link ON writ.records;
DROP FUNCTION writ.records_link();
DROP TRIGGER records_check_bytes ON writ.records;
DROP FUNCTION writ.records_refuse_duplicate_keys();

-- Row by row, only what cannot be done for the whole statement at once: the jsonb copy and the
-- database's clock. The search_path is pinned because the appender's session chooses its own,
-- and a function earlier on it must not stand in for convert_from or sha256.
CREATE FUNCTION writ.records_admit() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  chain text;
  last_seq bigint;
  last_hash bytea;
BEGIN
  NEW.record := convert_from(NEW.canonical, 'UTF8')::jsonb;
  chain := NEW.record ->> 'chain';
  IF chain IS NULL OR chain = '' THEN
    RAISE EXCEPTION 'writ.records: the canonical record has no chain' USING ERRCODE = 'WRT02';
  END IF;
  IF (NEW.record ->> 'v') IS DISTINCT FROM '1' THEN
    RAISE EXCEPTION 'writ.records: unknown record format version %', NEW.record ->> 'v' USING ERRCODE = 'WRT03';
  END IF;

  IF NEW.seq IS NULL OR NEW.prev_hash IS NULL OR NEW.hash IS NULL THEN
    -- The head read below must see rows committed by the previous lock holder, which only
    -- READ COMMITTED gives inside a trigger; under a snapshot isolation level two writers
    -- would both link to the same predecessor.
    IF current_setting('transaction_isolation') <> 'read committed' THEN
      RAISE EXCEPTION 'writ.records: appends must run at READ COMMITTED, not %', current_setting('transaction_isolation')
        USING ERRCODE = 'WRT01';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('writ.records:' || chain, 0));
    SELECT r.seq, r.hash INTO last_seq, last_hash
      FROM writ.records r
     WHERE r.chain_id = chain
     ORDER BY r.seq DESC
     LIMIT 1;
    NEW.seq := coalesce(last_seq, 0) + 1;
    NEW.prev_hash := coalesce(last_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
    NEW.hash := sha256(NEW.prev_hash || NEW.canonical);
  END IF;
  NEW.recorded_at := clock_timestamp();
  RETURN NEW;
END
$$;

CREATE TRIGGER records_admit
  BEFORE INSERT ON writ.records
  FOR EACH ROW EXECUTE FUNCTION writ.records_admit();

-- What the appender inserts, one call per batch: takes each chain's lock (in one order, so two
-- batches never wait on each other in a cycle), and only then reads the heads the previous holders
-- left (each statement of a PL/pgSQL function sees what was committed before it started, unlike
-- the INSERT around it, whose snapshot predates the lock), and returns the records linked in
-- order. Every record or none: when any key is taken it returns no row, nothing is written, and
-- the appender compares. The INSERT that consumes it runs with the caller's privileges and
-- row-level security, and the links meet the same check as anyone's. The lock is the one the
-- row-by-row path takes, and is held until the caller's transaction ends.
CREATE FUNCTION writ.link_records(canonicals bytea[], chains text[], idempotency_keys text[])
RETURNS TABLE (canonical bytea, seq bigint, prev_hash bytea, hash bytea, ord bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  chain text;
  record_bytes bytea;
  i integer := 0;
  at integer;
  names text[];
  head_seqs bigint[];
  head_hashes bytea[];
  seqs bigint[];
  prevs bytea[];
  hashes bytea[];
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'writ.records: appends must run at READ COMMITTED, not %', current_setting('transaction_isolation')
      USING ERRCODE = 'WRT01';
  END IF;
  IF cardinality(canonicals) IS DISTINCT FROM cardinality(chains) OR cardinality(canonicals) IS DISTINCT FROM cardinality(idempotency_keys) THEN
    RAISE EXCEPTION 'writ.link_records: % records, % chains and % keys', cardinality(canonicals), cardinality(chains), cardinality(idempotency_keys)
      USING ERRCODE = '22023';
  END IF;
  SELECT array_agg(c ORDER BY c) INTO names FROM (SELECT DISTINCT c FROM unnest(chains) AS c) AS d;
  FOREACH chain IN ARRAY names LOOP
    PERFORM pg_advisory_xact_lock(hashtextextended('writ.records:' || chain, 0));
  END LOOP;
  IF EXISTS (SELECT 1 FROM writ.records r JOIN unnest(chains, idempotency_keys) AS k(c, key)
                 ON r.chain_id = k.c AND r.idempotency_key = k.key) THEN
    RETURN;
  END IF;
  SELECT array_agg(coalesce(h.seq, 0) ORDER BY n.ord),
         array_agg(coalesce(h.hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea) ORDER BY n.ord)
    INTO head_seqs, head_hashes
    FROM unnest(names) WITH ORDINALITY AS n(c, ord)
    LEFT JOIN LATERAL (SELECT r.seq, r.hash FROM writ.records r WHERE r.chain_id = n.c ORDER BY r.seq DESC LIMIT 1) AS h ON true;
  FOREACH record_bytes IN ARRAY canonicals LOOP
    i := i + 1;
    at := array_position(names, chains[i]);
    head_seqs[at] := head_seqs[at] + 1;
    seqs[i] := head_seqs[at];
    prevs[i] := head_hashes[at];
    head_hashes[at] := sha256(head_hashes[at] || record_bytes);
    hashes[i] := head_hashes[at];
  END LOOP;
  RETURN QUERY
    SELECT u.canonical, u.seq, u.prev_hash, u.hash, u.ord
      FROM unnest(canonicals, seqs, prevs, hashes) WITH ORDINALITY AS u(canonical, seq, prev_hash, hash, ord);
END
$$;

-- Once per statement over every row it inserted. The predecessor of a row is looked up in the
-- statement's own rows first (a hash join) and in the stored rows only for the first row of each
-- chain, so a batch costs one index probe per chain, not per row. SECURITY DEFINER: it must read
-- the stored predecessor whichever role appends.
CREATE FUNCTION writ.records_check_links() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  bad record;
BEGIN
  SELECT a.chain_id, a.seq,
         a.hash <> sha256(a.prev_hash || a.canonical) AS bad_hash
    INTO bad
    FROM added a
    LEFT JOIN added p ON p.chain_id = a.chain_id AND p.seq = a.seq - 1
   WHERE a.hash <> sha256(a.prev_hash || a.canonical)
      OR a.prev_hash IS DISTINCT FROM (
           CASE WHEN p.seq IS NOT NULL THEN p.hash
                WHEN a.seq = 1 THEN '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
                ELSE (SELECT r.hash FROM writ.records r WHERE r.chain_id = a.chain_id AND r.seq = a.seq - 1)
           END)
   ORDER BY a.chain_id, a.seq
   LIMIT 1;
  IF FOUND THEN
    IF bad.bad_hash THEN
      RAISE EXCEPTION 'writ.records: record % of chain % has a hash that is not SHA-256(prev_hash || canonical)', bad.seq, bad.chain_id
        USING ERRCODE = 'WRT05', HINT = 'Append records through Writ, or send the canonical bytes alone and let the database link them.';
    END IF;
    RAISE EXCEPTION 'writ.records: record % of chain % does not link to record % of that chain (missing, or its hash is not this prev_hash)', bad.seq, bad.chain_id, bad.seq - 1
      USING ERRCODE = 'WRT05', HINT = 'Append records through Writ, or send the canonical bytes alone and let the database link them.';
  END IF;
  RETURN NULL;
END
$$;

-- Fires before records_project (statement triggers fire in name order), so a refused statement
-- is refused before anything is folded.
CREATE TRIGGER records_check_links
  AFTER INSERT ON writ.records
  REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT
  EXECUTE FUNCTION writ.records_check_links();

-- The duplicate-key check of migration 0005, moved from a row trigger into one pass over the
-- statement's rows (the jsonb copy is already parsed by records_admit). The reasoning for the
-- fast count of '":' and when the exact count is needed is in 0005.
CREATE FUNCTION writ.records_refuse_duplicate_keys() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  bad record;
BEGIN
  SELECT x.seq, x.written_members, x.parsed_members INTO bad
    FROM (SELECT a.chain_id, a.seq,
                 CASE WHEN t.fast THEN length(t.written) - length(replace(t.written, '":', '')) ELSE writ.json_members(t.written) END AS written_members,
                 CASE WHEN t.fast THEN length(t.parsed) - length(replace(t.parsed, '":', '')) ELSE writ.json_members(t.parsed) END AS parsed_members
            FROM added a
           CROSS JOIN LATERAL (
             SELECT w AS written, p AS parsed,
                    strpos(w, '\u') = 0 AND strpos(w, '" ') = 0 AND strpos(w, E'"\n') = 0
                      AND strpos(w, E'"\t') = 0 AND strpos(w, E'"\r') = 0 AS fast
               -- OFFSET 0 keeps the planner from pasting the conversions into every use of them.
               FROM (SELECT convert_from(a.canonical, 'UTF8') AS w, a.record::text AS p OFFSET 0) AS c) AS t
          OFFSET 0) AS x
   WHERE x.written_members <> x.parsed_members
   ORDER BY x.chain_id, x.seq
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'writ.records: the canonical bytes give a key twice in one object (% members written, % read), so they read differently to different parsers', bad.written_members, bad.parsed_members
      USING ERRCODE = 'WRT04', HINT = 'Append records through Writ, which writes RFC 8785 canonical JSON.';
  END IF;
  RETURN NULL;
END
$$;

-- Named as before, so an owner who switches the check off (the tests do, to plant such a record)
-- names the same trigger; it fires first of the statement triggers.
CREATE TRIGGER records_check_bytes
  AFTER INSERT ON writ.records
  REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT
  EXECUTE FUNCTION writ.records_refuse_duplicate_keys();

REVOKE ALL ON FUNCTION writ.records_admit(), writ.records_check_links(), writ.records_refuse_duplicate_keys(),
  writ.link_records(bytea[], text[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION writ.link_records(bytea[], text[], text[]) TO writ_writer, writ_hold_keeper, writ_access_recorder;
