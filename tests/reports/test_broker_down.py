"""Issue 16: the broker unreachable, a worker gone. A draft whose rendering is asked for while
Redis (the broker) is down is not lost and the person gets no error: the row stays PENDING
and the sweep (beat, every 5 minutes) sends it again once the broker is back. A render whose
worker died is taken over once its claim is stale (minutes, not half an hour).

The broker is made unreachable for real: Celery is pointed at a closed local port."""

import datetime
import logging
import os

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from plan_tracker.celery import app
from reports.models import MonthlyReport, ReportStatus
from reports.services import monthly_report_generate, render_requests_resend

# The fast stand-in for WeasyPrint lives in test_pdf.py.
from tests.reports.test_pdf import fake_pdf  # noqa: F401

pytestmark = pytest.mark.django_db

CLOSED_PORT_BROKER = "redis://127.0.0.1:1/0"
QUEUE = "celery"


def _use_broker(url: str) -> None:
    # Celery reads CELERY_BROKER_URL from the environment before its configuration, and keeps
    # its connections and producers: set both, drop those, the next send connects anew.
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def real_broker():
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        pytest.skip("needs Redis as the broker (CELERY_BROKER_URL)")
    environment = os.environ.get("CELERY_BROKER_URL")
    client = redis.Redis.from_url(url)
    client.delete(QUEUE)
    yield client
    client.delete(QUEUE)
    _use_broker(url)
    if environment is None:
        del os.environ["CELERY_BROKER_URL"]


@pytest.fixture
def broker_down(real_broker):
    _use_broker(CLOSED_PORT_BROKER)
    yield
    _use_broker(settings.CELERY_BROKER_URL)


@pytest.fixture
def draft(make_task, fake_pdf):  # noqa: F811
    task = make_task(
        code="T-1", title="Triển khai phần mềm một cửa", due=datetime.date(2022, 6, 15)
    )
    report = monthly_report_generate(plan=task.plan, period=datetime.date(2022, 6, 1))
    assert report.status == ReportStatus.READY
    return report


def test_a_rendering_asked_while_the_broker_is_down_is_kept_and_sent_once_it_is_back(
    client, monitor, draft, broker_down, real_broker, caplog, django_capture_on_commit_callbacks
):
    client.force_login(monitor)
    form = client.get(f"/reports/{draft.pk}/edit/").context["form"]
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/reports/{draft.pk}/edit/", {**form.initial, "assessment": "Đánh giá mới."}
        )
    # The person's edit is saved and the page answers normally, not "Server Error (500)".
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.assessment == "Đánh giá mới."
    assert draft.status == ReportStatus.PENDING  # the request is kept on the row
    assert "broker unreachable" in caplog.text
    assert real_broker.llen(QUEUE) == 0

    # Later, its page says the job service has not taken it up, in Vietnamese.
    MonthlyReport.objects.filter(pk=draft.pk).update(
        updated_at=timezone.now() - datetime.timedelta(minutes=3)
    )
    client.cookies.pop("django_language", None)
    page = client.get(f"/reports/{draft.pk}/").content.decode()
    assert "Dịch vụ xử lý nền chưa nhận yêu cầu tạo tệp này" in page
    MonthlyReport.objects.filter(pk=draft.pk).update(updated_at=timezone.now())

    # Too early for the sweep: the request may still be on its way.
    _use_broker(settings.CELERY_BROKER_URL)
    assert render_requests_resend() == 0
    # Later, the broker is back: the sweep sends it, once per sweep, to the real broker.
    MonthlyReport.objects.filter(pk=draft.pk).update(
        updated_at=timezone.now() - datetime.timedelta(minutes=3)
    )
    assert render_requests_resend() == 1
    assert real_broker.llen(QUEUE) == 1


def test_a_render_whose_worker_died_is_sent_again_once_its_claim_is_stale(
    draft, real_broker, settings
):
    assert settings.REPORT_STALE_MINUTES <= 10  # minutes, not half an hour
    claimed = timezone.now() - datetime.timedelta(minutes=settings.REPORT_STALE_MINUTES - 1)
    MonthlyReport.objects.filter(pk=draft.pk).update(
        status=ReportStatus.GENERATING, claimed_at=claimed
    )
    assert render_requests_resend() == 0  # its worker may still be at it
    MonthlyReport.objects.filter(pk=draft.pk).update(
        claimed_at=timezone.now() - datetime.timedelta(minutes=settings.REPORT_STALE_MINUTES + 1)
    )
    assert render_requests_resend() == 1
    assert real_broker.llen(QUEUE) == 1
