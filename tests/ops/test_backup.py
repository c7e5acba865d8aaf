"""Backups restore (issue 16): scripts/backup.sh dumps the database and the media folder,
scripts/restore_check.sh restores them into a throwaway database and folder and compares
every table's row count and the media files with those recorded at backup time."""

import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import database_url as url_of_the_test_database
from tests.factories import TaskFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SCRIPTS = Path(settings.BASE_DIR) / "scripts"


@pytest.fixture
def database_url():
    if connection.vendor != "postgresql":
        pytest.skip("backups are of a PostgreSQL database")
    return url_of_the_test_database()


def run(script: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPTS / script), *args],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_backup_restores_with_every_row_and_file(database_url, tmp_path, agencies):
    TaskFactory.create_batch(3, lead_agency=agencies["haihau"])
    media = tmp_path / "media"
    (media / "evidence" / "2026").mkdir(parents=True)
    (media / "evidence" / "2026" / "bien-ban.pdf").write_bytes(b"%PDF-1.4 evidence")
    backup = tmp_path / "backup"
    env = {"DATABASE_URL": database_url, "MEDIA_ROOT": str(media)}

    made = run("backup.sh", str(backup), env=env)
    assert made.returncode == 0, made.stderr
    counts = dict(line.split("|") for line in (backup / "counts.txt").read_text().splitlines())
    assert counts["tasks_app_task"] == "3"
    assert (backup / "media.list").read_text() == "./evidence/2026/bien-ban.pdf\n"

    checked = run("restore_check.sh", str(backup), env=env)
    assert checked.returncode == 0, checked.stderr
    assert "every row count as at backup time" in checked.stdout
    assert "the backup restores" in checked.stdout

    # A backup that does not match what it recorded is caught.
    (backup / "counts.txt").write_text(
        (backup / "counts.txt").read_text().replace("tasks_app_task|3", "tasks_app_task|4")
    )
    broken = run("restore_check.sh", str(backup), env=env)
    assert broken.returncode == 1
    assert "row counts differ" in broken.stderr
    # The throwaway databases are gone.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'plan_tracker_restorecheck_%'"
        )
        assert cursor.fetchone()[0] == 0


def test_backup_refuses_a_non_postgresql_database(tmp_path):
    made = run("backup.sh", str(tmp_path / "b"), env={"DATABASE_URL": "sqlite:///x.sqlite3"})
    assert made.returncode == 2
    assert "PostgreSQL URL" in made.stderr
