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
