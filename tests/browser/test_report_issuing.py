"""Issue 15's "done when", in a real browser: on the 1st a draft is waiting; the specialist
edits its assessment, the leader approves it, the văn thư issues it as "Số: 37/BC-STTTT"
dated the day of issue; the PDF opens with a valid digital signature (pyHanko's validator,
trusting a throwaway CA) and the recipients get it once.

Real WeasyPrint and pyHanko; the draft is re-rendered inline (Celery eager)."""

import datetime
import shutil
import subprocess

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect
from pyhanko.sign.validation.status import SignatureCoverageLevel

from reports.models import MonthlyReport, ReportStage
from reports.numbering import date_line_parts
from reports.services import monthly_report_generate
from tasks_app import services
from tasks_app.choices import Role, TaskState
from tests.browser.conftest import person
from tests.factories import (
    PlanFactory,
    PriorityAreaFactory,
    TaskFactory,
)
from tests.pki import Pki, validate_signature

pytestmark = pytest.mark.django_db(transaction=True)

SIGNER_CN = "Sở Thông tin và Truyền thông (kiểm thử)"
PASSPHRASE = "mat-khau-kiem-thu"


@pytest.fixture
def signing(settings, tmp_path):
    """The agency's certificate, issued by a throwaway CA, set up as in production."""
    pki = Pki(SIGNER_CN)
    path = tmp_path / "stttt.p12"
    path.write_bytes(pki.pkcs12(PASSPHRASE))
    settings.REPORT_SIGNING_PKCS12 = str(path)
    settings.REPORT_SIGNING_PASSPHRASE = PASSPHRASE
    settings.REPORT_SIGNING_SEAL_IMAGE = ""
    return pki


@pytest.fixture
def waiting_draft(agencies, eager):
    """Last month's draft of this year's plan, made on the 1st as the job makes it, with a
    difficulty Hải Hậu reported during the month; the monitor and the leader."""
    today = timezone.localdate()
    stttt = agencies["stttt"]
    stttt.doc_code = "STTTT"
    stttt.save()
    person("sotttt", "Hương", "Nguyễn Thị", stttt, Role.MONITOR)  # sotttt@example.vn
    person("lanhdao", "Bình", "Trần Văn", agencies["province"], Role.LEADER)
    manager = person("haihau", "Thành", "Vũ Văn", agencies["haihau"], Role.MANAGER)

    period = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    plan = PlanFactory(
        code="CDS-TINH",
        title=f"Kế hoạch chuyển đổi số năm {period.year}",
        issuing_agency=agencies["province"],
        monitor_agency=stttt,
        period_start=period.replace(month=1, day=1),
        period_end=period.replace(month=12, day=31),
    )
    area = PriorityAreaFactory(plan=plan, code="CQS", name="Chính quyền số")
    task = TaskFactory(
        plan=plan,
        priority_area=area,
        code="CQS-01",
        title="Số hóa hồ sơ thủ tục hành chính cấp xã",
        lead_agency=agencies["haihau"],
        assigned_on=period.replace(day=1),
        original_due=period.replace(month=12, day=31),
        due=period.replace(month=12, day=31),
    )
    services.status_update_record(
        task=task,
        author=manager,
        agency=task.lead_agency,
        state=TaskState.IN_PROGRESS,
        progress=60,
        result="Đã số hóa 60% hồ sơ",
        difficulties="Thiếu máy quét tại bộ phận một cửa",
        recorded_at=datetime.datetime.combine(
            period + datetime.timedelta(days=9), datetime.time(9), tzinfo=datetime.UTC
        ),
    )
    report = monthly_report_generate(plan=plan, period=period)
    assert report.stage == ReportStage.DRAFT and report.pdf
    return report


def _pdftotext(content: bytes) -> str:
    assert shutil.which("pdftotext"), "needs poppler-utils"
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


def test_draft_edited_approved_issued_as_37_signed_and_sent_once(
    page: Page, live_server, login, waiting_draft, signing
):
    report = waiting_draft
    detail = f"{live_server.url}/reports/{report.pk}/"
    today = timezone.localdate()

    # The specialist finds the draft waiting; its difficulties quote Hải Hậu under its name.
    login("sotttt")
    page.goto(f"{live_server.url}/reports/")
    page.click(f"a[href='/reports/{report.pk}/']")
    page.wait_for_url(detail)
    expect(page.locator(".report-stage")).to_have_text("Dự thảo")
    expect(page.locator("#narrative-difficulties")).to_contain_text(
        "“Thiếu máy quét tại bộ phận một cửa”"
    )
    page.click("#action-edit")
    page.fill("#id_assessment", "Các cơ quan, đơn vị triển khai nhiệm vụ đúng tiến độ.")
    page.click("#step-submit")
    page.wait_for_url(detail)
    expect(page.locator("#narrative-assessment")).to_have_text(
        "Các cơ quan, đơn vị triển khai nhiệm vụ đúng tiến độ."
    )
    expect(page.locator(".revision")).to_have_count(1)  # the prefilled text is kept

    # The leader approves.
    page.context.clear_cookies()
    login("lanhdao")
    page.goto(detail)
    page.click("#action-approve")
    page.click("#step-submit")
    page.wait_for_url(detail)
    expect(page.locator(".report-stage")).to_have_text("Đã duyệt")

    # The văn thư issues it as number 37, dated today.
    page.context.clear_cookies()
    login("sotttt")
    page.goto(detail)
    page.click("#action-issue")
    page.fill("#id_number", "37")
    page.fill("#id_date", today.isoformat())
    page.click("#step-submit")
    page.wait_for_url(detail)
    expect(page.locator(".report-stage")).to_have_text("Đã ban hành")
    expect(page.locator(".signature-state")).to_contain_text(SIGNER_CN)

    # The PDF: signed over the whole file by the agency's certificate; number and date filled.
    pdf = page.request.get(f"{live_server.url}/reports/{report.pk}/pdf/")
    assert pdf.headers["content-type"] == "application/pdf"
    _embedded, status = validate_signature(pdf.body(), signing.ca)
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signing_cert.subject.native["common_name"] == SIGNER_CN
    text = _pdftotext(pdf.body())
    assert "Số: 37/BC-STTTT" in text
    parts = date_line_parts(today)
    assert f"ngày {parts['day']} tháng {parts['month']} năm {parts['year']}" in text
    assert "DỰ THẢO" not in text

    # Sent once, with the signed PDF and the Excel file.
    page.click("#action-send")
    expect(page.locator(".recipients-list")).to_contain_text("lanhdao@example.vn")
    page.click("#step-submit")
    page.wait_for_url(detail)
    expect(page.locator(".report-stage")).to_have_text("Đã gửi")
    expect(page.locator("#action-send")).to_have_count(0)
    assert len(mail.outbox) == 1
    names = [name for name, _content, _type in mail.outbox[0].attachments]
    assert [name.rsplit(".", 1)[1] for name in names] == ["pdf", "xlsx"]
    assert mail.outbox[0].attachments[0][1] == pdf.body()
    # A second sending (an old tab) is refused and sends nothing.
    page.goto(f"{detail}send/")
    page.click("#step-submit")
    expect(page.locator("#form-errors")).to_be_visible()
    assert len(mail.outbox) == 1
    assert MonthlyReport.objects.get(pk=report.pk).stage == ReportStage.SENT
