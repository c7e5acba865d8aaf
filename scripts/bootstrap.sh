#!/usr/bin/env bash
# Prepare this machine for plan_tracker, skipping whatever is already done:
#   1. Debian/Ubuntu packages (apt-get, through sudo when not root) that are missing;
#   2. the virtual environment .venv with uv, synced from requirements.lock when the lock
#      file is newer than the stamp of the last sync;
#   3. the front-end packages of package-lock.json (npm ci) when the lock file changed;
#   4. the folders under var/ that the embedded run mode writes to.
#
# Usage: scripts/bootstrap.sh [run|test]
#   run   packages needed to run the product (WeasyPrint, Vietnamese fonts, gettext)
#   test  the same plus test-only tools: poppler-utils (PDF tests), Debian's docker-compose
#         (validates docker-compose.yml) and chromium (browser tests through Playwright,
#         which cannot download its own browsers here)
# APT_EXTRA="pkg ..." adds packages (.ci/run adds postgresql and redis-server).
set -euo pipefail

cd "$(dirname "$0")/.."

MODE=${1:-run}
UV_VERSION=0.13.9
VENV=.venv
STAMP=$VENV/.requirements.lock.synced

RUN_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation2
              fonts-dejavu-core gettext)
TEST_PACKAGES=(poppler-utils docker-compose chromium)

log() { printf '[bootstrap] %s\n' "$*"; }
die() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 1; }

case "$MODE" in
  run) packages=("${RUN_PACKAGES[@]}") ;;
  test) packages=("${RUN_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
  *) die "unknown mode '$MODE' (use run or test)" ;;
esac
# shellcheck disable=SC2206  # word splitting of APT_EXTRA is intended
packages+=(${APT_EXTRA:-})

# --- Python 3.11 --------------------------------------------------------------------------
find_python() {
  local candidate
  for candidate in ${PYTHON:-} python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

if [ ! -x "$VENV/bin/python" ]; then
  PY=$(find_python) || die "Python 3.11 not found (set PYTHON=/path/to/python3.11)"
  # Debian's own Python needs python3-venv (python3.11-venv on Ubuntu) for `-m venv`.
  if ! "$PY" -c 'import ensurepip' 2>/dev/null; then
    if apt-cache show python3.11-venv >/dev/null 2>&1; then
      packages+=(python3.11-venv)
    else
      packages+=(python3-venv)
    fi
  fi
fi

# Front-end packages (Bootstrap, htmx) come from npm (package-lock.json): Debian's npm when
# no Node.js toolchain is installed.
if [ -f package-lock.json ] && ! command -v npm >/dev/null 2>&1; then
  packages+=(npm)
fi

# --- 1. System packages -------------------------------------------------------------------
missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 ||
    die "missing system packages (${missing[*]}) and no apt-get: install them by hand"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "missing packages (${missing[*]}): run as root or install sudo"
    SUDO=(sudo)
  fi
  # Lock::Timeout: wait for another apt-get (e.g. unattended upgrades) instead of failing.
  apt_get() {
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 "$@"
  }
  log "installing system packages: ${missing[*]}"
  # Update the package lists once: when there are none yet, or when an install fails
  # because the lists are stale.
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    apt_get update -q
  fi
  # --no-install-recommends: docker-compose would otherwise pull the whole Docker engine.
  if ! apt_get install -y -q --no-install-recommends "${missing[@]}"; then
    log "apt-get install failed; updating the package lists and trying again"
    apt_get update -q
    apt_get install -y -q --no-install-recommends "${missing[@]}"
  fi
else
  log "system packages present"
fi

# --- 2. Virtual environment and locked dependencies -----------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV with $PY"
  "$PY" -m venv "$VENV"
fi

if [ ! -f "$STAMP" ] || [ requirements.lock -nt "$STAMP" ]; then
  if [ "$("$VENV/bin/uv" --version 2>/dev/null | awk '{print $2}')" != "$UV_VERSION" ]; then
    log "installing uv $UV_VERSION"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  fi
  log "syncing $VENV with requirements.lock"
  # Bytecode compiled once here makes every manage.py, worker and pytest start faster.
  "$VENV/bin/uv" pip sync --python "$VENV/bin/python" --compile-bytecode requirements.lock
  touch "$STAMP"
else
  log "$VENV is in sync with requirements.lock"
fi

# --- 3. Front-end packages -------------------------------------------------------------------
# settings.py serves node_modules/{bootstrap,htmx.org}/dist as static files; without them the
# pages miss their CSS and JS (and collectstatic's manifest lacks them). npm writes
# node_modules/.package-lock.json, which stamps the install.
if [ -f package-lock.json ]; then
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing front-end packages (npm ci)"
    npm ci --omit=dev --no-audit --no-fund --loglevel=error
  else
    log "front-end packages in sync with package-lock.json"
  fi
fi

# --- 4. Folders of the embedded run mode ----------------------------------------------------
# kombu's filesystem transport does not create its folders; the worker fails without them.
mkdir -p var/celery/queue var/celery/control var/celery/processed var/mail var/media var/static
