#!/bin/sh
# Runs once, as the image's superuser, when the data volume is empty (docker-entrypoint-initdb.d).
# Writ's services get login roles of their own (writ-logins.psql, the same file `writ demo` and
# `writ dev` run), so that none of them connects as the superuser, which bypasses row-level
# security and can disable the ledger's append-only triggers. The postgres connector also gets a
# database of its own for the tables it writes, away from the ledger.
# WRIT_TARGETS_DB exists so test/deploy can run this script against a scratch database.
set -eu
: "${WRIT_WORKER_DB_PASSWORD:?WRIT_WORKER_DB_PASSWORD must be set}"
: "${WRIT_CHECKPOINT_DB_PASSWORD:?WRIT_CHECKPOINT_DB_PASSWORD must be set}"
: "${WRIT_SERVE_DB_PASSWORD:?WRIT_SERVE_DB_PASSWORD must be set}"
: "${WRIT_CONNECTOR_DB_PASSWORD:?WRIT_CONNECTOR_DB_PASSWORD must be set}"
targets_db="${WRIT_TARGETS_DB:-writ_targets}"
here="$(dirname "$0")"

# psql's :'var' quoting keeps the passwords out of the SQL text and safe from quotes in them.
{
  cat <<'SQL'
SELECT set_config('writ.worker_password', :'worker', false);
SELECT set_config('writ.checkpoint_password', :'checkpoint', false);
SELECT set_config('writ.serve_password', :'serve', false);
SELECT set_config('writ.connector_password', :'connector', false);
SQL
  cat "$here/writ-logins.psql"
  cat <<'SQL'
SELECT format('CREATE DATABASE %I OWNER writ_connector', :'targets') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'targets') \gexec
SQL
} | psql -v ON_ERROR_STOP=1 -q --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v worker="$WRIT_WORKER_DB_PASSWORD" -v checkpoint="$WRIT_CHECKPOINT_DB_PASSWORD" \
  -v serve="$WRIT_SERVE_DB_PASSWORD" -v connector="$WRIT_CONNECTOR_DB_PASSWORD" -v targets="$targets_db"
