"""Issue 16: a worker killed mid-job. A real Celery worker (a subprocess on the real Redis
broker and this test's database) starts rendering a draft and is killed by its PID; the
report stays claimed by the dead worker until the claim is stale (REPORT_STALE_MINUTES:
minutes, not half an hour), then the sweep sends the render again and a new worker makes
it. Nothing is lost and nothing is rendered twice at once."""

import datetime
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from reports.models import MonthlyReport, ReportStatus
from reports.services import monthly_report_request, render_requests_resend
from tests.conftest import database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

D = datetime.date


def wait_for(condition, what: str, timeout: float = 90):
    """Poll `condition` (a state, not a duration) until it holds; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def worker_env(settings):
    if not settings.CELERY_BROKER_URL.startswith("redis://") or connection.vendor != "postgresql":
        pytest.skip("needs the Redis broker and PostgreSQL")
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete("celery")
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "plan_tracker.test_settings",
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "REPORT_SIGNING_PKCS12": "",
    }


def start_worker(env) -> subprocess.Popen:
    # --pool solo: the rendering runs in the process whose PID we hold.
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "plan_tracker", "worker", "--pool", "solo",
         "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture
def workers():
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def test_a_render_whose_worker_is_killed_is_taken_over_and_made_once(
    make_task, worker_env, workers, settings
):
    task = make_task(code="T-1", title="Triển khai phần mềm một cửa", due=D(2022, 6, 15))
    report = MonthlyReport.objects.create(plan=task.plan, period=D(2022, 6, 1))

    workers.append(start_worker(worker_env))
    monthly_report_request(report=report)  # autocommit: sent at once

    def claimed():
        return MonthlyReport.objects.filter(pk=report.pk, status=ReportStatus.GENERATING).first()

    in_progress = wait_for(claimed, "the first worker to claim the render")
    os.kill(workers[0].pid, signal.SIGKILL)
    workers[0].wait(timeout=30)

    # The dead worker's claim is not stale yet: nobody renders it twice at once.
    assert render_requests_resend() == 0
    assert MonthlyReport.objects.get(pk=report.pk).status == ReportStatus.GENERATING
    assert not MonthlyReport.objects.get(pk=report.pk).pdf

    # Minutes later (the claim's time moved back), the sweep sends it again and a new worker
    # makes it.
    stale = in_progress.claimed_at - datetime.timedelta(minutes=settings.REPORT_STALE_MINUTES + 1)
    MonthlyReport.objects.filter(pk=report.pk).update(claimed_at=stale)
    assert render_requests_resend() == 1
    workers.append(start_worker(worker_env))

    def rendered():
        return MonthlyReport.objects.filter(pk=report.pk, status=ReportStatus.READY).first()

    done = wait_for(rendered, "the second worker to render the report")
    assert done.pdf and Path(done.pdf.path).read_bytes().startswith(b"%PDF")
    assert done.attempts == 2  # the killed attempt and the one that made it
    assert done.generated_at > timezone.now() - datetime.timedelta(minutes=5)
