"""The monthly report's services: one draft per plan, month and scope; a number given at
issue; files replaced atomically; the issuer as of the month; the e-mail sent once, after
the report is issued (tests/reports/test_issuing.py follows the office's steps in full).

WeasyPrint is replaced by a fast stand-in (`fake_pdf`) except where a test says otherwise:
tests/reports/test_pdf.py renders the real document.
"""

# ruff: noqa: F811

import datetime
import os
import smtplib
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.storage import default_storage

from reports.issuing import report_narrative_save
from reports.models import MonthlyReport, ReportStage, ReportStatus
from reports.numbering import (
    agency_as_of,
    date_line_parts,
    document_date,
    document_number,
    parse_month,
    previous_month,
)
from reports.services import (
    ReportError,
    monthly_report_context,
    monthly_report_generate,
    monthly_report_recipients,
    monthly_report_send,
)
from tasks_app import permissions
from tasks_app.choices import AgencyKind, Role, SuccessionKind, TaskState
from tasks_app.models import AgencySuccession, StatusUpdate
from tests.factories import AgencyFactory, MembershipFactory, UserFactory

# The fixtures shared by the monthly-report tests live in test_pdf.py (the conftest of this
# folder belongs to the dashboard): imported here, then named as test arguments.
from tests.reports.test_pdf import fake_pdf, vietnamese  # noqa: F401

D = datetime.date
JUNE = D(2022, 6, 1)
ICT = datetime.timezone(datetime.timedelta(hours=7))
# The leader approves and the văn thư issues the June report on 05/07/2022.
FIFTH_OF_JULY = datetime.datetime(2022, 7, 5, 9, 0, tzinfo=ICT)
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _document_code(agencies):
    """Sở TT&TT numbers its documents …/BC-STTTT (Agency.doc_code)."""
    agencies["stttt"].doc_code = "STTTT"
    agencies["stttt"].save()


@pytest.fixture
def june_task(make_task):
    return make_task(code="T-1", title="Triển khai phần mềm một cửa", due=D(2022, 6, 15))


def _files(report: MonthlyReport) -> list[str]:
    folder = Path(default_storage.path(report.pdf.name)).parent
    return sorted(p.name for p in folder.iterdir())


# --- Helpers of Decree 30 -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2022, 7, 1), {"day": "01", "month": "7", "year": "2022"}),
        (D(2023, 1, 1), {"day": "01", "month": "01", "year": "2023"}),
        (D(2023, 2, 15), {"day": "15", "month": "02", "year": "2023"}),
        (D(2022, 12, 9), {"day": "09", "month": "12", "year": "2022"}),
        (D(2022, 10, 31), {"day": "31", "month": "10", "year": "2022"}),
    ],
)
def test_the_date_line_pads_days_below_ten_and_january_february(day, expected):
    assert date_line_parts(day) == expected


def test_numbers_below_ten_get_a_leading_zero():
    assert document_number(5, "STTTT") == "05/BC-STTTT"
    assert document_number(12, "STTTT") == "12/BC-STTTT"
    assert document_number(125, "UBND") == "125/BC-UBND"


def test_months_parse_and_the_report_is_dated_the_first_of_the_next_month():
    assert parse_month("2022-06") == JUNE
    assert previous_month(D(2022, 7, 1)) == JUNE
    assert previous_month(D(2023, 1, 1)) == D(2022, 12, 1)
    assert document_date(D(2022, 12, 1)) == D(2023, 1, 1)
    for bad in ("2022-13", "2022/06", "06-2022", "2022-6-1", ""):
        with pytest.raises(ValueError):
            parse_month(bad)


# --- Generating ------------------------------------------------------------------------------


def test_generate_twice_keeps_one_report_its_issuer_and_narrative(
    june_task, agencies, monitor, fake_pdf, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = monthly_report_generate(plan=june_task.plan, period=JUNE)
    # A draft: its issuer is fixed, its number and date are left for the văn thư.
    assert (first.stage, first.status) == (ReportStage.DRAFT, ReportStatus.READY)
    assert first.issuer == agencies["stttt"]
    assert (first.number, first.year, first.issued_on) == (None, None, None)
    assert first.assessment  # prefilled from the month's updates
    # The specialist rewrites the assessment; generating again keeps what was written.
    first = report_narrative_save(
        report=first, user=monitor, expected_version=first.version, assessment="Đánh giá mới."
    )
    first_pdf, first_xlsx = first.pdf.name, first.xlsx.name
    with django_capture_on_commit_callbacks(execute=True):
        again = monthly_report_generate(plan=june_task.plan, period=JUNE)
    assert MonthlyReport.objects.count() == 1
    assert again.pk == first.pk
    assert again.issuer == agencies["stttt"]
    assert again.assessment == "Đánh giá mới."
    assert "Đánh giá mới." in fake_pdf[-1]
    assert (again.stage, again.number, again.issued_on) == (ReportStage.DRAFT, None, None)
    # The files were replaced: new names, the old files removed after the swap, the same
    # content (numbers from history).
    assert again.pdf.name != first_pdf
    assert again.xlsx.name != first_xlsx
    assert not default_storage.exists(first_pdf)
    assert not default_storage.exists(first_xlsx)
    assert again.sha256 != first.sha256  # the new assessment is in it
    assert _files(again) == sorted(
        [Path(again.pdf.name).name, Path(again.xlsx.name).name]
    )  # no temporary file left
    assert again.attempts == 2


@pytest.mark.slow
def test_numbers_follow_each_issuer_and_year(
    make_task, fake_pdf, leader, monitor, issue_report, time_machine
):
    plan = make_task(due=D(2022, 12, 31)).plan
    time_machine.move_to(FIFTH_OF_JULY, tick=False)
    june = monthly_report_generate(plan=plan, period=JUNE)
    may = monthly_report_generate(plan=plan, period=D(2022, 5, 1))
    assert (june.number, may.number) == (None, None)  # drafts have no number
    # Numbers in the order the văn thư issues the reports, per agency and year.
    june = issue_report(june, approver=leader, clerk=monitor)
    may = issue_report(may, approver=leader, clerk=monitor)
    assert (june.number, may.number) == (1, 2)
    assert (june.year, june.issued_on) == (2022, D(2022, 7, 5))
    assert june.issuer == may.issuer == plan.monitor_agency
    # The December report, issued on 02/01/2023: the first number of 2023.
    time_machine.move_to(datetime.datetime(2023, 1, 2, 9, 0, tzinfo=ICT), tick=False)
    december = issue_report(
        monthly_report_generate(plan=plan, period=D(2022, 12, 1)), approver=leader, clerk=monitor
    )
    assert (december.year, december.number, december.issued_on) == (2023, 1, D(2023, 1, 2))
    # An issued report keeps its number: it is not generated again.
    with pytest.raises(ReportError):
        monthly_report_generate(plan=plan, period=JUNE)
    june.refresh_from_db()
    assert (june.year, june.number) == (2022, 1)


def test_a_scoped_report_is_a_separate_document_of_its_agency(
    june_task, agencies, fake_pdf, vietnamese, leader, monitor, manager, officer, issue_report,
    time_machine,
):  # fmt: skip
    time_machine.move_to(FIFTH_OF_JULY, tick=False)
    whole = monthly_report_generate(plan=june_task.plan, period=JUNE)
    haihau = monthly_report_generate(plan=june_task.plan, period=JUNE, scope=agencies["haihau"])
    assert whole.pk != haihau.pk
    assert haihau.issuer == agencies["haihau"]
    whole = issue_report(whole, approver=leader, clerk=monitor)
    # The district's own report: its head approves, its staff issue it.
    haihau = issue_report(haihau, approver=manager, clerk=officer)
    assert (whole.number, haihau.number) == (1, 1)  # two issuers, two sequences
    html = fake_pdf[-1]
    # A People's Committee heads its own documents: no governing body above it.
    assert "ỦY BAN NHÂN DÂN<br>HUYỆN HẢI HẬU" in html
    assert '<div class="parent">' not in html
    assert "Hải Hậu, ngày 05 tháng 7 năm 2022" in html
    assert "KT. CHỦ TỊCH" in html
    assert "TM. ỦY BAN NHÂN DÂN" in html


def test_the_issuer_is_the_agency_as_it_was_at_the_end_of_the_month(
    june_task, agencies, levels, fake_pdf, vietnamese, leader, issue_report, time_machine
):
    """Sở TT&TT merged into Sở KH&CN on 01/03/2025 and the plan now names the successor:
    the June 2022 report is still issued by Sở TT&TT of Nam Định."""
    stttt = agencies["stttt"]
    stttt.doc_code, stttt.valid_to = "STTTT", D(2025, 2, 28)
    stttt.save()
    skhcn_old = AgencyFactory(
        code="SKHCN",
        name="Sở Khoa học và Công nghệ",
        doc_code="SKHCN",
        level=levels["province"],
        parent=agencies["province"],
        valid_to=D(2025, 2, 28),
    )
    successor = AgencyFactory(
        code="SKHCN_2025",
        name="Sở Khoa học và Công nghệ",
        doc_code="SKHCN",
        level=levels["province"],
        parent=agencies["province"],
        valid_from=D(2025, 3, 1),
    )
    for predecessor in (stttt, skhcn_old):
        AgencySuccession.objects.create(
            predecessor=predecessor,
            successor=successor,
            date=D(2025, 3, 1),
            kind=SuccessionKind.MERGE,
        )
    # The monitors sat in Sở TT&TT: one of them issues the report.
    clerk = MembershipFactory(agency=stttt, role=Role.MONITOR).user
    plan = june_task.plan
    plan.monitor_agency = successor
    plan.save()

    assert agency_as_of(successor, D(2022, 6, 30), plan) == stttt
    assert agency_as_of(successor, D(2025, 6, 30), plan) == successor
    time_machine.move_to(FIFTH_OF_JULY, tick=False)
    report = monthly_report_generate(plan=plan, period=JUNE)
    assert report.issuer == stttt
    report = issue_report(report, approver=leader, clerk=clerk)
    assert report.issuer == stttt
    html = fake_pdf[-1]
    assert "SỞ THÔNG TIN VÀ TRUYỀN THÔNG" in html
    assert "Số: 01/BC-STTTT" in html
    assert "ỦY BAN NHÂN DÂN<br>TỈNH NAM ĐỊNH" in html
    assert "Nam Định, ngày 05 tháng 7 năm 2022" in html


def test_a_month_not_over_or_outside_the_plan_is_refused(june_task, fake_pdf, time_machine):
    time_machine.move_to(datetime.datetime(2022, 6, 30, 12, tzinfo=datetime.UTC))
    with pytest.raises(ReportError):
        monthly_report_generate(plan=june_task.plan, period=JUNE)
    time_machine.move_to(datetime.datetime(2024, 1, 5, tzinfo=datetime.UTC))
    with pytest.raises(ReportError):
        monthly_report_generate(plan=june_task.plan, period=D(2023, 6, 1))
    assert not MonthlyReport.objects.exists()


def test_a_claimed_report_is_left_to_its_worker_until_the_claim_is_stale(
    june_task, fake_pdf, settings
):
    from django.utils import timezone

    report = monthly_report_generate(plan=june_task.plan, period=JUNE)
    MonthlyReport.objects.filter(pk=report.pk).update(
        status=ReportStatus.GENERATING, claimed_at=timezone.now()
    )
    untouched = monthly_report_generate(plan=june_task.plan, period=JUNE)
    assert untouched.status == ReportStatus.GENERATING
    assert untouched.pdf.name == report.pdf.name
    assert len(fake_pdf) == 1
    # A worker that died long ago: its claim is taken over.
    stale = timezone.now() - datetime.timedelta(minutes=settings.REPORT_STALE_MINUTES + 1)
    MonthlyReport.objects.filter(pk=report.pk).update(claimed_at=stale)
    taken_over = monthly_report_generate(plan=june_task.plan, period=JUNE)
    assert taken_over.status == ReportStatus.READY
    assert len(fake_pdf) == 2


def test_only_missing_returns_a_ready_report_as_it_is(june_task, fake_pdf):
    report = monthly_report_generate(plan=june_task.plan, period=JUNE)
    again = monthly_report_generate(plan=june_task.plan, period=JUNE, only_missing=True)
    assert again.pdf.name == report.pdf.name
    assert len(fake_pdf) == 1


# --- Atomic replacement ----------------------------------------------------------------------


def test_a_failure_mid_render_leaves_the_old_files_served(
    june_task, fake_pdf, monkeypatch, client, monitor
):
    report = monthly_report_generate(plan=june_task.plan, period=JUNE)
    old_name, old_bytes = report.pdf.name, default_storage.open(report.pdf.name).read()

    def broken(html):
        raise RuntimeError("the renderer died half-way")

    monkeypatch.setattr("reports.pdf.render_pdf", broken)
    with pytest.raises(RuntimeError):
        monthly_report_generate(plan=june_task.plan, period=JUNE)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert "the renderer died half-way" in report.error
    assert report.pdf.name == old_name
    assert (report.stage, report.number) == (ReportStage.DRAFT, None)
    client.force_login(monitor)
    response = client.get(f"/reports/{report.pk}/pdf/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == old_bytes


def test_a_failure_while_writing_leaves_no_partial_file(june_task, fake_pdf, monkeypatch):
    report = monthly_report_generate(plan=june_task.plan, period=JUNE)
    old_name, old_bytes = report.pdf.name, default_storage.open(report.pdf.name).read()
    real_replace = os.replace

    def replace_fails_for_the_pdf(src, dst):
        if str(dst).endswith(".pdf"):
            raise OSError("disk full")
        return real_replace(src, dst)

    # The new content differs, so a half-written file would show.
    june_task.title = "Tên mới của nhiệm vụ"
    june_task.save()
    monkeypatch.setattr("reports.services.os.replace", replace_fails_for_the_pdf)
    with pytest.raises(OSError, match="disk full"):
        monthly_report_generate(plan=june_task.plan, period=JUNE)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert report.pdf.name == old_name
    assert default_storage.open(old_name).read() == old_bytes
    # Neither the temporary file nor the new Excel file of the failed run is left behind.
    assert _files(report) == sorted([Path(old_name).name, Path(report.xlsx.name).name])


# --- Content ---------------------------------------------------------------------------------


def test_the_context_takes_the_months_difficulties_and_the_next_months_deadlines(
    june_task, make_task, monitor, fake_pdf
):
    from django.utils import timezone

    tz = timezone.get_default_timezone()
    july_task = make_task(code="T-2", title="Nhiệm vụ tháng 7", due=D(2022, 7, 20))
    make_task(code="T-3", title="Nhiệm vụ tháng 9", due=D(2022, 9, 30))

    def update(task, when, **fields):
        StatusUpdate.objects.create(
            task=task,
            recorded_at=datetime.datetime.combine(when, datetime.time(9), tz),
            state=TaskState.IN_PROGRESS,
            progress=40,
            **fields,
        )

    update(june_task, D(2022, 5, 31), difficulties="Khó khăn của tháng 5")
    update(june_task, D(2022, 6, 10), difficulties="Thiếu máy tính <b>cấp xã</b>")
    update(july_task, D(2022, 6, 30), proposals="Đề nghị bổ sung kinh phí")
    update(july_task, D(2022, 7, 1), difficulties="Khó khăn của tháng 7")
    report = monthly_report_generate(plan=june_task.plan, period=JUNE)
    context = monthly_report_context(report=report)
    found = context["difficulties"]
    assert [d["text"] for d in found["difficulties"]] == ["Thiếu máy tính <b>cấp xã</b>"]
    assert [d["text"] for d in found["proposals"]] == ["Đề nghị bổ sung kinh phí"]
    assert [row.code for row in context["coming"]] == ["T-2"]
    assert [row.code for row in context["overdue"]] == ["T-1"]
    assert context["overdue"][0].days_overdue == 15
    # User text reaches the HTML escaped.
    assert "Thiếu máy tính &lt;b&gt;cấp xã&lt;/b&gt;" in fake_pdf[-1]


def test_the_report_counts_every_task_of_the_plan(
    june_task, make_task, agencies, manager, fake_pdf
):
    # The report reads through the whole-plan scope: Giao Thủy's task is in it, though no
    # user is involved and a Hải Hậu manager would not see that task.
    other = make_task(code="GT-1", due=D(2022, 6, 20), lead_agency=agencies["giaothuy"])
    assert not permissions.tasks_visible_to(manager).filter(pk=other.pk).exists()
    report = monthly_report_generate(plan=june_task.plan, period=JUNE)
    context = monthly_report_context(report=report)
    assert context["totals"]["total"] == 2
    assert sorted(row.code for row in context["overdue"]) == ["GT-1", "T-1"]


def test_a_task_title_with_markup_is_printed_as_text(make_task, fake_pdf):
    title = '<img src="http://example.com/x.png"> & <b>Nhiệm vụ</b>'
    task = make_task(title=title, due=D(2022, 6, 15))
    report = monthly_report_generate(plan=task.plan, period=JUNE)
    html = fake_pdf[-1]
    assert "<img" not in html
    assert (
        "&lt;img src=&quot;http://example.com/x.png&quot;&gt; &amp; &lt;b&gt;Nhiệm vụ&lt;/b&gt;"
        in html
    )
    assert report.status == ReportStatus.READY


@pytest.mark.pdf
def test_a_small_report_renders_for_real(make_task, vietnamese):
    """The real renderer on the test plan (no demo data): a draft PDF with the markup as
    text and the number left blank."""
    import re
    import subprocess

    task = make_task(title='<img src="http://example.com/x.png">', due=D(2022, 6, 15))
    report = monthly_report_generate(plan=task.plan, period=JUNE)
    content = report.pdf.read()
    assert content.startswith(b"%PDF")
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=content, capture_output=True, check=False
    ).stdout.decode()
    if text:  # poppler is installed
        assert '<img src="http://example.com/x.png">' in text
        assert "DỰ THẢO" in text
        assert re.search(r"Số:\s+/BC-STTTT", text)


# --- Sending ---------------------------------------------------------------------------------


@pytest.fixture
def draft_report(june_task, fake_pdf, leader, monitor, manager, outsider):
    return monthly_report_generate(plan=june_task.plan, period=JUNE)


@pytest.fixture
def ready_report(draft_report, leader, monitor, issue_report):
    """The June report, issued: the only kind that is e-mailed."""
    return issue_report(draft_report, approver=leader, clerk=monitor)


def test_a_draft_is_not_emailed(draft_report, mailoutbox):
    assert monthly_report_send(report=draft_report) is False
    assert mailoutbox == []
    draft_report.refresh_from_db()
    assert draft_report.emailed_at is None


def test_the_report_is_emailed_once_to_leaders_and_monitors(ready_report, mailoutbox, vietnamese):
    assert monthly_report_send(report=ready_report) is True
    assert monthly_report_send(report=ready_report) is False
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert sorted(message.to) == ["leader@example.vn", "monitor@example.vn"]
    assert message.subject == (
        "Báo cáo số 01/BC-STTTT: tình hình thực hiện nhiệm vụ chuyển đổi số tháng 06/2022"
    )
    (name, content, mimetype), (xlsx_name, xlsx, xlsx_type) = message.attachments
    assert mimetype == "application/pdf"
    assert name.endswith(".pdf") and "2022-06" in name and "so-01" in name
    assert content == default_storage.open(ready_report.pdf.name).read()
    assert xlsx_name == name.removesuffix(".pdf") + ".xlsx"
    assert xlsx == default_storage.open(ready_report.xlsx.name).read()
    assert xlsx_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert message.alternatives and message.alternatives[0][1] == "text/html"
    assert "/reports/" in message.body
    ready_report.refresh_from_db()
    assert ready_report.emailed_at is not None
    assert ready_report.emailed_to == "leader@example.vn, monitor@example.vn"
    assert ready_report.stage == ReportStage.SENT


def test_extra_recipients_and_the_scope_managers(
    june_task, agencies, fake_pdf, leader, manager, settings
):
    settings.REPORT_RECIPIENTS = ["vanphong@example.vn", "LEADER@example.vn"]
    scoped = monthly_report_generate(plan=june_task.plan, period=JUNE, scope=agencies["haihau"])
    assert monthly_report_recipients(report=scoped) == [
        "leader@example.vn",
        "manager@example.vn",
        "vanphong@example.vn",
    ]


def test_users_without_address_or_inactive_get_nothing(
    june_task, agencies, fake_pdf, mailoutbox, issue_report
):
    nobody = UserFactory(username="no_mail", email="")
    MembershipFactory(user=nobody, agency=agencies["province"], role=Role.LEADER)
    gone = UserFactory(username="gone", is_active=False)
    MembershipFactory(user=gone, agency=agencies["stttt"], role=Role.MONITOR)
    clerk = UserFactory(username="van_thu", email="")
    MembershipFactory(user=clerk, agency=agencies["stttt"], role=Role.MONITOR)
    report = monthly_report_generate(plan=june_task.plan, period=JUNE)
    report = issue_report(report, approver=nobody, clerk=clerk)
    assert monthly_report_send(report=report) is False
    assert mailoutbox == []
    report.refresh_from_db()
    assert report.emailed_at is None  # sent later, once someone has an address
    assert report.stage == ReportStage.ISSUED


def test_staff_whose_membership_ended_are_not_recipients(june_task, fake_pdf, leader, agencies):
    moved = UserFactory(username="moved", email="moved@example.vn")
    MembershipFactory(
        user=moved,
        agency=agencies["stttt"],
        role=Role.MONITOR,
        valid_to=datetime.date(2025, 2, 28),
    )
    report = monthly_report_generate(plan=june_task.plan, period=JUNE)

    assert monthly_report_recipients(report=report) == ["leader@example.vn"]


def test_a_mail_error_puts_the_sending_back_for_the_retry(ready_report, mailoutbox, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("connection lost")

    with monkeypatch.context() as patch:
        patch.setattr(mail.EmailMessage, "send", refuse)
        with pytest.raises(smtplib.SMTPServerDisconnected):
            monthly_report_send(report=ready_report)
    ready_report.refresh_from_db()
    assert ready_report.emailed_at is None
    assert "connection lost" in ready_report.email_error
    assert monthly_report_send(report=ready_report) is True
    assert len(mailoutbox) == 1


def test_a_report_that_is_not_ready_is_not_sent(june_task, mailoutbox, leader):
    report = MonthlyReport.objects.create(plan=june_task.plan, period=JUNE)
    assert monthly_report_send(report=report) is False
    assert mailoutbox == []


def test_the_peoples_committee_kind_is_signed_by_the_chair(agencies):
    from reports.services import _signature

    assert agencies["haihau"].kind == AgencyKind.UBND
    assert _signature(agencies["haihau"])["authority"] in ("p.p. THE CHAIRMAN", "KT. CHỦ TỊCH")


# --- Two workers at once (PostgreSQL: real row locks and two connections) --------------------


def _at_once(*calls):
    """Run the calls in two threads released together; return (results, errors)."""
    import threading

    from django.db import connections

    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        try:
            barrier.wait(timeout=10)
            results.append(call())
        except Exception as exc:  # reported to the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def _slow_renderer(monkeypatch) -> list[str]:
    """Put a stand-in renderer slow enough for two renderings to overlap; returns the list
    of HTML strings rendered."""
    import time

    from reports.pdf import RenderedPdf

    rendered = []

    def render(html):
        rendered.append(html)
        time.sleep(0.5)
        return RenderedPdf(content=b"%PDF-1.7\n% slow stand-in\n", pages=1)

    monkeypatch.setattr("reports.pdf.render_pdf", render)
    return rendered


@pytest.fixture
def slow_pdf(monkeypatch):
    """A stand-in renderer slow enough for two generations to overlap."""
    return _slow_renderer(monkeypatch)


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_one_report_render_it_once(postgres_only, june_task, slow_pdf):
    plan = june_task.plan
    results, errors = _at_once(
        lambda: monthly_report_generate(plan=plan, period=JUNE),
        lambda: monthly_report_generate(plan=plan, period=JUNE),
    )
    assert errors == []
    assert len(slow_pdf) == 1
    report = MonthlyReport.objects.get()
    assert (report.status, report.stage, report.attempts) == (
        ReportStatus.READY,
        ReportStage.DRAFT,
        1,
    )


@pytest.mark.django_db(transaction=True)
def test_two_reports_issued_at_once_get_different_numbers(
    postgres_only, june_task, fake_pdf, leader, monitor, monkeypatch
):
    from reports.issuing import report_approve, report_issue

    plan = june_task.plan
    drafts = [
        report_approve(report=monthly_report_generate(plan=plan, period=month), user=leader)
        for month in (JUNE, D(2022, 5, 1))
    ]
    slow = _slow_renderer(monkeypatch)  # the two issues render their final files together
    results, errors = _at_once(
        *(lambda draft=draft: report_issue(report=draft, user=monitor) for draft in drafts)
    )
    assert errors == []
    assert len(slow) == 2
    assert sorted(MonthlyReport.objects.values_list("number", flat=True)) == [1, 2]
    assert set(MonthlyReport.objects.values_list("stage", flat=True)) == {ReportStage.ISSUED}
