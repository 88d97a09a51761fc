-- Up Migration
-- Two checks that the database can make and Node cannot: bytes that read two ways are refused
-- at insert, and `writ verify` can compare the what-happened projection with what the records
-- fold to, whatever role it runs as.

-- Hashed bytes with a key given twice (`"outcome":"failed","outcome":"succeeded"`) read one way
-- to jsonb and JSON.parse (the last wins) and another to parsers where the first wins, so the
-- jsonb copy, the projection and what-happened could say "succeeded" about bytes an auditor's
-- tool reads as "failed". Refused here, before the chain lock is taken: a duplicate leaves the
-- text with more object members than the jsonb parsed from it. (Every other departure from
-- RFC 8785, such as whitespace, key order or a number's spelling, reads one way and is named by
-- `writ verify`, which checks the full canonical form of every record.)
--
-- Counting members exactly means counting the ':' outside strings, which takes a regular
-- expression (about 18 us a record). The fast path counts '":' (a closing quote and a colon)
-- instead, and is exact when these hold, which strpos checks cheaply:
--  * no "\u" in the text: then every quote and colon inside a string is spelled as jsonb's
--    output spells it (escape_json writes \" \\ \b \f \n \r \t and raw characters otherwise;
--    "\/" and "/" hold neither), so the '":' that occur inside strings (an escaped quote and a
--    colon, or a string starting with a colon) occur equally often in both texts;
--  * no quote followed by whitespace: then every key's closing quote is directly followed by
--    its colon, as in jsonb's output.
-- Then the count of '":' in the text minus the count in jsonb's text is the number of members
-- the jsonb lost. Anything else (rare: a control character, "\u" or a quote and a space inside a
-- string) takes the exact path.
CREATE FUNCTION writ.records_refuse_duplicate_keys() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  written text := convert_from(NEW.canonical, 'UTF8');
  parsed text := written::jsonb::text;
  written_members bigint;
  parsed_members bigint;
BEGIN
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
  RETURN NEW;
END
$$;

-- The number of object members in a JSON text: the colons left once every string is removed.
-- Strings are matched from their opening quote, so the match ends at the first unescaped quote.
CREATE FUNCTION writ.json_members(json_text text) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT length(s) - length(replace(s, ':', ''))
    FROM (SELECT regexp_replace(json_text, '"(?:[^"\\]|\\.)*"', '', 'g') AS s) AS stripped
$$;

-- Named to fire before records_link (triggers fire in name order), so a refused row never waits
-- for, or holds, the chain's lock.
CREATE TRIGGER records_check_bytes
  BEFORE INSERT ON writ.records
  FOR EACH ROW EXECUTE FUNCTION writ.records_refuse_duplicate_keys();

REVOKE ALL ON FUNCTION writ.records_refuse_duplicate_keys(), writ.json_members(text) FROM PUBLIC;
-- The trigger runs as whoever inserts, so the writer needs the exact path's helper.
GRANT EXECUTE ON FUNCTION writ.json_members(text) TO writ_writer;

-- The what-happened projection is what people read (writ what-happened, Slack, the timeline
-- page), and whoever can write writ.operations can make it say something the records do not.
-- This recomputes the rows of the operations with ids in (after_id, through_id] (through_id
-- NULL: no upper bound) from the records with the very fold the trigger uses, and returns every
-- field that differs, without changing anything: the rows are deleted and refolded inside a
-- subtransaction that is then rolled back, and only what was read survives (PL/pgSQL variables
-- keep their values across the rollback). SECURITY DEFINER so that `writ verify` can run it as
-- writ_reader; it writes nothing that outlives the call. While it runs, appends to operations in
-- the range wait for it (their rows are locked), so callers pass small ranges.
-- A row that exists on one side only is returned once with field '*' and the whole row.
CREATE FUNCTION writ.operations_disagreements(after_id text, through_id text)
RETURNS TABLE (operation_id text, field text, stored jsonb, recomputed jsonb)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  kept jsonb;
  refolded jsonb;
BEGIN
  -- Under a snapshot level the records read below could predate a row locked here.
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'writ.operations_disagreements() must run at READ COMMITTED, not %', current_setting('transaction_isolation')
      USING ERRCODE = 'WRT01';
  END IF;
  BEGIN
    -- Rows are locked in id order, the order every fold locks them in, so this never deadlocks
    -- with an append; an append in flight is waited for, and its records are then visible below.
    PERFORM 1 FROM writ.operations o
      WHERE o.operation_id > after_id AND (through_id IS NULL OR o.operation_id <= through_id)
      ORDER BY o.operation_id FOR UPDATE;
    WITH gone AS (
      DELETE FROM writ.operations o
       WHERE o.operation_id > after_id AND (through_id IS NULL OR o.operation_id <= through_id)
      RETURNING o.*)
    SELECT coalesce(jsonb_object_agg(g.operation_id, to_jsonb(g) - 'operation_id'), '{}') INTO kept FROM gone g;
    PERFORM writ.operations_fold(ARRAY(
      SELECT ROW(r.operation_id, r.chain_id, r.seq, r.recorded_at, r.record)::writ.fold_input
        FROM writ.records r
       WHERE r.operation_id > after_id AND (through_id IS NULL OR r.operation_id <= through_id)
       ORDER BY r.operation_id, r.chain_id, r.seq));
    SELECT coalesce(jsonb_object_agg(o.operation_id, to_jsonb(o) - 'operation_id'), '{}') INTO refolded
      FROM writ.operations o
     WHERE o.operation_id > after_id AND (through_id IS NULL OR o.operation_id <= through_id);
    RAISE EXCEPTION 'undo the refold' USING ERRCODE = 'WRT98';
  EXCEPTION WHEN SQLSTATE 'WRT98' THEN
    NULL;
  END;
  RETURN QUERY
    SELECT ids.id, '*', kept -> ids.id, refolded -> ids.id
      FROM (SELECT jsonb_object_keys(kept) AS id UNION SELECT jsonb_object_keys(refolded)) AS ids
     WHERE NOT (kept ? ids.id AND refolded ? ids.id)
    UNION ALL
    SELECT ids.id, f.key, kept -> ids.id -> f.key, refolded -> ids.id -> f.key
      FROM (SELECT jsonb_object_keys(kept) AS id INTERSECT SELECT jsonb_object_keys(refolded)) AS ids
     CROSS JOIN LATERAL jsonb_each(refolded -> ids.id) AS f
     WHERE (kept -> ids.id -> f.key) IS DISTINCT FROM f.value
     ORDER BY 1, 2;
END
$$;

REVOKE ALL ON FUNCTION writ.operations_disagreements(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION writ.operations_disagreements(text, text) TO writ_reader, writ_writer;
