"""Deployment files: docker-compose.yml is valid, and production settings pass check --deploy.

There is no Docker engine on the test machines: Debian's docker-compose (1.29) validates and
renders the compose file without one. `make test` installs it; where it is missing the
compose tests are skipped, except in CI, where a missing tool is a failure.
"""

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BASE_DIR = Path(__file__).resolve().parents[2]
COMPOSE = shutil.which("docker-compose")

needs_compose = pytest.mark.skipif(
    COMPOSE is None and not os.environ.get("CI"),
    reason="docker-compose is not installed (apt-get install docker-compose)",
)


def compose(*args: str, **env_overrides: str | None) -> subprocess.CompletedProcess[str]:
    """Run docker-compose on the project's file with .env.example standing in for .env."""
    assert COMPOSE is not None, "docker-compose is not installed (apt-get install docker-compose)"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        # docker-compose.yml reads its env_file from here; .env may not exist.
        "PLAN_TRACKER_ENV_FILE": ".env.example",
        "POSTGRES_PASSWORD": "compose-test-password",
    }
    env.update(env_overrides)
    return subprocess.run(
        [COMPOSE, "-f", "docker-compose.yml", *args],
        cwd=BASE_DIR,
        env={name: value for name, value in env.items() if value is not None},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@needs_compose
def test_compose_file_is_valid():
    result = compose("config", "-q")
    assert result.returncode == 0, result.stderr


@needs_compose
def test_compose_defines_database_broker_web_worker_and_beat():
    result = compose("config")
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]

    assert {"db", "redis", "web", "worker", "beat"} <= services.keys()
    assert services["db"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://plan_tracker:")
        assert environment["DATABASE_URL"].endswith("@db:5432/plan_tracker")
        assert environment["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
    web_command = " ".join(services["web"]["command"])
    assert "migrate" in web_command.split("&&")[0]
    assert "gunicorn" in web_command
    assert "celery -A plan_tracker worker" in _command(services["worker"])
    assert "celery -A plan_tracker beat" in _command(services["beat"])


@needs_compose
def test_compose_refuses_to_start_without_a_database_password():
    if (BASE_DIR / ".env").exists():
        pytest.skip("the local .env may provide POSTGRES_PASSWORD")
    result = compose("config", "-q", POSTGRES_PASSWORD=None)
    assert result.returncode != 0
    assert "POSTGRES_PASSWORD" in result.stderr


def _command(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


@pytest.mark.slow
def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "plan_tracker.settings",
        "PLAN_TRACKER_VAR_DIR": str(tmp_path / "var"),
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "plan.example.gov.vn",
        "CSRF_TRUSTED_ORIGINS": "https://plan.example.gov.vn",
        # HSTS and the https redirect are on by default: not set here.
        "BEHIND_TLS_PROXY": "true",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output
    assert "WARNING" not in output
