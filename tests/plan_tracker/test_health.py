"""`/health/` (issue 16): database, cache, broker, last beat run, last reminder run; 200 when
all is well, 503 when a component is down, warnings for late runs; no login, no secrets."""

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
import time_machine
from django.conf import settings as settings_module
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from plan_tracker.celery import app
from reminders.models import ReminderRun
from reminders.services import reminders_run

pytestmark = pytest.mark.django_db

ICT = datetime.timezone(datetime.timedelta(hours=7))
NOW = datetime.datetime(2026, 3, 10, 9, 0, tzinfo=ICT)
REDIS_URL = "redis://127.0.0.1:6379/15"
CLOSED = "127.0.0.1:1"  # nothing listens on port 1: connections are refused at once


@pytest.fixture(autouse=True)
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def embedded(settings, tmp_path):
    """The embedded defaults of `make run`: local-memory cache, filesystem broker."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.CELERY_BROKER_URL = "filesystem://"
    folders = {name: tmp_path / name for name in ("queue", "control")}
    for folder in folders.values():
        folder.mkdir()
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "control_folder": str(folders["control"]),
    }
    return folders


def beat_sent(at: datetime.datetime) -> PeriodicTask:
    """Beat's record of the heartbeat, as django-celery-beat keeps it."""
    every_five = IntervalSchedule.objects.create(every=5, period=IntervalSchedule.MINUTES)
    return PeriodicTask.objects.create(
        name="beat-heartbeat",
        task="plan_tracker.beat_heartbeat",
        interval=every_five,
        last_run_at=at,
    )


@pytest.fixture
def recent_runs(now):
    beat_sent(now - datetime.timedelta(minutes=4))
    ReminderRun.objects.create(day=now.date(), finished_at=now - datetime.timedelta(hours=2))


def health(client, **extra):
    return client.get("/health/", HTTP_ACCEPT="application/json", **extra)


def test_all_up_on_the_embedded_defaults_answers_200_without_login(client, embedded, recent_runs):
    response = health(client)
    assert response.status_code == 200
    assert response.json() == {
        "Database(alias='default')": "OK",
        "Cache(alias='default')": "OK",
        "Broker(filesystem)": "OK",
        "BeatRun": "OK",
        "ReminderRun": "OK",
    }
    assert "no-cache" in response["Cache-Control"]  # never served from a cache


def test_all_up_with_redis_answers_200(client, settings, recent_runs):
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.ConnectionError:
        pytest.skip(f"needs a Redis server at {REDIS_URL}")
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    settings.CELERY_BROKER_URL = REDIS_URL
    response = health(client)
    assert response.status_code == 200
    assert set(response.json().values()) == {"OK"}
    assert "Broker(redis)" in response.json()


def test_redis_unreachable_answers_503_naming_the_cache_and_the_broker(
    client, settings, recent_runs
):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://{CLOSED}/1",
        }
    }
    settings.CELERY_BROKER_URL = f"redis://:s3cret-broker-password@{CLOSED}/0"
    response = health(client)
    assert response.status_code == 503
    report = response.json()
    assert report["Database(alias='default')"] == "OK"
    assert report["Cache(alias='default')"] != "OK"
    assert report["Broker(redis)"] == "Unavailable: Unable to connect to the broker."
    # Neither the password nor the address of the broker is shown to anonymous callers.
    assert "s3cret" not in response.content.decode()
    assert CLOSED not in response.content.decode()


def test_text_and_html_answers_carry_the_same_status(client, settings, recent_runs):
    settings.CELERY_BROKER_URL = f"redis://{CLOSED}/0"
    text = client.get("/health/", {"format": "text"})
    assert text.status_code == 503
    assert "Broker(redis): Unavailable" in text.content.decode()
    page = client.get("/health/", HTTP_ACCEPT="text/html")
    assert page.status_code == 503
    assert "Broker(redis)" in page.content.decode()


def test_a_missing_queue_folder_of_the_embedded_broker_answers_503(client, embedded, recent_runs):
    embedded["queue"].rmdir()
    response = health(client)
    assert response.status_code == 503
    assert response.json()["Broker(filesystem)"] == (
        "Unavailable: The broker's data_folder_in is missing or not writable."
    )


def test_a_stale_last_reminder_run_is_reported_as_a_warning(client, embedded, now):
    beat_sent(now - datetime.timedelta(minutes=4))
    ReminderRun.objects.create(
        day=now.date() - datetime.timedelta(days=2),
        finished_at=now - datetime.timedelta(hours=50, minutes=5),
    )
    response = health(client)
    # Reported, while the web keeps serving: a load balancer keeps it in service.
    assert response.status_code == 200
    assert response.json()["ReminderRun"] == (
        "Warning: The last reminder run finished 50 h 05 min ago (more than 26 h)."
    )
    metrics = client.get("/health/", {"format": "openmetrics"}).content.decode()
    assert 'django_health_check_status{check="ReminderRun"} 0' in metrics
    assert 'django_health_check_status{check="BeatRun"} 1' in metrics


def test_no_reminder_run_yet_is_reported(client, embedded, now):
    beat_sent(now)
    response = health(client)
    assert response.json()["ReminderRun"] == "Warning: No reminder run has been recorded yet."


def test_the_reminder_threshold_comes_from_the_settings(client, embedded, now, settings):
    beat_sent(now)
    ReminderRun.objects.create(day=now.date(), finished_at=now - datetime.timedelta(hours=3))
    settings.HEALTH_REMINDER_MAX_HOURS = 2
    assert health(client).json()["ReminderRun"].startswith("Warning: The last reminder run")


def test_a_beat_that_stopped_sending_is_reported(client, embedded, now):
    beat_sent(now - datetime.timedelta(minutes=40))
    ReminderRun.objects.create(day=now.date(), finished_at=now)
    response = health(client)
    assert response.status_code == 200
    assert response.json()["BeatRun"] == (
        "Warning: Celery beat last sent a periodic task 0 h 40 min ago (more than 15 min)."
    )


def test_a_beat_that_never_ran_is_reported(client, embedded, now):
    ReminderRun.objects.create(day=now.date(), finished_at=now)
    response = health(client)
    assert response.json()["BeatRun"] == (
        "Warning: Celery beat has not sent any periodic task yet."
    )


def test_beat_sends_a_heartbeat_every_five_minutes():
    entry = app.conf.beat_schedule["beat-heartbeat"]
    assert entry["task"] == "plan_tracker.beat_heartbeat"
    assert entry["schedule"].minute == set(range(0, 60, 5))
    assert "plan_tracker.beat_heartbeat" in app.tasks


def test_the_daily_reminder_job_records_its_run_once_per_day(now):
    reminders_run(now.date(), dry_run=True)
    assert not ReminderRun.objects.exists()  # a dry run leaves no trace
    reminders_run(now.date(), inline=True)
    reminders_run(now.date(), inline=True)
    run = ReminderRun.objects.get()
    assert (run.day, run.finished_at) == (now.date(), now)


def test_health_is_not_redirected_to_https_in_production(client, settings, embedded, recent_runs):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/dashboard/").status_code == 301
    response = health(client)  # a probe over plain http inside the network
    assert response.status_code == 200
    assert response.json()["ReminderRun"] == "OK"


# --- docker-compose's health check of the web service (scripts/healthcheck.py) --------------------


def run_healthcheck(live_server) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(Path(settings_module.BASE_DIR) / "scripts" / "healthcheck.py")],
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HEALTHCHECK_URL": f"{live_server.url}/health/",
            "ALLOWED_HOSTS": ".tinh.example.gov.vn,localhost",
        },
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_the_compose_health_check_passes_when_all_is_up(
    live_server, settings, embedded, recent_runs
):
    # Sent with the Host of ALLOWED_HOSTS, as production settings require.
    settings.ALLOWED_HOSTS = [".tinh.example.gov.vn"]
    result = run_healthcheck(live_server)
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db(transaction=True)
def test_the_compose_health_check_fails_when_redis_is_down(live_server, settings, recent_runs):
    settings.ALLOWED_HOSTS = [".tinh.example.gov.vn"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://{CLOSED}/1",
        }
    }
    settings.CELERY_BROKER_URL = f"redis://{CLOSED}/0"
    result = run_healthcheck(live_server)
    assert result.returncode == 1
    assert "answered 503" in result.stderr


def test_the_compose_health_check_fails_when_nothing_listens():
    result = subprocess.run(
        [sys.executable, "scripts/healthcheck.py"],
        env={"PATH": os.environ.get("PATH", ""), "HEALTHCHECK_URL": f"http://{CLOSED}/health/"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=settings_module.BASE_DIR,
    )
    assert result.returncode == 1
    assert "refused" in result.stderr.lower()
