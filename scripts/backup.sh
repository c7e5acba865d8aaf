#!/usr/bin/env bash
# Back up plan_tracker: the PostgreSQL database (pg_dump, custom format) and the media folder
# (evidence files, basis documents, issued reports), plus the row count of every table and
# the list of media files, which scripts/restore_check.sh compares after a test restore.
#
#   DATABASE_URL=postgres://user:pass@host:5432/plan_tracker MEDIA_ROOT=/srv/plan_tracker/media \
#     scripts/backup.sh [DEST]            # DEST default: var/backups/<date-time>
#
# Needs pg_dump and psql of the server's major version or newer (apt install postgresql-client).
# Exit status non-zero on any failure; a partial backup folder is removed.
set -euo pipefail

: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL database to back up}"
case "$DATABASE_URL" in postgres://*|postgresql://*) ;; *)
  echo "backup: DATABASE_URL must be a PostgreSQL URL (the embedded SQLite mode is for trying the product)" >&2
  exit 2 ;;
esac
MEDIA_ROOT=${MEDIA_ROOT:-var/media}
DEST=${1:-var/backups/$(date +%Y%m%d-%H%M%S)}

if [ -e "$DEST" ] && [ -n "$(ls -A "$DEST" 2>/dev/null)" ]; then
  echo "backup: $DEST exists and is not empty" >&2
  exit 2
fi
mkdir -p "$DEST"
done_ok=
trap '[ -n "$done_ok" ] || { echo "backup: failed, removing $DEST" >&2; rm -rf "$DEST"; }' EXIT

echo "backup: database → $DEST/db.dump"
pg_dump --format=custom --no-owner --no-privileges --file "$DEST/db.dump" "$DATABASE_URL"

echo "backup: row counts → $DEST/counts.txt"
"$(dirname "$0")/table_counts.sh" "$DATABASE_URL" > "$DEST/counts.txt"

echo "backup: media $MEDIA_ROOT → $DEST/media.tar.gz"
mkdir -p "$MEDIA_ROOT"
(cd "$MEDIA_ROOT" && find . -type f | LC_ALL=C sort) > "$DEST/media.list"
tar -czf "$DEST/media.tar.gz" -C "$MEDIA_ROOT" .

done_ok=1
echo "backup: done: $(wc -l < "$DEST/counts.txt") tables, $(wc -l < "$DEST/media.list") media files in $DEST"
