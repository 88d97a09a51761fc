-- Up Migration
-- Checkpoints and Merkle nodes out of the writer's reach, and row-level security that binds the
-- ledger tables' owner as well.
--
-- Before this, writ_writer could INSERT into writ.merkle_nodes and writ.checkpoints: one bogus
-- node (say a leaf at a future index) or one checkpoint with a wrong root, and checkpointing or
-- `writ verify` failed for good, with nobody short of a superuser able to remove the row. Now:
--   * Merkle nodes are written only by writ.merkle_extend(), which computes them from the records
--     (RFC 9162: leaf = SHA-256(0x00 || canonical), node = SHA-256(0x01 || left || right)); nobody
--     chooses a node's contents or position.
--   * Checkpoints are inserted only by writ_checkpointer, and a trigger refuses, for every role
--     (the owner too), a checkpoint whose size exceeds the chain or whose root or note disagrees
--     with the tree computed from the records. Only a superuser (who can disable the trigger) can
--     store a wrong root, and `writ verify` still catches that against the anchors.

DO $$
DECLARE
  name text;
BEGIN
  -- Roles are cluster-wide: created only when missing, as 0001 does.
  FOREACH name IN ARRAY ARRAY['writ_checkpointer', 'writ_access_recorder'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I NOLOGIN', name);
      EXCEPTION WHEN duplicate_object THEN NULL;
      END;
    END IF;
  END LOOP;
END
$$;

-- Brings the stored tree of `chain` up to at most `max_records` more records and returns its size
-- and root. Only the O(log n) frontier is read back. SECURITY DEFINER so that writ_checkpointer can
-- extend the tree without being able to insert a node of its own choosing.
CREATE FUNCTION writ.merkle_extend(chain text, max_records integer DEFAULT 5000)
RETURNS TABLE (size bigint, root bytea, added integer)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n bigint;
  frontier bytea[] := '{}';
  lvl integer;
  start bigint := 0;
  h bytea;
  carry bigint;
  idx bigint;
  rec record;
  levels smallint[] := '{}';
  indexes bigint[] := '{}';
  hashes bytea[] := '{}';
  leaves integer := 0;
BEGIN
  IF chain IS NULL OR chain = '' THEN
    RAISE EXCEPTION 'writ.merkle_extend(): no chain given' USING ERRCODE = '22023';
  END IF;
  IF max_records IS NULL OR max_records < 1 THEN
    RAISE EXCEPTION 'writ.merkle_extend(): max_records must be at least 1, not %', max_records USING ERRCODE = '22023';
  END IF;
  -- One extender per chain: the nodes it adds follow from the frontier it reads. The reads below
  -- take their snapshots after the lock (READ COMMITTED), so they see the previous holder's nodes.
  PERFORM pg_advisory_xact_lock(hashtextextended('writ.merkle_nodes:' || chain, 0));
  SELECT coalesce(max(m.idx) + 1, 0) INTO n FROM writ.merkle_nodes m WHERE m.chain_id = chain AND m.level = 0;
  -- The frontier: one complete subtree per set bit of n, largest (leftmost) first.
  FOR lvl IN REVERSE 62..0 LOOP
    IF (n >> lvl) & 1 = 1 THEN
      SELECT m.hash INTO h FROM writ.merkle_nodes m WHERE m.chain_id = chain AND m.level = lvl AND m.idx = start >> lvl;
      IF NOT FOUND THEN
        RAISE EXCEPTION 'the stored Merkle tree of chain % lacks node %/%', chain, lvl, start >> lvl USING ERRCODE = 'WRT20';
      END IF;
      frontier := frontier || h;
      start := start + (1::bigint << lvl);
    END IF;
  END LOOP;

  FOR rec IN SELECT r.seq, r.canonical FROM writ.records r WHERE r.chain_id = chain AND r.seq > n ORDER BY r.seq LIMIT max_records LOOP
    -- Leaf i is record seq i+1: a gap would silently shift every leaf after it.
    IF rec.seq <> n + 1 THEN
      RAISE EXCEPTION 'chain % has no record %: run writ verify', chain, n + 1 USING ERRCODE = 'WRT20';
    END IF;
    h := sha256('\x00'::bytea || rec.canonical);
    idx := n;
    levels := levels || 0::smallint; indexes := indexes || idx; hashes := hashes || h;
    -- Appending is binary increment: each trailing 1 bit of n is a subtree to merge with.
    carry := n;
    lvl := 0;
    WHILE carry & 1 = 1 LOOP
      h := sha256('\x01'::bytea || frontier[cardinality(frontier)] || h);
      frontier := frontier[1:cardinality(frontier) - 1];
      lvl := lvl + 1;
      idx := idx >> 1;
      levels := levels || lvl::smallint; indexes := indexes || idx; hashes := hashes || h;
      carry := carry >> 1;
    END LOOP;
    frontier := frontier || h;
    n := n + 1;
    leaves := leaves + 1;
  END LOOP;

  -- No ON CONFLICT: under the lock a node can already exist only if someone put it there by hand,
  -- and that must fail loudly rather than be silently kept.
  INSERT INTO writ.merkle_nodes (chain_id, level, idx, hash)
  SELECT chain, x.level, x.idx, x.hash FROM unnest(levels, indexes, hashes) AS x (level, idx, hash);

  size := n;
  added := leaves;
  root := writ.merkle_fold(frontier);
  RETURN NEXT;
END
$$;

-- MTH from the hashes of the complete subtrees tiling [0, n), largest first: folded from the right.
CREATE FUNCTION writ.merkle_fold(frontier bytea[]) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  h bytea;
  i integer;
BEGIN
  IF frontier IS NULL OR cardinality(frontier) = 0 THEN
    RETURN sha256(''::bytea);
  END IF;
  h := frontier[cardinality(frontier)];
  FOR i IN REVERSE cardinality(frontier) - 1..1 LOOP
    h := sha256('\x01'::bytea || frontier[i] || h);
  END LOOP;
  RETURN h;
END
$$;

-- The root of the first `tree_size` leaves of the stored tree (every node it needs is final once
-- the tree has passed tree_size); NULL when the tree is smaller.
CREATE FUNCTION writ.merkle_root_at(chain text, tree_size bigint) RETURNS bytea
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  frontier bytea[] := '{}';
  lvl integer;
  start bigint := 0;
  h bytea;
BEGIN
  FOR lvl IN REVERSE 62..0 LOOP
    IF (tree_size >> lvl) & 1 = 1 THEN
      SELECT m.hash INTO h FROM writ.merkle_nodes m WHERE m.chain_id = chain AND m.level = lvl AND m.idx = start >> lvl;
      IF NOT FOUND THEN
        RETURN NULL;
      END IF;
      frontier := frontier || h;
      start := start + (1::bigint << lvl);
    END IF;
  END LOOP;
  RETURN writ.merkle_fold(frontier);
END
$$;

-- Refuses, for every role, a checkpoint the records do not bear out: beyond the chain's end, with a
-- root other than the tree's, or whose signed note names another size or root than its row.
CREATE FUNCTION writ.checkpoints_check() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  records bigint;
  computed bytea;
  extended record;
BEGIN
  SELECT coalesce(max(r.seq), 0) INTO records FROM writ.records r WHERE r.chain_id = NEW.chain_id;
  IF NEW.size > records THEN
    RAISE EXCEPTION 'writ.checkpoints: chain % has % records, so no checkpoint at size % can be stored', NEW.chain_id, records, NEW.size
      USING ERRCODE = 'WRT21';
  END IF;
  computed := writ.merkle_root_at(NEW.chain_id, NEW.size);
  WHILE computed IS NULL LOOP
    SELECT * INTO extended FROM writ.merkle_extend(NEW.chain_id, 5000);
    IF extended.added = 0 THEN
      RAISE EXCEPTION 'writ.checkpoints: the tree of chain % cannot reach size %', NEW.chain_id, NEW.size USING ERRCODE = 'WRT21';
    END IF;
    computed := writ.merkle_root_at(NEW.chain_id, NEW.size);
  END LOOP;
  IF computed <> NEW.root THEN
    RAISE EXCEPTION 'writ.checkpoints: % is not the root of records 1..% of chain % (the records hash to %)',
      encode(NEW.root, 'base64'), NEW.size, NEW.chain_id, encode(computed, 'base64') USING ERRCODE = 'WRT22';
  END IF;
  -- The note's body is "<origin>\n<size>\n<base64 root>\n" (docs/FORMAT.md, "Checkpoints").
  IF split_part(NEW.note, E'\n', 2) <> NEW.size::text OR split_part(NEW.note, E'\n', 3) <> encode(NEW.root, 'base64') THEN
    RAISE EXCEPTION 'writ.checkpoints: the note does not state size % and root %', NEW.size, encode(NEW.root, 'base64')
      USING ERRCODE = 'WRT23';
  END IF;
  NEW.created_at := clock_timestamp();
  RETURN NEW;
END
$$;

CREATE TRIGGER checkpoints_check BEFORE INSERT ON writ.checkpoints
  FOR EACH ROW EXECUTE FUNCTION writ.checkpoints_check();

REVOKE ALL ON FUNCTION writ.merkle_extend(text, integer), writ.merkle_fold(bytea[]), writ.merkle_root_at(text, bigint),
  writ.checkpoints_check() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION writ.merkle_extend(text, integer) TO writ_checkpointer;

REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON writ.merkle_nodes, writ.checkpoints FROM writ_writer;
GRANT USAGE ON SCHEMA writ TO writ_checkpointer, writ_access_recorder;
GRANT SELECT ON writ.records, writ.merkle_nodes TO writ_checkpointer;
GRANT SELECT, INSERT ON writ.checkpoints TO writ_checkpointer;
-- writ serve records each use of a signed link; the policy below limits it to those records.
GRANT SELECT, INSERT ON writ.records TO writ_access_recorder;

-- Row-level security on every ledger table, forced on the owner too, so that no role but a
-- superuser (or one with BYPASSRLS) acts outside the policies. The owner keeps exactly what the
-- migrations and the SECURITY DEFINER functions (the projection's fold, the tree's extension, the
-- checkpoint check) need; no policy anywhere allows UPDATE or DELETE of records, nodes or checkpoints.
ALTER POLICY records_read ON writ.records TO writ_writer, writ_reader, writ_checkpointer, writ_access_recorder;
-- Only the records `writ serve` exists to write, and none filed under an operation or correlation.
CREATE POLICY records_access ON writ.records FOR INSERT TO writ_access_recorder
  WITH CHECK (record ->> 'type' IN ('evidence.viewed', 'evidence.downloaded') AND record ->> 'operationId' IS NULL AND record ->> 'correlationId' IS NULL);

ALTER TABLE writ.merkle_nodes ENABLE ROW LEVEL SECURITY;
CREATE POLICY merkle_nodes_read ON writ.merkle_nodes FOR SELECT TO writ_writer, writ_reader, writ_checkpointer USING (true);
ALTER TABLE writ.checkpoints ENABLE ROW LEVEL SECURITY;
CREATE POLICY checkpoints_read ON writ.checkpoints FOR SELECT TO writ_writer, writ_reader, writ_checkpointer USING (true);
CREATE POLICY checkpoints_insert ON writ.checkpoints FOR INSERT TO writ_checkpointer WITH CHECK (true);
ALTER TABLE writ.operations ENABLE ROW LEVEL SECURITY;
CREATE POLICY operations_read ON writ.operations FOR SELECT TO writ_writer, writ_reader USING (true);

DO $$
DECLARE
  owner text;
BEGIN
  -- Policies name the tables' owner (whoever ran 0001), which FORCE below subjects to them.
  SELECT pg_get_userbyid(c.relowner) INTO owner FROM pg_class c WHERE c.oid = 'writ.records'::regclass;
  EXECUTE format('CREATE POLICY records_owner_read ON writ.records FOR SELECT TO %I USING (true)', owner);
  EXECUTE format('CREATE POLICY records_owner_append ON writ.records FOR INSERT TO %I WITH CHECK (true)', owner);
  SELECT pg_get_userbyid(c.relowner) INTO owner FROM pg_class c WHERE c.oid = 'writ.merkle_nodes'::regclass;
  EXECUTE format('CREATE POLICY merkle_nodes_owner_read ON writ.merkle_nodes FOR SELECT TO %I USING (true)', owner);
  EXECUTE format('CREATE POLICY merkle_nodes_owner_append ON writ.merkle_nodes FOR INSERT TO %I WITH CHECK (true)', owner);
  SELECT pg_get_userbyid(c.relowner) INTO owner FROM pg_class c WHERE c.oid = 'writ.checkpoints'::regclass;
  EXECUTE format('CREATE POLICY checkpoints_owner_read ON writ.checkpoints FOR SELECT TO %I USING (true)', owner);
  EXECUTE format('CREATE POLICY checkpoints_owner_append ON writ.checkpoints FOR INSERT TO %I WITH CHECK (true)', owner);
  -- The projection is derived and rewritten by its fold (INSERT ... ON CONFLICT DO UPDATE).
  SELECT pg_get_userbyid(c.relowner) INTO owner FROM pg_class c WHERE c.oid = 'writ.operations'::regclass;
  EXECUTE format('CREATE POLICY operations_owner ON writ.operations FOR ALL TO %I USING (true) WITH CHECK (true)', owner);
END
$$;

ALTER TABLE writ.records FORCE ROW LEVEL SECURITY;
ALTER TABLE writ.merkle_nodes FORCE ROW LEVEL SECURITY;
ALTER TABLE writ.checkpoints FORCE ROW LEVEL SECURITY;
ALTER TABLE writ.operations FORCE ROW LEVEL SECURITY;

-- The link trigger runs in the appender's session, under its search_path ("$user", public). Its one
-- call outside pg_catalog was pgcrypto's digest(), which a schema named after the appender's login
-- (one a role with CREATE on the database could make) would shadow. pg_catalog's sha256() is the
-- same function of the same bytes and cannot be shadowed: pg_catalog is always searched first.
CREATE OR REPLACE FUNCTION writ.records_link() RETURNS trigger
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
  NEW.hash := pg_catalog.sha256(NEW.prev_hash || NEW.canonical);
  NEW.recorded_at := clock_timestamp();
  RETURN NEW;
END
$$;
