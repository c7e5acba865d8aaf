#!/usr/bin/env bash
# Run plan_tracker on the embedded defaults (SQLite, filesystem Celery transport and mail
# files under var/): prepare the database and static files, load the 2022 plan with demo
# accounts, make a demo signing certificate, then start web (gunicorn), a Celery worker and
# beat under honcho.
# Ctrl-C stops all three. Called by `make run` after scripts/bootstrap.sh.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

log() { printf '[run] %s\n' "$*"; }

# 1. A secret key generated once and kept in var/ (never committed: var/ is ignored).
mkdir -p var/celery/queue var/celery/control var/celery/processed var/mail var/media
if [ ! -s var/secret_key ]; then
  log "generating var/secret_key"
  (umask 077 && python -c 'import secrets; print(secrets.token_urlsafe(50))' > var/secret_key)
fi
SECRET_KEY=$(cat var/secret_key)
export SECRET_KEY

# 2. Local defaults; anything already set in the shell wins (e.g. DEBUG=true make run).
export DJANGO_SETTINGS_MODULE=plan_tracker.settings
export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost}"
export SECURE_COOKIES="${SECURE_COOKIES:-false}"   # plain http on localhost
# Plain http on localhost: no redirect to https, no HSTS (on by default when DEBUG is off).
export SECURE_SSL_REDIRECT="${SECURE_SSL_REDIRECT:-false}"
export SECURE_HSTS_SECONDS="${SECURE_HSTS_SECONDS:-0}"
export PYTHONUNBUFFERED=1
# Webhooks may go to loopback and private addresses, so that a receiver on this machine can be
# tried (README, "Webhooks"); production leaves it off.
export WEBHOOK_ALLOW_PRIVATE="${WEBHOOK_ALLOW_PRIVATE:-true}"
# 0.0.0.0:8000 or another port: WEB_BIND=... make run
export WEB_BIND="${WEB_BIND:-127.0.0.1:8000}"

# 3. Database, translations, static files and the plan. Each step skips what is done:
#    compilemessages only rebuilds stale .mo files, migrate applies only new migrations and
#    load_plan is idempotent.
log "compiling translations"
python manage.py compilemessages --ignore=.venv --ignore=var --ignore=node_modules -v 0
log "applying migrations"
python manage.py migrate --noinput -v 1

# collectstatic compresses every file (a minute or more the first time): rerun only when a
# static source changed or the Python or npm packages were installed since the last run.
static_stamp=var/.collectstatic.done
if [ ! -f "$static_stamp" ] || [ .venv/.requirements.lock.synced -nt "$static_stamp" ] ||
   [ node_modules/.package-lock.json -nt "$static_stamp" ] ||
   [ -n "$(find static ./*/static -path ./var/static -prune -o -newer "$static_stamp" -print -quit 2>/dev/null)" ]; then
  log "collecting static files"
  # Stamp the start, not the end: a file changed while collecting is collected next time.
  touch "$static_stamp.new"
  python manage.py collectstatic --noinput -v 0
  mv "$static_stamp.new" "$static_stamp"
else
  log "static files up to date"
fi

log "loading data/plan_2022.yaml with demo accounts"
python manage.py load_plan data/plan_2022.yaml --demo

# A demo certificate for the digital signature of issued reports, made on the first run
# under var/signing/ (owner-only files), unless REPORT_SIGNING_PKCS12 is set in the shell
# (set it empty to issue reports unsigned). web and worker read the two variables.
if [ -z "${REPORT_SIGNING_PKCS12+set}" ]; then
  demo_p12=var/signing/demo-signing.p12
  if [ ! -s "$demo_p12" ] || [ ! -s "${demo_p12%.p12}.passphrase" ]; then
    log "making a demo signing certificate (a test certificate, not a legal signature)"
    python manage.py make_demo_certificate "$demo_p12" --force
  fi
  export REPORT_SIGNING_PKCS12="$PWD/$demo_p12"
  REPORT_SIGNING_PASSPHRASE=$(cat "${demo_p12%.p12}.passphrase")
  export REPORT_SIGNING_PASSPHRASE
  log "reports are signed with the demo certificate $demo_p12"
fi

# The demo archive: the current-year demo plan's past months issued and signed (with the
# certificate above), last month's draft waiting. Months already there are kept.
log "filling the demo archive of monthly reports"
python manage.py demo_reports

# 4. web, worker and beat. `-e /dev/null`: the embedded mode does not read .env, which
#    belongs to docker-compose.
log "starting web on http://$WEB_BIND (admin at /admin/, user admin / demo-2022), worker and beat; Ctrl-C stops all"
exec honcho start -e /dev/null -f Procfile
