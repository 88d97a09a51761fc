#!/bin/sh
# Compose's temporal-schema job (temporalio/admin-tools), and the native topology's
# (test/topology): brings Temporal's two databases, owned by the temporal role that
# deploy/postgres/initdb/10-temporal.sh made, to the schema version of the server release.
# setup-schema -v 0.0 is a no-op on an existing schema and update-schema applies only newer
# versions, so reruns and upgrades are both safe.
# SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD: where and as whom; TEMPORAL_SCHEMA_DIR: the release's
# schema/postgresql/v12 (in admin-tools, /etc/temporal/schema/postgresql/v12).
set -eu
: "${SQL_HOST:?SQL_HOST must be set}"
: "${SQL_PASSWORD:?SQL_PASSWORD must be set}"
port="${SQL_PORT:-5432}"
user="${SQL_USER:-temporal}"
schema="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"
for db in temporal temporal_visibility; do
  case $db in temporal) dir=temporal ;; *) dir=visibility ;; esac
  temporal-sql-tool --plugin postgres12 --ep "$SQL_HOST" -p "$port" -u "$user" --db "$db" setup-schema -v 0.0
  temporal-sql-tool --plugin postgres12 --ep "$SQL_HOST" -p "$port" -u "$user" --db "$db" update-schema -d "$schema/$dir/versioned"
done
