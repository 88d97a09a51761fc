-- Up Migration
-- Trusted time (issue 13): an RFC 3161 time-stamp token per checkpoint, kept next to it.
--
-- A token proves itself: the TSA's signature covers the checkpoint's SHA-256 and the time, so a
-- row here needs no protection against forgery (`writ verify` refuses a token for other bytes or
-- from an authority other than the pinned one). What the table guards is its history: only the
-- checkpointer inserts, nobody updates or deletes, and a token names a checkpoint that exists.
-- Tokens live beside the chain, not in it, so stamping a checkpoint does not grow the chain it
-- stamps (which would call for another checkpoint, and another stamp, for ever).

CREATE TABLE writ.checkpoint_timestamps (
  chain_id text NOT NULL,
  size bigint NOT NULL,
  checkpoint_sha256 bytea NOT NULL CHECK (octet_length(checkpoint_sha256) = 32),
  gen_time timestamptz NOT NULL,
  token bytea NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (chain_id, size),
  FOREIGN KEY (chain_id, size) REFERENCES writ.checkpoints (chain_id, size)
);

REVOKE ALL ON writ.checkpoint_timestamps FROM PUBLIC;
GRANT SELECT, INSERT ON writ.checkpoint_timestamps TO writ_checkpointer;
GRANT SELECT ON writ.checkpoint_timestamps TO writ_writer, writ_reader;

ALTER TABLE writ.checkpoint_timestamps ENABLE ROW LEVEL SECURITY;
CREATE POLICY checkpoint_timestamps_read ON writ.checkpoint_timestamps FOR SELECT
  TO writ_writer, writ_reader, writ_checkpointer USING (true);
CREATE POLICY checkpoint_timestamps_insert ON writ.checkpoint_timestamps FOR INSERT TO writ_checkpointer WITH CHECK (true);

DO $$
DECLARE
  owner text;
BEGIN
  SELECT pg_get_userbyid(c.relowner) INTO owner FROM pg_class c WHERE c.oid = 'writ.checkpoint_timestamps'::regclass;
  EXECUTE format('CREATE POLICY checkpoint_timestamps_owner_read ON writ.checkpoint_timestamps FOR SELECT TO %I USING (true)', owner);
  EXECUTE format('CREATE POLICY checkpoint_timestamps_owner_append ON writ.checkpoint_timestamps FOR INSERT TO %I WITH CHECK (true)', owner);
END
$$;
ALTER TABLE writ.checkpoint_timestamps FORCE ROW LEVEL SECURITY;
