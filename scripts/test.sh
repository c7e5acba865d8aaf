#!/usr/bin/env bash
# The checks of `make test`, in order: ruff check, ruff format --check, mypy (the files
# of [tool.mypy] in pyproject.toml), the test-assertion check, manage.py check,
# makemigrations --check, the Vietnamese catalog check, compilemessages, pytest.
# Every stage runs even when an earlier one failed, so one run shows every problem; the
# summary lists the failed stages and the exit status is non-zero if any failed.
# FAIL_FAST=1 stops at the first failure. Arguments are passed to pytest
# (e.g. scripts/test.sh -k extension -x).
#
# DATABASE_URL and CELERY_BROKER_URL pass through from the environment: SQLite and the
# filesystem transport by default, PostgreSQL and Redis in CI (.ci/run).
set -uo pipefail

cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
# manage.py commands use the test settings: they provide a SECRET_KEY and fast hashing.
export DJANGO_SETTINGS_MODULE=plan_tracker.test_settings

failed=()
total_start=$SECONDS

header() { printf '\n=== %s ===\n' "$*"; }

stage() {
  local name=$1 start=$SECONDS status
  shift
  header "$name"
  "$@"
  status=$?
  if [ "$status" -eq 0 ]; then
    printf -- '--- %s: ok (%ss)\n' "$name" $((SECONDS - start))
  else
    printf -- '--- %s: FAILED (exit %s, %ss)\n' "$name" "$status" $((SECONDS - start))
    failed+=("$name")
    if [ "${FAIL_FAST:-0}" = 1 ]; then summary; fi
  fi
}

summary() {
  header "Summary ($((SECONDS - total_start))s)"
  if [ ${#failed[@]} -eq 0 ]; then
    echo "all stages passed"
    exit 0
  fi
  printf 'failed: %s\n' "${failed[@]}"
  exit 1
}

echo "database: ${DATABASE_URL:-SQLite (default)}; broker: ${CELERY_BROKER_URL:-filesystem (default)}"

stage "ruff check" ruff check .
stage "ruff format --check" ruff format --check .
stage "mypy" mypy
stage "every test asserts" python scripts/check_test_assertions.py
stage "manage.py check" python manage.py check
stage "makemigrations --check" python manage.py makemigrations --check --dry-run
stage "Vietnamese catalog" python scripts/check_translations.py
stage "compilemessages" python manage.py compilemessages --ignore=.venv --ignore=var --ignore=node_modules -v 1
stage "pytest" scripts/pytest.sh --durations=10 "$@"
summary
