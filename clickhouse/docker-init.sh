#!/bin/bash
# Docker init for the clickhouse/clickhouse-server image: applies clickhouse/migrations
# to $CLICKHOUSE_DB on first start. The aggregator applies the same files at its start
# (idempotent: IF NOT EXISTS, and a column added before counts as done), so this only
# has the tables ready earlier.
set -euo pipefail
db="${CLICKHOUSE_DB:-market}"
client=(clickhouse client --user "${CLICKHOUSE_USER:-default}" --password "${CLICKHOUSE_PASSWORD:-}")
"${client[@]}" --query "CREATE DATABASE IF NOT EXISTS ${db}"
for f in /migrations/*.sql; do
  echo "applying $(basename "$f") to ${db}"
  "${client[@]}" --database "$db" --multiquery < "$f"
done
