#!/usr/bin/env bash
# Print "table|rows" for every table of the public schema of the PostgreSQL database at $1,
# sorted by name: what scripts/backup.sh records and scripts/restore_check.sh compares.
set -euo pipefail
url=${1:?usage: table_counts.sh DATABASE_URL}
psql -X -At -v ON_ERROR_STOP=1 "$url" -c "
  SELECT table_name FROM information_schema.tables
  WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name" |
while read -r table; do
  printf '%s|%s\n' "$table" "$(psql -X -At -v ON_ERROR_STOP=1 "$url" -c "SELECT count(*) FROM public.\"$table\"")"
done
