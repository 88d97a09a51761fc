#!/bin/sh
# Runs once, as the image's superuser, when the data volume is empty (docker-entrypoint-initdb.d).
# Temporal gets a role of its own that owns its two databases and nothing else: it cannot read,
# let alone rewrite, the ledger in the `writ` database, which a shared superuser could.
# TEMPORAL_DB_USER exists so test/deploy can run this script against a scratch role; Temporal's
# own configuration expects the default names (temporal, temporal_visibility).
set -eu
: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD must be set}"
temporal_role="${TEMPORAL_DB_USER:-temporal}"

# psql's :'var' quoting keeps the password out of the SQL text and safe from quotes in it.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v role="$temporal_role" -v password="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
SELECT format('CREATE DATABASE %I OWNER %I', :'role' || '_visibility', :'role') \gexec
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', :'role' || '_visibility') \gexec
SQL
