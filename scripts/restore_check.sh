#!/usr/bin/env bash
# Prove a backup restores: restore BACKUP (a folder made by scripts/backup.sh) into a fresh,
# throwaway database on the same server as DATABASE_URL and into a temporary media folder,
# then compare every table's row count and the list of media files with those recorded at
# backup time. The throwaway database and folder are removed at the end, whatever happens.
#
#   DATABASE_URL=postgres://user:pass@host:5432/plan_tracker scripts/restore_check.sh BACKUP
#
# The user of DATABASE_URL must be allowed to create databases. Exit status 0 only when the
# restored counts and files are exactly those of the backup.
set -euo pipefail

backup=${1:?usage: restore_check.sh BACKUP_FOLDER}
: "${DATABASE_URL:?set DATABASE_URL (any database of the server to restore on)}"
for file in db.dump counts.txt media.tar.gz media.list; do
  [ -f "$backup/$file" ] || { echo "restore_check: $backup/$file is missing" >&2; exit 2; }
done

scratch_db="plan_tracker_restorecheck_$$"
# The same server and credentials, another database name.
base=${DATABASE_URL%%\?*}
scratch_url="${base%/*}/$scratch_db"
admin_url="${base%/*}/postgres"
scratch_media=$(mktemp -d)
cleanup() {
  psql -X -q "$admin_url" -c "DROP DATABASE IF EXISTS \"$scratch_db\"" >/dev/null 2>&1 || true
  rm -rf "$scratch_media"
}
trap cleanup EXIT

echo "restore_check: restoring into the throwaway database $scratch_db"
psql -X -q -v ON_ERROR_STOP=1 "$admin_url" -c "CREATE DATABASE \"$scratch_db\""
pg_restore --no-owner --no-privileges --exit-on-error --dbname "$scratch_url" "$backup/db.dump"
tar -xzf "$backup/media.tar.gz" -C "$scratch_media"

status=0
if diff <(cat "$backup/counts.txt") <("$(dirname "$0")/table_counts.sh" "$scratch_url") >/dev/null; then
  echo "restore_check: $(wc -l < "$backup/counts.txt") tables, every row count as at backup time"
else
  echo "restore_check: row counts differ from the backup's:" >&2
  diff <(cat "$backup/counts.txt") <("$(dirname "$0")/table_counts.sh" "$scratch_url") >&2 || true
  status=1
fi
if diff "$backup/media.list" <(cd "$scratch_media" && find . -type f | LC_ALL=C sort) >/dev/null; then
  echo "restore_check: $(wc -l < "$backup/media.list") media files, as at backup time"
else
  echo "restore_check: media files differ from the backup's" >&2
  status=1
fi
[ "$status" = 0 ] && echo "restore_check: the backup restores"
exit "$status"
