"""The monthly report on its way out of the office (reports/issuing.py): a draft whose
narrative the specialist edits (earlier versions kept), approved by the leader or the head
of the agency, issued by the văn thư with a number from the agency's register for the year
and a date, sent once; a stale page is refused, an issued report is final, a correction is
a new report that replaces it.

The report of 11/2026 of the test plan: drafted on 01/12/2026, approved on 14/12, issued on
15/12/2026. WeasyPrint renders for real where the PDF's text matters (read back with
pdftotext); elsewhere `fake_pdf` stands in, and the tests read the HTML it was given.
"""

# ruff: noqa: F811

import datetime
import re
import shutil
import subprocess

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage

from reports.issuing import (
    StaleReportError,
    report_approve,
    report_correct,
    report_issue,
    report_narrative_save,
    report_send,
)
from reports.models import MonthlyReport, ReportRevision, ReportStage, ReportStatus
from reports.services import (
    ReportError,
    monthly_report_create,
    monthly_report_generate,
    monthly_report_rerender,
    monthly_report_send,
)
from reports.tasks import monthly_report_regenerate_task
from tasks_app.choices import Role, TaskState
from tasks_app.models import StatusUpdate
from tests.factories import MembershipFactory, UserFactory

# The fixtures shared by the monthly-report tests live in test_pdf.py.
from tests.reports.test_pdf import fake_pdf, vietnamese  # noqa: F401

D = datetime.date
ICT = datetime.timezone(datetime.timedelta(hours=7))
NOVEMBER = D(2026, 11, 1)
DRAFTED = datetime.datetime(2026, 12, 1, 6, 0, tzinfo=ICT)  # the beat's run
APPROVED = datetime.datetime(2026, 12, 14, 9, 0, tzinfo=ICT)
ISSUED = datetime.datetime(2026, 12, 15, 10, 0, tzinfo=ICT)
pytestmark = pytest.mark.django_db

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler")


@pytest.fixture(autouse=True)
def _document_codes(agencies):
    """Sở TT&TT numbers its reports …/BC-STTTT, the People's Committees …/BC-UBND."""
    for code, doc_code in (("stttt", "STTTT"), ("haihau", "UBND"), ("haitrung", "UBND")):
        agencies[code].doc_code = doc_code
        agencies[code].save()


@pytest.fixture
def plan_2026(plan):
    plan.period_start, plan.period_end = D(2026, 1, 1), D(2026, 12, 31)
    plan.save()
    return plan


@pytest.fixture
def november(plan_2026, make_task, agencies, leader, monitor, manager, time_machine):
    """The plan's November 2026: a Hải Hậu task with the month's updates, a Hải Trung task;
    the clock on 01/12/2026 06:00, when the beat drafts the report."""
    tz = datetime.timezone(datetime.timedelta(hours=7))
    district = make_task(
        code="T-1", title="Số hóa hồ sơ một cửa", assigned_on=D(2026, 1, 1), due=D(2026, 12, 20)
    )
    commune = make_task(
        code="T-2",
        title="Lắp đặt wifi công cộng",
        assigned_on=D(2026, 1, 1),
        due=D(2026, 11, 20),
        lead_agency=agencies["haitrung"],
    )
    for task, day, fields in (
        (district, 5, {"result": "Đã số hóa 40% hồ sơ"}),
        (
            district,
            25,
            {
                "result": "Đã số hóa 70% hồ sơ",
                "difficulties": "Thiếu máy quét tại bộ phận một cửa",
                "proposals": "Đề nghị bổ sung 02 máy quét",
            },
        ),
        (commune, 10, {"result": "Đã lắp 3 điểm", "difficulties": "Chưa có kinh phí"}),
    ):
        StatusUpdate.objects.create(
            task=task,
            agency=task.lead_agency,
            recorded_at=datetime.datetime(2026, 11, day, 9, 0, tzinfo=tz),
            state=TaskState.IN_PROGRESS,
            progress=50,
            **fields,
        )
    time_machine.move_to(DRAFTED, tick=False)
    return plan_2026


@pytest.fixture
def commune_officer(agencies):
    user = UserFactory(username="commune_officer")
    MembershipFactory(user=user, agency=agencies["haitrung"], role=Role.OFFICER)
    return user


def _draft(plan, scope=None) -> MonthlyReport:
    return monthly_report_generate(plan=plan, period=NOVEMBER, scope=scope)


def _approved(report, user, time_machine) -> MonthlyReport:
    time_machine.move_to(APPROVED, tick=False)
    return report_approve(report=report, user=user)


def _pdf_text(report: MonthlyReport) -> str:
    with default_storage.open(report.pdf.name, "rb") as file:
        content = file.read()
    assert content.startswith(b"%PDF")
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


def _worker(report: MonthlyReport, callbacks) -> MonthlyReport:
    """What the worker does with the regeneration asked after the commit: the task body."""
    assert callbacks  # a regeneration was asked for, after the commit
    monthly_report_regenerate_task(report.pk)
    return MonthlyReport.objects.get(pk=report.pk)


# --- The draft and the issued document, rendered for real -----------------------------------


@needs_poppler
@pytest.mark.pdf
def test_the_draft_leaves_number_and_date_blank_and_the_issue_fills_them(
    november, leader, monitor, vietnamese, time_machine
):
    draft = _draft(november)
    assert (draft.stage, draft.number, draft.issued_on) == (ReportStage.DRAFT, None, None)
    text = _pdf_text(draft)
    assert "DỰ THẢO" in text
    assert re.search(r"Số:\s+/BC-STTTT", text)
    assert "Nam Định, ngày … tháng … năm …" in text

    approved = _approved(draft, leader, time_machine)
    time_machine.move_to(ISSUED, tick=False)
    issued = report_issue(report=approved, user=monitor, number=37, date=D(2026, 12, 15))
    assert (issued.stage, issued.year, issued.number) == (ReportStage.ISSUED, 2026, 37)
    assert issued.issued_on == D(2026, 12, 15)
    assert issued.issued_by == monitor
    text = _pdf_text(issued)
    assert "Số: 37/BC-STTTT" in text
    assert "Nam Định, ngày 15 tháng 12 năm 2026" in text
    assert "DỰ THẢO" not in text
    # The stored files are the issued ones; the draft's are gone after the commit.
    assert issued.pdf.name != draft.pdf.name
    assert issued.xlsx.name != draft.xlsx.name


@needs_poppler
@pytest.mark.pdf
def test_the_date_line_follows_decree_30_at_issue(
    november, leader, monitor, vietnamese, time_machine
):
    """A day below 10 and the months January and February take a leading zero."""
    approved = _approved(_draft(november), leader, time_machine)
    time_machine.move_to(datetime.datetime(2027, 2, 3, 9, 0, tzinfo=ICT), tick=False)
    issued = report_issue(report=approved, user=monitor)
    assert (issued.year, issued.number, issued.issued_on) == (2027, 1, D(2027, 2, 3))
    text = _pdf_text(issued)
    assert "Số: 01/BC-STTTT" in text
    assert "Nam Định, ngày 03 tháng 02 năm 2027" in text


# --- 1. The narrative -----------------------------------------------------------------------


def test_the_draft_starts_from_the_months_updates_under_each_agency(november, fake_pdf):
    draft = _draft(november)
    assert draft.issuer.code == "STTTT"
    assessment = draft.assessment.splitlines()
    assert assessment[0] == (
        "Trong tháng 11/2026, 2 cơ quan, đơn vị đã báo cáo tiến độ thực hiện 2 nhiệm vụ."
    )
    # Each agency's latest result of the month, quoted under its name.
    at = assessment.index("UBND huyện Hải Hậu:")
    assert assessment[at + 1] == "- T-1: “Đã số hóa 70% hồ sơ”"
    assert "- T-2: “Đã lắp 3 điểm”" in assessment
    # Difficulties and proposals, quoted under the agency's name with the task.
    assert draft.difficulties.splitlines() == [
        "UBND huyện Hải Hậu:",
        "- Khó khăn (T-1): “Thiếu máy quét tại bộ phận một cửa”",
        "- Đề xuất (T-1): “Đề nghị bổ sung 02 máy quét”",
        "Xã Hải Trung:",
        "- Khó khăn (T-2): “Chưa có kinh phí”",
    ]
    # The tasks due next month, to concentrate on.
    assert draft.next_focus == (
        "Tập trung hoàn thành 1 nhiệm vụ đến hạn trong tháng 12/2026, danh sách dưới đây."
    )
    assert draft.distribution.splitlines()[-1].startswith("Lưu: VT")
    assert sorted(draft.recipients.splitlines()) == ["leader@example.vn", "monitor@example.vn"]
    # The draft prints it: the agencies' names head their quoted lines.
    html = fake_pdf[-1]
    assert '<p class="narrative-head">UBND huyện Hải Hậu:</p>' in html
    assert "- Khó khăn (T-1): “Thiếu máy quét tại bộ phận một cửa”" in html


def test_editing_the_narrative_keeps_the_earlier_version(
    november, monitor, leader, fake_pdf, django_capture_on_commit_callbacks, time_machine
):
    draft = _draft(november)
    prefilled, version = draft.assessment, draft.version
    with django_capture_on_commit_callbacks() as callbacks:
        edited = report_narrative_save(
            report=draft,
            user=monitor,
            expected_version=version,
            assessment="Tháng 11, các nhiệm vụ cơ bản đúng tiến độ.",
            signer_name="Trần Văn B",
        )
    assert edited.version == version + 1
    assert (edited.edited_by, edited.assessment) == (
        monitor,
        "Tháng 11, các nhiệm vụ cơ bản đúng tiến độ.",
    )
    (kept,) = ReportRevision.objects.filter(report=draft)
    assert (kept.version, kept.assessment) == (version, prefilled)
    assert kept.difficulties == draft.difficulties
    # The draft is rendered again by the worker, with the new text.
    rendered = _worker(edited, callbacks)
    assert rendered.status == ReportStatus.READY
    assert "Tháng 11, các nhiệm vụ cơ bản đúng tiến độ." in fake_pdf[-1]
    assert "Trần Văn B" in fake_pdf[-1]

    # Saving the same text again changes nothing.
    same = report_narrative_save(
        report=rendered,
        user=monitor,
        expected_version=rendered.version,
        assessment="Tháng 11, các nhiệm vụ cơ bản đúng tiến độ.",
    )
    assert same.version == rendered.version
    assert ReportRevision.objects.filter(report=draft).count() == 1

    # An approved draft that is edited goes back to the leader.
    approved = _approved(rendered, leader, time_machine)
    assert approved.stage == ReportStage.APPROVED
    back = report_narrative_save(
        report=approved,
        user=monitor,
        expected_version=approved.version,
        next_focus="Hoàn thành số hóa hồ sơ trong tháng 12.",
    )
    assert (back.stage, back.approved_by, back.approved_at) == (ReportStage.DRAFT, None, None)
    assert back.version == approved.version + 1
    kept = ReportRevision.objects.filter(report=draft)
    assert list(kept.values_list("version", flat=True)) == [approved.version, version]


def test_only_the_editable_fields_are_saved(november, monitor, fake_pdf):
    draft = _draft(november)
    with pytest.raises(ValidationError) as refused:
        report_narrative_save(
            report=draft, user=monitor, expected_version=draft.version, number="99"
        )
    assert "number" in refused.value.error_dict
    draft.refresh_from_db()
    assert draft.number is None


# --- 2. Approval ----------------------------------------------------------------------------


def test_only_a_leader_or_the_head_of_the_agency_approves(
    november, monitor, officer, leader, agencies, fake_pdf
):
    draft = _draft(november)
    for user in (monitor, officer):
        with pytest.raises(PermissionDenied):
            report_approve(report=draft, user=user)
    draft.refresh_from_db()
    assert (draft.stage, draft.approved_by) == (ReportStage.DRAFT, None)
    # The director of Sở TT&TT, whose document the whole-plan report is, may approve it.
    director = UserFactory(username="giamdoc")
    MembershipFactory(user=director, agency=agencies["stttt"], role=Role.MANAGER)
    approved = report_approve(report=draft, user=director, expected_version=draft.version)
    assert (approved.stage, approved.approved_by) == (ReportStage.APPROVED, director)
    assert approved.version == draft.version + 1
    # Approved once: a second approval is not a step any more.
    with pytest.raises(ReportError):
        report_approve(report=approved, user=leader)


def test_a_draft_being_rendered_is_not_approved(november, leader, fake_pdf):
    draft = _draft(november)
    MonthlyReport.objects.filter(pk=draft.pk).update(status=ReportStatus.GENERATING)
    with pytest.raises(ReportError):
        report_approve(report=draft, user=leader)
    draft.refresh_from_db()
    assert draft.stage == ReportStage.DRAFT


# --- 3. Issue -------------------------------------------------------------------------------


def test_the_register_gives_the_numbers_of_the_year(
    november, leader, monitor, fake_pdf, time_machine
):
    november_report = _draft(november)
    october = monthly_report_generate(plan=november, period=D(2026, 10, 1))
    november_report = _approved(november_report, leader, time_machine)
    october = report_approve(report=october, user=leader)
    time_machine.move_to(ISSUED, tick=False)

    # The văn thư types the number the office's register is at.
    issued = report_issue(report=november_report, user=monitor, number=37)
    assert (issued.number, issued.year, issued.issued_on) == (37, 2026, D(2026, 12, 15))

    # A number already in the register is refused, and nothing changes.
    before = MonthlyReport.objects.get(pk=october.pk)
    with pytest.raises(ValidationError) as refused:
        report_issue(report=october, user=monitor, number=37)
    assert list(refused.value.error_dict) == ["number"]
    assert "37/BC-STTTT" in refused.value.error_dict["number"][0].message
    after = MonthlyReport.objects.get(pk=october.pk)
    assert (after.stage, after.number, after.year, after.issued_on) == (
        ReportStage.APPROVED,
        None,
        None,
        None,
    )
    assert (after.version, after.pdf.name, after.sha256) == (
        before.version,
        before.pdf.name,
        before.sha256,
    )

    # Left to the register, the next issue takes the next number.
    issued = report_issue(report=october, user=monitor)
    assert (issued.number, issued.year) == (38, 2026)


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (D(2026, 12, 13), "earlier than the approval (14/12/2026)"),
        (D(2026, 12, 16), "later than today"),
    ],
)
def test_a_date_before_the_approval_or_after_today_is_refused(
    november, leader, monitor, fake_pdf, time_machine, day, message
):
    approved = _approved(_draft(november), leader, time_machine)
    time_machine.move_to(ISSUED, tick=False)
    with pytest.raises(ValidationError) as refused:
        report_issue(report=approved, user=monitor, number=37, date=day)
    assert list(refused.value.error_dict) == ["date"]
    approved.refresh_from_db()
    assert (approved.stage, approved.number, approved.issued_on) == (
        ReportStage.APPROVED,
        None,
        None,
    )
    # The day of the approval and today are both fine.
    assert report_issue(report=approved, user=monitor, date=D(2026, 12, 14)).issued_on == D(
        2026, 12, 14
    )


def test_a_draft_not_approved_is_not_issued(november, monitor, fake_pdf):
    draft = _draft(november)
    with pytest.raises(ReportError):
        report_issue(report=draft, user=monitor)
    draft.refresh_from_db()
    assert (draft.stage, draft.number) == (ReportStage.DRAFT, None)


def test_an_issued_report_is_final(
    november, leader, monitor, fake_pdf, time_machine, django_capture_on_commit_callbacks
):
    approved = _approved(_draft(november), leader, time_machine)
    time_machine.move_to(ISSUED, tick=False)
    # A worker that read the draft before it was issued.
    old_copy = MonthlyReport.objects.get(pk=approved.pk)
    issued = report_issue(report=approved, user=monitor, number=37)
    rendered = len(fake_pdf)

    with pytest.raises(ReportError, match="37/BC-STTTT"):
        report_issue(report=issued, user=monitor)
    with pytest.raises(ReportError):
        report_narrative_save(
            report=issued, user=monitor, expected_version=issued.version, assessment="Sửa."
        )
    with pytest.raises(ReportError):
        monthly_report_generate(plan=november, period=NOVEMBER)
    with pytest.raises(ReportError):
        monthly_report_rerender(report=issued)
    with pytest.raises(ReportError):
        monthly_report_rerender(report=old_copy)
    assert monthly_report_regenerate_task(issued.pk) == ReportStatus.READY
    # Nothing was rendered, nothing moved.
    assert len(fake_pdf) == rendered
    now = MonthlyReport.objects.get(pk=issued.pk)
    assert (now.stage, now.status, now.number) == (ReportStage.ISSUED, ReportStatus.READY, 37)
    assert (now.pdf.name, now.sha256, now.version) == (
        issued.pdf.name,
        issued.sha256,
        issued.version,
    )
    assert default_storage.exists(now.pdf.name)


# --- 4. Send --------------------------------------------------------------------------------


def test_the_issued_report_is_sent_once_to_its_recipients(
    november, leader, monitor, fake_pdf, mailoutbox, time_machine
):
    draft = _draft(november)
    draft = report_narrative_save(
        report=draft,
        user=monitor,
        expected_version=draft.version,
        recipients="vanphong@example.vn\nleader@example.vn; VANPHONG@example.vn",
    )
    with pytest.raises(ReportError):
        report_send(report=draft, user=monitor)  # a draft is not sent
    assert mailoutbox == []

    approved = _approved(draft, leader, time_machine)
    time_machine.move_to(ISSUED, tick=False)
    issued = report_issue(report=approved, user=monitor, number=37)
    assert report_send(report=issued, user=monitor, expected_version=issued.version) is True
    (message,) = mailoutbox
    assert message.to == ["vanphong@example.vn", "leader@example.vn"]
    assert "37/BC-STTTT" in message.subject
    (pdf_name, pdf, pdf_type), (xlsx_name, xlsx, _xlsx_type) = message.attachments
    assert (pdf_type, pdf_name.endswith(".pdf"), xlsx_name.endswith(".xlsx")) == (
        "application/pdf",
        True,
        True,
    )
    assert pdf == default_storage.open(issued.pdf.name).read()
    assert xlsx == default_storage.open(issued.xlsx.name).read()
    sent = MonthlyReport.objects.get(pk=issued.pk)
    assert (sent.stage, sent.sent_by) == (ReportStage.SENT, monitor)
    assert sent.emailed_to == "vanphong@example.vn, leader@example.vn"
    assert sent.emailed_at is not None

    # Sent once: a second send is refused and sends nothing.
    with pytest.raises(ReportError):
        report_send(report=sent, user=monitor)
    assert monthly_report_send(report=sent) is False
    assert len(mailoutbox) == 1


def test_only_the_agencys_staff_send(november, leader, monitor, outsider, fake_pdf, time_machine):
    approved = _approved(_draft(november), leader, time_machine)
    time_machine.move_to(ISSUED, tick=False)
    issued = report_issue(report=approved, user=monitor)
    for user in (leader, outsider):
        with pytest.raises(PermissionDenied):
            report_send(report=issued, user=user)


# --- Stale pages ----------------------------------------------------------------------------


def test_a_step_sent_from_an_older_page_is_refused(november, monitor, leader, fake_pdf):
    draft = _draft(november)
    read = draft.version
    edited = report_narrative_save(
        report=draft, user=monitor, expected_version=read, assessment="Bản của người thứ nhất."
    )
    # A second person saves from the page read before the first one's save.
    with pytest.raises(StaleReportError) as stale:
        report_narrative_save(
            report=draft, user=monitor, expected_version=read, assessment="Bản của người thứ hai."
        )
    assert stale.value.report.version == edited.version
    with pytest.raises(StaleReportError):
        report_approve(report=draft, user=leader, expected_version=read)
    now = MonthlyReport.objects.get(pk=draft.pk)
    assert (now.assessment, now.stage, now.version) == (
        "Bản của người thứ nhất.",
        ReportStage.DRAFT,
        edited.version,
    )
    now = monthly_report_rerender(report=now)  # the worker renders the saved text
    approved = report_approve(report=now, user=leader, expected_version=now.version)
    with pytest.raises(StaleReportError):
        report_issue(report=approved, user=monitor, expected_version=now.version)
    assert MonthlyReport.objects.get(pk=draft.pk).stage == ReportStage.APPROVED


# --- Corrections ----------------------------------------------------------------------------


@needs_poppler
@pytest.mark.pdf
def test_a_correction_is_a_new_report_that_replaces_the_issued_one(
    november, leader, monitor, vietnamese, time_machine, django_capture_on_commit_callbacks
):
    draft = _draft(november)
    with pytest.raises(ReportError):
        report_correct(report=draft, user=monitor)  # a draft is edited, not corrected
    approved = _approved(draft, leader, time_machine)
    time_machine.move_to(ISSUED, tick=False)
    issued = report_issue(report=approved, user=monitor, number=37)

    time_machine.move_to(datetime.datetime(2026, 12, 18, 9, 0, tzinfo=ICT), tick=False)
    with django_capture_on_commit_callbacks() as callbacks:
        correction = report_correct(report=issued, user=monitor)
    assert correction.pk != issued.pk
    assert (correction.replaces, correction.stage, correction.number) == (
        issued,
        ReportStage.DRAFT,
        None,
    )
    assert (correction.plan, correction.period, correction.scope) == (november, NOVEMBER, None)
    assert correction.assessment == issued.assessment  # the text to start from
    assert report_correct(report=issued, user=monitor) == correction  # one correction
    correction = _worker(correction, callbacks)
    text = _pdf_text(correction)
    assert "DỰ THẢO" in text
    assert "Thay thế Báo cáo số 37/BC-STTTT ngày 15/12/2026" in " ".join(text.split())

    # Asking for the month's report again finds the original, not the correction.
    found, created = monthly_report_create(plan=november, period=NOVEMBER)
    assert (found, created) == (issued, False)

    # Issued, the correction takes the next number; the original stays as it was issued.
    correction = report_approve(report=correction, user=leader)
    correction = report_issue(report=correction, user=monitor)
    assert (correction.number, correction.issued_on) == (38, D(2026, 12, 18))
    text = _pdf_text(correction)
    assert "Số: 38/BC-STTTT" in text
    assert "Thay thế Báo cáo số 37/BC-STTTT ngày 15/12/2026" in " ".join(text.split())
    original = MonthlyReport.objects.get(pk=issued.pk)
    assert (original.stage, original.number, original.sha256) == (
        ReportStage.ISSUED,
        37,
        issued.sha256,
    )


# --- An agency's own report -----------------------------------------------------------------


def test_an_agencys_own_report_has_its_header_its_head_and_its_register(
    november,
    agencies,
    leader,
    monitor,
    manager,
    outsider,
    commune_manager,
    commune_officer,
    fake_pdf,
    vietnamese,
    time_machine,
):
    haitrung = agencies["haitrung"]
    whole = _draft(november)
    commune = _draft(november, scope=haitrung)
    assert commune.issuer == haitrung
    # Its narrative speaks of its own tasks only.
    assert commune.difficulties.splitlines() == [
        "Xã Hải Trung:",
        "- Khó khăn (T-2): “Chưa có kinh phí”",
    ]
    assert "T-1" not in commune.assessment
    html = fake_pdf[-1]
    assert '<div class="draft-mark">DỰ THẢO</div>' in html
    assert "ỦY BAN NHÂN DÂN<br>XÃ HẢI TRUNG" in html
    assert "Hải Trung, ngày … tháng … năm …" in html

    # The commune's head approves it; the Sở's monitor and the district's head may not.
    for user in (monitor, manager, outsider):
        with pytest.raises(PermissionDenied):
            report_approve(report=commune, user=user)
    # Another agency's staff may not edit or issue it either.
    with pytest.raises(PermissionDenied):
        report_narrative_save(
            report=commune, user=outsider, expected_version=commune.version, assessment="x"
        )
    commune = _approved(commune, commune_manager, time_machine)
    with pytest.raises(PermissionDenied):
        report_issue(report=commune, user=outsider)

    # The Sở's register is at 37; the commune's own register starts at 01.
    whole = report_approve(report=whole, user=leader)
    time_machine.move_to(ISSUED, tick=False)
    report_issue(report=whole, user=monitor, number=37)
    commune = report_issue(report=commune, user=commune_officer)
    assert (commune.issuer, commune.year, commune.number) == (haitrung, 2026, 1)
    html = fake_pdf[-1]
    assert "Số: 01/BC-UBND" in html
    assert "Hải Trung, ngày 15 tháng 12 năm 2026" in html
    assert 'class="draft-mark"' not in html
    # Both registers go on independently.
    october = monthly_report_generate(plan=november, period=D(2026, 10, 1), scope=haitrung)
    october = report_approve(report=october, user=commune_manager)
    assert report_issue(report=october, user=commune_officer).number == 2
