"""Commands typed in the clone after `make run` find the secret key it keeps in var/
(issue 16), while a deployment that sets no SECRET_KEY still refuses to start.

Each test runs manage.py in a fresh process with a clean environment, as a newcomer's shell
is: no SECRET_KEY, no DEBUG, no DATABASE_URL; PLAN_TRACKER_VAR_DIR points at a temporary
folder standing in for var/.
"""

import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]


def manage(*args: str, var_dir: Path, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(var_dir),
        "LANG": "C.UTF-8",
        "PLAN_TRACKER_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "plan_tracker.settings",
        **extra_env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def var_dir(tmp_path) -> Path:
    """var/ as `make run` leaves it: the key written once by scripts/run.sh."""
    (tmp_path / "secret_key").write_text(secrets.token_urlsafe(50) + "\n")
    return tmp_path


def test_make_run_keeps_the_key_where_the_settings_look_for_it():
    run_sh = (BASE_DIR / "scripts" / "run.sh").read_text()
    assert "> var/secret_key" in run_sh
    assert 'cd "$(dirname "$0")/.."' in run_sh  # var/ of the clone: BASE_DIR / "var"


@pytest.mark.slow
def test_send_reminders_runs_in_the_clone_after_make_run(var_dir):
    migrated = manage("migrate", "-v", "0", var_dir=var_dir)
    assert migrated.returncode == 0, migrated.stderr
    done = manage("send_reminders", "--dry-run", var_dir=var_dir)
    assert done.returncode == 0, done.stderr
    assert "SECRET_KEY" not in done.stderr
    assert "0 thông báo mới cho 0 người nhận" in done.stdout  # the language of the settings


def test_manage_py_check_passes_with_the_key_of_var(var_dir):
    done = manage("check", var_dir=var_dir)
    assert done.returncode == 0, done.stderr
    assert "no issues" in done.stdout


def test_without_the_key_file_the_settings_still_require_secret_key(tmp_path):
    done = manage("check", var_dir=tmp_path)
    assert done.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in done.stderr


def test_a_deployment_with_its_own_database_does_not_take_the_key_of_var(var_dir):
    done = manage(
        "check", var_dir=var_dir, DATABASE_URL="postgres://nobody@127.0.0.1:1/plan_tracker"
    )
    assert done.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in done.stderr


def test_an_empty_key_file_is_no_key(tmp_path):
    (tmp_path / "secret_key").write_text("\n")
    done = manage("check", var_dir=tmp_path)
    assert done.returncode != 0
    assert "SECRET_KEY is required when DEBUG is off" in done.stderr
