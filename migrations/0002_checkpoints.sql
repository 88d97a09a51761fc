-- Up Migration
-- Merkle tree nodes over each chain's records (RFC 9162) and the signed checkpoints of its root.
-- Both are append-only like the records: nodes are derived and re-checked by `writ verify`
-- against the records themselves; checkpoints are the log's signed claims, also anchored outside.

CREATE TABLE writ.merkle_nodes (
  chain_id text     NOT NULL,
  level    smallint NOT NULL CHECK (level >= 0 AND level < 64),
  idx      bigint   NOT NULL CHECK (idx >= 0),
  hash     bytea    NOT NULL CHECK (octet_length(hash) = 32),
  PRIMARY KEY (chain_id, level, idx)
);

CREATE TABLE writ.checkpoints (
  chain_id   text        NOT NULL,
  size       bigint      NOT NULL CHECK (size >= 0),
  root       bytea       NOT NULL CHECK (octet_length(root) = 32),
  note       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (chain_id, size)
);

CREATE TRIGGER merkle_nodes_no_update BEFORE UPDATE OR DELETE ON writ.merkle_nodes
  FOR EACH ROW EXECUTE FUNCTION writ.records_refuse_change();
CREATE TRIGGER merkle_nodes_no_truncate BEFORE TRUNCATE ON writ.merkle_nodes
  FOR EACH STATEMENT EXECUTE FUNCTION writ.records_refuse_change();
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE OR DELETE ON writ.checkpoints
  FOR EACH ROW EXECUTE FUNCTION writ.records_refuse_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON writ.checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION writ.records_refuse_change();

REVOKE ALL ON writ.merkle_nodes, writ.checkpoints FROM PUBLIC;
GRANT SELECT, INSERT ON writ.merkle_nodes, writ.checkpoints TO writ_writer;
GRANT SELECT ON writ.merkle_nodes, writ.checkpoints TO writ_reader;
