"""The monthly report in the background and by hand: the beat entry, the fan-out, the
retry policy, one eager wiring test (two beat runs: one draft, no e-mail), and the
`generate_report` management command (drafts; sends only what was issued)."""

# ruff: noqa: F811

import datetime
import io
import smtplib

import pytest
from celery.schedules import crontab
from django.core.management import CommandError, call_command

from plan_tracker.celery import app
from reports.models import MonthlyReport, ReportStage, ReportStatus
from reports.tasks import (
    monthly_report_generate_task,
    monthly_report_send_task,
    monthly_reports_run_task,
)

# The fixtures shared by the monthly-report tests live in test_pdf.py (the conftest of this
# folder belongs to the dashboard): imported here, then named as test arguments.
from tests.factories import PlanFactory, PriorityAreaFactory, TaskFactory
from tests.reports.test_pdf import fake_pdf  # noqa: F401
from tests.smtp import smtp_server  # noqa: F401

D = datetime.date
ICT = datetime.timezone(datetime.timedelta(hours=7))
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _document_code(agencies):
    agencies["stttt"].doc_code = "STTTT"
    agencies["stttt"].save()


@pytest.fixture
def june_plan(make_task, leader, monitor):
    return make_task(code="T-1", due=D(2022, 6, 15)).plan


def test_the_beat_runs_the_monthly_report_at_six_on_the_first():
    entry = app.conf.beat_schedule["monthly-report"]
    assert entry["task"] == "reports.monthly_reports_run"
    assert entry["schedule"] == crontab(day_of_month=1, hour=6, minute=0)
    assert app.conf.timezone == "Asia/Ho_Chi_Minh"
    assert "reports.monthly_reports_run" in app.tasks


def test_the_fan_out_sends_one_task_per_plan_of_the_previous_month(
    june_plan, monkeypatch, time_machine
):
    sent = []
    monkeypatch.setattr(monthly_report_generate_task, "delay", lambda *args: sent.append(args))
    time_machine.move_to(datetime.datetime(2022, 7, 1, 6, 0, tzinfo=ICT), tick=False)
    assert monthly_reports_run_task() == 1
    assert sent == [(june_plan.pk, "2022-06-01")]
    # A month in which no plan runs fans out nothing.
    assert monthly_reports_run_task("2021-06") == 0


def test_only_transient_mail_errors_are_retried_with_capped_backoff():
    assert smtplib.SMTPException in monthly_report_send_task.autoretry_for
    assert ConnectionError in monthly_report_send_task.autoretry_for
    assert Exception not in monthly_report_send_task.autoretry_for
    assert monthly_report_send_task.max_retries == 6
    assert monthly_report_send_task.retry_backoff
    assert monthly_report_send_task.retry_backoff_max == 3600


def test_two_beat_runs_give_one_draft_and_no_mail(
    june_plan, fake_pdf, eager, mailoutbox, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(datetime.datetime(2022, 7, 1, 6, 0, tzinfo=ICT), tick=False)
    for _run in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            monthly_reports_run_task.delay()
    report = MonthlyReport.objects.get()
    assert (report.period, report.status, report.stage) == (
        D(2022, 6, 1),
        ReportStatus.READY,
        ReportStage.DRAFT,
    )
    assert report.number is None  # given by the văn thư at issue
    assert len(fake_pdf) == 1  # the second run found the draft ready
    # A draft waits for the leader and the văn thư: nothing is e-mailed.
    assert mailoutbox == []
    assert report.emailed_at is None


# --- The management command ------------------------------------------------------------------


def _command(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("generate_report", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_drafts_and_sends_only_once_issued(
    june_plan, fake_pdf, mailoutbox, leader, monitor, issue_report
):
    out, _err = _command("--month", "2022-06", "--plan", june_plan.code, "--send")
    report = MonthlyReport.objects.get()
    assert june_plan.code in out
    assert "/BC-STTTT" in out
    assert report.pdf.path in out
    assert report.stage == ReportStage.DRAFT
    assert "bản dự thảo chỉ được gửi sau khi ban hành" in out  # why nothing was sent
    assert mailoutbox == []
    # Run again, the draft is rendered again by hand; still nothing to send.
    _command("--month", "2022-06", "--send")  # every plan of the month
    assert len(fake_pdf) == 2
    assert mailoutbox == []

    issue_report(report, approver=leader, clerk=monitor)
    rendered = len(fake_pdf)
    out, _err = _command("--month", "2022-06", "--send")
    report = MonthlyReport.objects.get()
    assert "01/BC-STTTT" in out
    assert len(fake_pdf) == rendered  # an issued report's files are final
    assert len(mailoutbox) == 1
    assert report.stage == ReportStage.SENT
    _command("--month", "2022-06", "--send")
    assert len(mailoutbox) == 1  # sent once
    assert MonthlyReport.objects.count() == 1


def test_the_command_reports_on_one_agency(june_plan, agencies, fake_pdf):
    _command("--month", "2022-06", "--scope", agencies["haihau"].code)
    assert MonthlyReport.objects.get().scope == agencies["haihau"]


@pytest.mark.parametrize(
    "args",
    [
        ("--month", "2022-13"),
        ("--month", "June"),
        ("--month", "2022-06", "--plan", "NO-SUCH-PLAN"),
        ("--month", "2022-06", "--scope", "NO-SUCH-AGENCY"),
        ("--month", "2021-06"),  # no plan runs then
        ("--month", "2030-01"),
    ],
)
def test_bad_input_stops_the_command_before_anything_is_written(june_plan, fake_pdf, args):
    with pytest.raises(CommandError):
        _command(*args)
    assert not MonthlyReport.objects.exists()


def test_a_month_not_over_yet_is_refused(june_plan, fake_pdf, time_machine):
    time_machine.move_to(datetime.datetime(2022, 6, 20, tzinfo=ICT))
    with pytest.raises(CommandError):
        _command("--month", "2022-06", "--plan", june_plan.code)
    assert not MonthlyReport.objects.exists()


def test_the_command_exits_non_zero_when_a_report_fails(june_plan, monkeypatch):
    def broken(html):
        raise RuntimeError("renderer broken")

    monkeypatch.setattr("reports.pdf.render_pdf", broken)
    with pytest.raises(CommandError):
        _command("--month", "2022-06")
    assert MonthlyReport.objects.get().status == ReportStatus.FAILED


# --- Exit status and summary (issue 16), through a real SMTP exchange -----------------------


@pytest.fixture
def two_issued_reports(june_plan, agencies, fake_pdf, leader, monitor, issue_report):
    """June 2022 issued for the test plan and for a second plan, each mailed to its own
    address."""
    second = PlanFactory(
        code="CDS-TEST-2", issuing_agency=agencies["province"], monitor_agency=agencies["stttt"]
    )
    TaskFactory(
        priority_area=PriorityAreaFactory(plan=second),
        lead_agency=agencies["haihau"],
        due=D(2022, 6, 15),
        original_due=D(2022, 6, 15),
    )
    _command("--month", "2022-06")
    reports = {}
    for report, address in zip(
        MonthlyReport.objects.order_by("plan__code"),
        ["first@example.vn", "second@example.vn"],
        strict=True,
    ):
        report.recipients = address
        report.save(update_fields=["recipients"])
        reports[address] = issue_report(report, approver=leader, clerk=monitor)
    return reports


def test_a_refused_report_mail_exits_non_zero_after_the_summary(two_issued_reports, smtp_server):
    smtp_server.refused.add("first@example.vn")
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("generate_report", "--month", "2022-06", "--send", stdout=out, stderr=err)
    assert failure.value.returncode == 1
    assert "1 trên 2 báo cáo" in str(failure.value)
    assert "SMTPRecipientsRefused" in err.getvalue()
    assert out.getvalue().splitlines()[-1] == (
        "Tóm tắt: 0 báo cáo đã lập, 1 đã gửi thư, 0 không gửi thư, 1 lỗi."
    )
    # The other plan's report still went out; the refused one waits with its error.
    assert [to for to, _message in smtp_server.received] == [["second@example.vn"]]
    first = MonthlyReport.objects.get(pk=two_issued_reports["first@example.vn"].pk)
    assert first.stage == ReportStage.ISSUED and first.emailed_at is None
    assert "SMTPRecipientsRefused" in first.email_error


def test_when_every_report_mail_goes_out_the_exit_is_zero(two_issued_reports, smtp_server):
    out, _err = _command("--month", "2022-06", "--send")  # raises on a non-zero exit
    assert out.splitlines()[-1] == (
        "Tóm tắt: 0 báo cáo đã lập, 2 đã gửi thư, 0 không gửi thư, 0 lỗi."
    )
    assert sorted(to[0] for to, _message in smtp_server.received) == [
        "first@example.vn",
        "second@example.vn",
    ]
    # Run again: both were sent, so nothing is mailed and nothing failed.
    out, _err = _command("--month", "2022-06", "--send")
    assert out.splitlines()[-1] == (
        "Tóm tắt: 0 báo cáo đã lập, 0 đã gửi thư, 2 không gửi thư, 0 lỗi."
    )
    assert len(smtp_server.received) == 2


def test_drafts_are_counted_as_generated_and_not_e_mailed(june_plan, fake_pdf, smtp_server):
    out, _err = _command("--month", "2022-06", "--send")
    assert out.splitlines()[-1] == (
        "Tóm tắt: 1 báo cáo đã lập, 0 đã gửi thư, 1 không gửi thư, 0 lỗi."
    )
    assert smtp_server.received == []
