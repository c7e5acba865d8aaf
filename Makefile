# plan_tracker: one-command run and test on Debian/Ubuntu with Python 3.11.
#   make run    set up what is missing, then run web + Celery worker + beat (Ctrl-C stops)
#   make test   set up what is missing, then lint, mypy, checks, catalog check and pytest
#   make quick  pytest without the browser, PDF and slow tests
# The work is in scripts/ so that it reads as plain shell; see README.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
# manage.py commands run outside `make run` use the test settings (they carry a SECRET_KEY).
DEV_ENV := DJANGO_SETTINGS_MODULE=plan_tracker.test_settings

.PHONY: help bootstrap bootstrap-test run test quick pytest lint typecheck format messages \
        check-translations compilemessages clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

bootstrap:  ## install missing apt packages, create .venv, sync requirements.lock if newer
	@scripts/bootstrap.sh run

bootstrap-test:  ## bootstrap plus the test-only packages (poppler-utils, docker-compose, chromium)
	@scripts/bootstrap.sh test

run: bootstrap  ## migrate, load the 2022 plan with demo accounts, run web/worker/beat on 127.0.0.1:8000
	@scripts/run.sh

test: bootstrap-test  ## ruff, mypy, the test-assertion check, manage.py check, makemigrations --check, catalog check, compilemessages, pytest (ARGS=... go to pytest)
	@scripts/test.sh $(ARGS)

quick:  ## pytest without the browser, PDF and slow tests (markers in pyproject.toml; ARGS=... go to pytest)
	@scripts/pytest.sh -m "not browser and not pdf and not slow" $(ARGS)

pytest:  ## only pytest (arguments: make pytest ARGS="-k extension -x")
	@scripts/pytest.sh $(ARGS)

lint:  ## ruff check and ruff format --check
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .

typecheck:  ## mypy on the services, selectors and permissions ([tool.mypy] in pyproject.toml)
	@$(DEV_ENV) $(VENV)/bin/mypy

format:  ## ruff format and ruff check --fix
	@$(VENV)/bin/ruff format .
	@$(VENV)/bin/ruff check --fix .

messages:  ## update locale/vi/LC_MESSAGES/django.po from the code (makemessages -l vi)
	@$(DEV_ENV) $(PY) scripts/check_translations.py --update

check-translations:  ## fail when the Vietnamese catalog has untranslated or fuzzy entries
	@$(DEV_ENV) $(PY) scripts/check_translations.py

compilemessages:  ## compile the .po catalogs into .mo files
	@$(DEV_ENV) $(MANAGE) compilemessages --ignore=.venv --ignore=var --ignore=node_modules

clean:  ## remove caches and collected static files (keeps the database, media and secret key)
	rm -rf var/static var/.collectstatic.done .ruff_cache
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +
