"""Celery wiring: the beat entry, the fan-out, retries, and one run on a real worker."""

import datetime
import os
import smtplib
import subprocess
import sys
import time
import uuid
from pathlib import Path
from unittest import mock

import pytest
from celery.schedules import crontab
from django.core import mail
from django.db import connection

from plan_tracker.celery import app
from reminders.choices import EmailStatus
from reminders.models import Notification
from reminders.tasks import digest_send_task, reminders_run_task

pytestmark = pytest.mark.django_db

D = datetime.date
ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def eager():
    """Run Celery tasks in this process (set on the app: settings do not reach it late).
    Errors stay in the result (`.get()` raises them), so that eager retries can happen."""
    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def june_task(make_task, people, policy):
    return make_task(code="T-JUN", due=D(2022, 6, 30))


def test_the_daily_run_is_on_the_beat_at_seven_in_the_projects_time_zone():
    entry = app.conf.beat_schedule["reminders-daily"]
    assert entry["task"] == reminders_run_task.name
    assert entry["schedule"] == crontab(hour=7, minute=0)
    assert app.conf.timezone == "Asia/Ho_Chi_Minh"
    assert reminders_run_task.name in app.tasks


def test_the_tasks_take_json_arguments_only():
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]


def test_the_fan_out_enqueues_one_digest_per_recipient_after_the_commit(
    june_task, eager, mailoutbox, travel, django_capture_on_commit_callbacks
):
    travel(D(2022, 6, 27))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert reminders_run_task.delay("2022-06-27").get() == 2
    assert mailoutbox == []  # nothing is sent before the commit
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mailoutbox) == ["manager@example.vn", "officer@example.vn"]


def test_beat_firing_twice_sends_each_digest_once(
    june_task, eager, mailoutbox, travel, django_capture_on_commit_callbacks
):
    travel(D(2022, 6, 27))
    with django_capture_on_commit_callbacks(execute=False) as first:
        reminders_run_task.delay("2022-06-27")
    with django_capture_on_commit_callbacks(execute=False) as second:
        reminders_run_task.delay("2022-06-27")
    assert len(first) == len(second) == 2  # the rows were still pending: enqueued again
    for callback in [*first, *second]:
        callback()
    assert len(mailoutbox) == 2


def test_a_transient_smtp_error_is_retried_and_sent_once(
    june_task, people, eager, flaky_smtp, travel
):
    travel(D(2022, 6, 27))
    reminders_run_task("2022-06-27")  # called directly: runs the service, digests not run
    result = digest_send_task.apply(args=[people["manager"].pk, "2022-06-27"])
    assert result.get() == 1
    assert flaky_smtp.calls == 2
    assert [m.to for m in mail.outbox] == [["manager@example.vn"]]
    assert Notification.objects.get(recipient=people["manager"]).email_status == "sent"


def test_retries_stop_after_five_and_the_notices_stay_unsent(
    june_task, people, eager, flaky_smtp, travel
):
    flaky_smtp.failures = 100
    travel(D(2022, 6, 27))
    reminders_run_task("2022-06-27")
    with pytest.raises(smtplib.SMTPException):
        digest_send_task.apply(args=[people["manager"].pk, "2022-06-27"]).get()
    assert flaky_smtp.calls == 6  # the first try and five retries
    row = Notification.objects.get(recipient=people["manager"])
    assert (row.email_status, row.sent_at) == (EmailStatus.PENDING, None)


def test_a_bug_is_not_retried(june_task, people, eager, settings, travel):
    settings.EMAIL_BACKEND = "tests.reminders.test_tasks.BrokenBackend"
    BrokenBackend.calls = 0
    travel(D(2022, 6, 27))
    reminders_run_task("2022-06-27")
    with pytest.raises(ValueError):
        digest_send_task.apply(args=[people["manager"].pk, "2022-06-27"]).get()
    assert BrokenBackend.calls == 1
    assert Notification.objects.get(recipient=people["manager"]).sent_at is None


class BrokenBackend:
    calls = 0

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        type(self).calls += 1
        raise ValueError("a bug, not the network")


# --- End to end: a real worker on Redis against the test database -----------------------------


def _redis_or_skip():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"needs a Redis server at {REDIS_URL}")
    return client


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_sends_the_digests(postgres_only, make_task, people, tmp_path):
    """The whole path: beat's task on the broker, a worker process running it against the
    same PostgreSQL test database, digests fanned out on commit through Redis, mail files
    written, rows marked sent. The worker is always stopped."""
    from reminders.models import ReminderPolicy

    redis_client = _redis_or_skip()
    redis_client.flushdb()
    ReminderPolicy.objects.get_or_create(plan=None)
    make_task(code="T-E2E", due=D(2022, 6, 30))

    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "plan_tracker.test_settings",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": REDIS_URL,
        "PLAN_TRACKER_VAR_DIR": str(tmp_path),  # mail files go to tmp_path/mail
        "EMAIL_HOST": "",
        "SITE_URL": "https://cds.example.vn",
        "PYTHONUNBUFFERED": "1",
    }
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "plan_tracker",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "-n",
            f"e2e-{uuid.uuid4().hex[:8]}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        with app.connection_for_write(REDIS_URL) as broker:
            reminders_run_task.apply_async(args=["2022-06-27"], connection=broker)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            statuses = set(Notification.objects.values_list("email_status", flat=True))
            if statuses == {"sent"}:
                break
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(0.5)
        else:
            pytest.fail(
                "the worker did not send in time:\n" + (tmp_path / "worker.log").read_text()
            )
        assert Notification.objects.count() == 2
        files = list((tmp_path / "mail").glob("*.log"))
        text = "".join(f.read_text() for f in files)
        assert text.count("Subject:") == 2
        assert "manager@example.vn" in text and "officer@example.vn" in text
        assert "https://cds.example.vn/tasks/" in text
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        log.close()
        redis_client.flushdb()


def test_beat_copies_the_entry_to_the_database_where_admins_can_edit_it():
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    # What `celery beat` does when it starts. Its close_old_connections() would close the
    # test's connection inside the test transaction (PostgreSQL): nothing to close here.
    with mock.patch("django_celery_beat.schedulers.close_old_connections"):
        DatabaseScheduler(app=app, lazy=False)
    entry = PeriodicTask.objects.get(name="reminders-daily")
    assert entry.task == "reminders.reminders_run"
    assert entry.enabled
    assert (entry.crontab.hour, entry.crontab.minute) == ("7", "0")
    assert str(entry.crontab.timezone) == "Asia/Ho_Chi_Minh"
