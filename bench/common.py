"""Helpers shared by the benchmark scripts: the bench database, Django set-up, machine facts.

The benchmarks never touch the development database: every script works on its own
PostgreSQL database (default `plan_tracker_bench`) and refuses to drop one whose name does
not contain "bench".
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/plan_tracker_bench"
# Settings every benchmark process uses, as in production (DEBUG off) but with a fixed key.
BENCH_SECRET_KEY = "bench-only-not-a-secret"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def log(prefix: str, message: str) -> None:
    print(f"[{prefix}] {message}", flush=True)


# --- Database ---------------------------------------------------------------------------------


def parse_database_url(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit(f"The benchmarks need PostgreSQL, not {parts.scheme}: {url}")
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password) if parts.password else None,
        "dbname": parts.path.lstrip("/"),
    }


def _connect(url: str, dbname: str | None = None):
    import psycopg

    info = parse_database_url(url)
    return psycopg.connect(
        host=info["host"],
        port=info["port"],
        user=info["user"],
        password=info["password"],
        dbname=dbname or info["dbname"],
        autocommit=True,
    )


def database_exists(url: str) -> bool:
    name = parse_database_url(url)["dbname"]
    with _connect(url, "postgres") as conn:
        row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return row is not None


def drop_database(url: str) -> None:
    from psycopg import sql

    name = parse_database_url(url)["dbname"]
    if "bench" not in name:
        raise SystemExit(f"Refusing to drop {name!r}: only databases named *bench* are dropped.")
    with _connect(url, "postgres") as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def create_database(url: str) -> None:
    from psycopg import sql

    name = parse_database_url(url)["dbname"]
    with _connect(url, "postgres") as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def read_database_comment(url: str) -> dict | None:
    """The fingerprint the generator leaves on the database (parameters and counts)."""
    name = parse_database_url(url)["dbname"]
    with _connect(url, "postgres") as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
    if not row or not row[0]:
        return None
    try:
        return json.loads(row[0])
    except ValueError:
        return None


def write_database_comment(url: str, payload: dict | None) -> None:
    from psycopg import sql

    name = parse_database_url(url)["dbname"]
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True) if payload else None
    with _connect(url, "postgres") as conn:
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(name), sql.Literal(text))
        )


def database_size(url: str) -> str:
    name = parse_database_url(url)["dbname"]
    with _connect(url, "postgres") as conn:
        row = conn.execute("SELECT pg_size_pretty(pg_database_size(%s))", [name]).fetchone()
    return row[0]


def server_version(url: str) -> str:
    with _connect(url, "postgres") as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


# --- Django -----------------------------------------------------------------------------------


def django_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a production-like process on the bench database."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "plan_tracker.settings",
            "DATABASE_URL": database_url,
            "SECRET_KEY": BENCH_SECRET_KEY,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_COOKIES": "false",
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def migrate(database_url: str) -> float:
    """Apply the project's migrations to the bench database (in a child process, so that it
    works whether or not Django is already set up here). Returns the seconds it took."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=django_env(database_url),
        check=True,
    )
    return time.perf_counter() - started


def setup_django(database_url: str) -> None:
    """Configure Django in this process for the bench database (idempotent).

    When Django is already set up (a benchmark importing another), the database must be
    the same one, or the numbers would come from the wrong data.
    """
    import django
    from django.apps import apps

    wanted = parse_database_url(database_url)["dbname"]
    if apps.ready:
        from django.conf import settings

        current = settings.DATABASES["default"]["NAME"]
        if current != wanted:
            raise RuntimeError(f"Django is set up for {current!r}, not {wanted!r}.")
        return
    for key, value in django_env(database_url).items():
        if key in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "SECRET_KEY", "DEBUG"):
            os.environ[key] = value
        else:
            os.environ.setdefault(key, value)
    django.setup()


# --- Machine and code -------------------------------------------------------------------------


def machine_info() -> dict:
    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "load_average": load_average(),
        "cpu_model": cpu_model,
        "memory_gb": memory_gb,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def load_average() -> list[float]:
    """1, 5 and 15-minute load averages: other work on the machine skews every figure."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def busy_warning() -> str | None:
    """A warning when the machine is already busy (1-minute load above half its CPUs)."""
    load = load_average()
    cpus = os.cpu_count() or 1
    if load and load[0] > cpus / 2:
        return (
            f"the machine was busy before the run (load average {load[0]} on {cpus} CPUs): "
            "other processes compete with the server and the client, figures are pessimistic"
        )
    return None


def git_revision() -> str:
    """The commit the benchmark ran on, with "+dirty" when the tree had changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}+dirty" if dirty else head
