"""The demo's archive (`manage.py demo_reports`, run by `make run`): the current-year demo
plan's past months issued through the office's steps, the last month a draft waiting."""

import datetime
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from reports.models import MonthlyReport, ReportStage

# The fast stand-in for WeasyPrint lives in test_pdf.py.
from tests.reports.test_pdf import fake_pdf  # noqa: F401

pytestmark = pytest.mark.django_db

PLAN_FILE = Path(settings.BASE_DIR) / "data" / "plan_2022.yaml"
TODAY = datetime.datetime(2026, 12, 4, 10, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


@time_machine.travel(TODAY, tick=False)
def test_the_archive_holds_the_past_months_issued_and_one_draft(fake_pdf):  # noqa: F811
    call_command("load_plan", str(PLAN_FILE), "--demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("demo_reports", stdout=out)

    reports = list(
        MonthlyReport.objects.filter(plan__code="CDS-NB-2026")
        .select_related("approved_by", "issued_by", "issuer")
        .order_by("period")
    )
    *issued, draft = reports
    assert len(issued) >= 3
    assert draft.period == datetime.date(2026, 11, 1)
    assert (draft.stage, draft.number, draft.issued_on) == (ReportStage.DRAFT, None, None)
    assert draft.pdf and draft.assessment  # rendered, narrative prefilled
    for number, report in enumerate(issued, start=1):
        following = (report.period + datetime.timedelta(days=32)).replace(day=5)
        assert (report.stage, report.number, report.issued_on) == (
            ReportStage.ISSUED,
            number,
            following,
        )
        assert report.issuer.code == "NB_SKHCN"
        assert (report.approved_by.username, report.issued_by.username) == ("lanhdao", "skhcn")
        assert report.approved_at < report.issued_at
    assert f"{len(issued)} tháng đã ban hành, 1 dự thảo đang chờ" in out.getvalue()
    assert "Báo cáo tháng 11/2026: đang tạo…" in out.getvalue()

    # Again: nothing more.
    again = io.StringIO()
    call_command("demo_reports", stdout=again)
    assert MonthlyReport.objects.count() == len(reports)
    assert "0 tháng đã ban hành, 0 dự thảo đang chờ" in again.getvalue()
