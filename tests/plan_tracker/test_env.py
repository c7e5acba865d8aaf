"""Settings from the environment: the typed helpers and what settings.py makes of them.

Settings are read once per process, so every test about settings.py starts a fresh Python
with a controlled environment instead of reloading the module in this one.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from plan_tracker.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parents[2]

# --- plan_tracker/env.py ----------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "True", "yes", "on", " ON "])
def test_env_bool_reads_true_spellings(monkeypatch, raw):
    monkeypatch.setenv("PT_FLAG", raw)
    assert env_bool("PT_FLAG", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "FALSE", "no", "off", ""])
def test_env_bool_reads_false_spellings(monkeypatch, raw):
    monkeypatch.setenv("PT_FLAG", raw)
    assert env_bool("PT_FLAG", True) is False


@pytest.mark.parametrize("default", [True, False])
def test_env_bool_returns_the_default_when_unset(monkeypatch, default):
    monkeypatch.delenv("PT_FLAG", raising=False)
    assert env_bool("PT_FLAG", default) is default


@pytest.mark.parametrize("raw", ["maybe", "2", "tru", "y e s"])
def test_malformed_bool_raises_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("PT_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="PT_FLAG"):
        env_bool("PT_FLAG", False)


def test_env_int_reads_an_integer(monkeypatch):
    monkeypatch.setenv("PT_NUMBER", "31536000")
    assert env_int("PT_NUMBER", 0) == 31536000


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_env_int_returns_the_default_when_unset_or_blank(monkeypatch, raw):
    if raw is None:
        monkeypatch.delenv("PT_NUMBER", raising=False)
    else:
        monkeypatch.setenv("PT_NUMBER", raw)
    assert env_int("PT_NUMBER", 587) == 587


@pytest.mark.parametrize("raw", ["ten", "1.5", "20MB", "0x10"])
def test_malformed_int_raises_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("PT_NUMBER", raw)
    with pytest.raises(ImproperlyConfigured, match="PT_NUMBER"):
        env_int("PT_NUMBER", 0)


def test_env_str_returns_the_value_or_the_default(monkeypatch):
    monkeypatch.delenv("PT_TEXT", raising=False)
    assert env_str("PT_TEXT", "fallback") == "fallback"
    assert env_str("PT_TEXT", None) is None
    monkeypatch.setenv("PT_TEXT", "value")
    assert env_str("PT_TEXT", "fallback") == "value"


def test_env_str_without_default_requires_the_variable(monkeypatch):
    monkeypatch.delenv("PT_TEXT", raising=False)
    with pytest.raises(ImproperlyConfigured, match="PT_TEXT"):
        env_str("PT_TEXT")


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("PT_HOSTS", " plan.example.gov.vn, ,127.0.0.1,, localhost ")
    assert env_list("PT_HOSTS") == ["plan.example.gov.vn", "127.0.0.1", "localhost"]


def test_env_list_returns_a_copy_of_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("PT_HOSTS", raising=False)
    default = ["localhost"]
    result = env_list("PT_HOSTS", default)
    assert result == ["localhost"]
    assert result is not default
    assert env_list("PT_HOSTS") == []


def test_env_list_of_an_empty_variable_is_empty(monkeypatch):
    monkeypatch.setenv("PT_HOSTS", "")
    assert env_list("PT_HOSTS", ["localhost"]) == []


# --- plan_tracker/settings.py in a fresh process ---------------------------------------------

# Prints the settings the tests look at, as JSON.
SHOW_SETTINGS = """
import json
from django.conf import settings as s
db = s.DATABASES["default"]
print(json.dumps({
    "DEBUG": s.DEBUG,
    "SECRET_KEY": s.SECRET_KEY,
    "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "ENGINE": db["ENGINE"],
    "NAME": str(db["NAME"]),
    "HOST": db.get("HOST", ""),
    "CONN_MAX_AGE": db.get("CONN_MAX_AGE"),
    "PREPARED_STATEMENTS": s.DATABASE_PREPARED_STATEMENTS,
    "CACHE_BACKEND": s.CACHES["default"]["BACKEND"],
    "CACHE_LOCATION": s.CACHES["default"].get("LOCATION", ""),
    "CELERY_BROKER_URL": s.CELERY_BROKER_URL,
    "TRANSPORT_OPTIONS": getattr(s, "CELERY_BROKER_TRANSPORT_OPTIONS", None),
    "CELERY_TASK_ALWAYS_EAGER": s.CELERY_TASK_ALWAYS_EAGER,
    "EMAIL_BACKEND": s.EMAIL_BACKEND,
    "EMAIL_FILE_PATH": str(getattr(s, "EMAIL_FILE_PATH", "")),
    "EMAIL_HOST": s.EMAIL_HOST,
    "EMAIL_PORT": getattr(s, "EMAIL_PORT", None),
    "EMAIL_USE_TLS": getattr(s, "EMAIL_USE_TLS", None),
    "MEDIA_ROOT": str(s.MEDIA_ROOT),
    "STATIC_ROOT": str(s.STATIC_ROOT),
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE,
    "SECURE_PROXY_SSL_HEADER": s.SECURE_PROXY_SSL_HEADER,
    "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT,
    "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": s.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "SECURE_HSTS_PRELOAD": s.SECURE_HSTS_PRELOAD,
    "CSP_MIDDLEWARE": "csp.middleware.CSPMiddleware" in s.MIDDLEWARE,
    "EVIDENCE_MAX_MB": s.EVIDENCE_MAX_MB,
    "LANGUAGE_CODE": s.LANGUAGE_CODE,
    "TIME_ZONE": s.TIME_ZONE,
}))
"""


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -c code` in the project folder with only `env` (and a PATH) set."""
    clean = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "plan_tracker.settings",
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def settings_with(**env: str) -> dict:
    result = run_python(SHOW_SETTINGS, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_settings_refuse_to_start_without_secret_key_when_debug_is_off():
    result = run_python("import django; django.setup()")
    assert result.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_settings_refuse_an_empty_secret_key():
    result = run_python("import django; django.setup()", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_settings_stop_on_a_malformed_boolean_naming_it():
    result = run_python("import django; django.setup()", SECRET_KEY="x" * 50, DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_settings_stop_on_a_malformed_integer_naming_it():
    result = run_python(
        "import django; django.setup()", SECRET_KEY="x" * 50, SECURE_HSTS_SECONDS="a year"
    )
    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS must be an integer" in result.stderr


def test_with_nothing_but_a_key_the_embedded_defaults_apply():
    s = settings_with(SECRET_KEY="k" * 50)
    var = BASE_DIR / "var"

    assert s["DEBUG"] is False
    assert s["ALLOWED_HOSTS"] == []
    # SQLite under var/
    assert s["ENGINE"] == "django.db.backends.sqlite3"
    assert s["NAME"] == str(var / "plan_tracker.sqlite3")
    # Celery on kombu's filesystem transport under var/celery/, no broker server
    assert s["CELERY_BROKER_URL"] == "filesystem://"
    options = s["TRANSPORT_OPTIONS"]
    assert options["data_folder_in"] == options["data_folder_out"] == str(var / "celery" / "queue")
    assert options["control_folder"] == str(var / "celery" / "control")
    assert options["processed_folder"] == str(var / "celery" / "processed")
    assert s["CELERY_TASK_ALWAYS_EAGER"] is False
    # mail written as files under var/mail/
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert s["EMAIL_FILE_PATH"] == str(var / "mail")
    assert s["MEDIA_ROOT"] == str(var / "media")
    assert s["STATIC_ROOT"] == str(var / "static")
    # safe defaults: secure cookies when DEBUG is off, no proxy header trusted
    assert s["SESSION_COOKIE_SECURE"] is True
    assert s["SECURE_PROXY_SSL_HEADER"] is None
    # https only: plain http redirected, HSTS for a year with subdomains, a CSP on every page
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] == 31536000
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert s["SECURE_HSTS_PRELOAD"] is True
    assert s["CSP_MIDDLEWARE"] is True
    assert s["LANGUAGE_CODE"] == "vi"
    assert s["TIME_ZONE"] == "Asia/Ho_Chi_Minh"


def test_debug_on_runs_without_a_secret_key_on_localhost_only():
    s = settings_with(DEBUG="true")
    assert s["DEBUG"] is True
    assert s["SECRET_KEY"]
    assert s["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]
    assert s["SESSION_COOKIE_SECURE"] is False
    # runserver on http://127.0.0.1:8000: no redirect to https, no HSTS
    assert s["SECURE_SSL_REDIRECT"] is False
    assert s["SECURE_HSTS_SECONDS"] == 0
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False


def test_a_plain_http_deployment_switches_the_redirect_hsts_and_secure_cookies_off():
    # Documented in README.md as not recommended; `make run` sets the same (scripts/run.sh).
    s = settings_with(
        SECRET_KEY="k" * 50,
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="0",
        SECURE_COOKIES="false",
    )
    assert s["DEBUG"] is False
    assert s["SECURE_SSL_REDIRECT"] is False
    assert s["SECURE_HSTS_SECONDS"] == 0
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert s["SECURE_HSTS_PRELOAD"] is False
    assert s["SESSION_COOKIE_SECURE"] is False
    assert s["SECURE_PROXY_SSL_HEADER"] is None


def test_hsts_subdomains_and_preload_can_be_switched_off_on_their_own():
    s = settings_with(
        SECRET_KEY="k" * 50, SECURE_HSTS_INCLUDE_SUBDOMAINS="false", SECURE_HSTS_PRELOAD="no"
    )
    assert s["SECURE_HSTS_SECONDS"] == 31536000
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert s["SECURE_HSTS_PRELOAD"] is False


def test_var_dir_moves_every_embedded_file(tmp_path):
    s = settings_with(SECRET_KEY="k" * 50, PLAN_TRACKER_VAR_DIR=str(tmp_path))
    assert s["NAME"] == str(tmp_path / "plan_tracker.sqlite3")
    assert s["TRANSPORT_OPTIONS"]["data_folder_in"] == str(tmp_path / "celery" / "queue")
    assert s["EMAIL_FILE_PATH"] == str(tmp_path / "mail")
    assert s["MEDIA_ROOT"] == str(tmp_path / "media")


def test_production_variables_select_postgresql_redis_and_smtp():
    s = settings_with(
        SECRET_KEY="k" * 50,
        ALLOWED_HOSTS="plan.example.gov.vn,localhost",
        DATABASE_URL="postgres://plan:secret@db:5432/plan_tracker",
        DATABASE_CONN_MAX_AGE="60",
        CELERY_BROKER_URL="redis://redis:6379/0",
        EMAIL_HOST="smtp.example.gov.vn",
        EMAIL_PORT="465",
        EMAIL_USE_TLS="false",
        MEDIA_ROOT="/srv/media",
        BEHIND_TLS_PROXY="true",
        EVIDENCE_MAX_MB="50",
    )
    assert s["ALLOWED_HOSTS"] == ["plan.example.gov.vn", "localhost"]
    # Django's PostgreSQL backend with the cheaper health check (plan_tracker/postgresql).
    assert s["ENGINE"] == "plan_tracker.postgresql"
    assert (s["HOST"], s["NAME"], s["CONN_MAX_AGE"]) == ("db", "plan_tracker", 60)
    assert s["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    # A task whose worker died goes back to the queue after the visibility timeout, longer
    # than the longest task.
    assert s["TRANSPORT_OPTIONS"] == {"visibility_timeout": 20 * 60}
    assert s["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (s["EMAIL_HOST"], s["EMAIL_PORT"], s["EMAIL_USE_TLS"]) == (
        "smtp.example.gov.vn",
        465,
        False,
    )
    assert s["MEDIA_ROOT"] == "/srv/media"
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["EVIDENCE_MAX_MB"] == 50


# --- .env.example --------------------------------------------------------------------------

ENV_READ = re.compile(r"""env_(?:str|bool|int|list)\(\s*["']([A-Z0-9_]+)["']""")


def variables_read_by_settings() -> set[str]:
    names = set()
    for path in (BASE_DIR / "plan_tracker").glob("*settings.py"):
        names |= set(ENV_READ.findall(path.read_text("utf-8")))
    return names


def test_env_example_lists_every_variable_settings_read_with_a_comment():
    lines = (BASE_DIR / ".env.example").read_text("utf-8").splitlines()
    # A variable is listed as NAME=value, or as "# NAME=value" when its default is fine.
    assignment = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=")
    documented = {}
    for number, line in enumerate(lines):
        match = assignment.match(line)
        if match:
            documented[match.group(1)] = number

    read = variables_read_by_settings()
    assert "SECRET_KEY" in read  # the pattern finds what settings.py reads
    missing = sorted(read - documented.keys())
    assert not missing, f".env.example does not list {missing}"
    for name, number in documented.items():
        previous = lines[number - 1] if number else ""
        assert previous.startswith("# ") and not assignment.match(previous), (
            f".env.example: {name} needs a one-line comment above it"
        )


def test_env_example_holds_no_secret_key():
    text = (BASE_DIR / ".env.example").read_text("utf-8")
    assert re.search(r"^SECRET_KEY=\s*$", text, re.MULTILINE), "SECRET_KEY must be left empty"


def test_the_api_counts_requests_per_process_unless_cache_url_names_redis():
    alone = settings_with(SECRET_KEY="k" * 50)
    assert alone["CACHE_BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    shared = settings_with(SECRET_KEY="k" * 50, CACHE_URL="redis://redis:6379/1")
    assert shared["CACHE_BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert shared["CACHE_LOCATION"] == "redis://redis:6379/1"


def test_prepared_statements_are_on_unless_switched_off_for_a_pooler():
    assert settings_with(SECRET_KEY="k" * 50)["PREPARED_STATEMENTS"] is True
    off = settings_with(SECRET_KEY="k" * 50, DATABASE_PREPARED_STATEMENTS="false")
    assert off["PREPARED_STATEMENTS"] is False
