"""The monthly report on its way out of the office: draft → approved → issued → sent.

A Vietnamese office issues a báo cáo in steps, each by its own person, and so does this:

1. DRAFT: made by the job on the 1st (or the button): "DỰ THẢO", number and date blank,
   figures as of the end of the month (reports/services.py, monthly_report_generate). Its
   narrative starts from the month's status updates; the specialist edits it
   (`report_narrative_save`): each save keeps the earlier version (ReportRevision) and
   renders the draft again.
2. APPROVED by the leader, or the head of the agency whose report it is (`report_approve`).
3. ISSUED by the văn thư (`report_issue`): the number is the next free one of the issuing
   agency's register of báo cáo for the year, or one typed (unique in the register); the
   date is today or a typed date, no earlier than the approval. The final PDF and Excel
   are rendered once, the PDF signed with the agency's certificate when one is set up
   (reports/signing.py); rendering an issued report again is refused.
4. SENT once, to the report's recipients, with the signed PDF and the Excel file
   (services.monthly_report_send, through `report_send`).

A correction is a new draft that replaces an issued report (`report_correct`). Who may do
each step is decided in tasks_app/permissions.py; every step records who and when, and
raises the row's `version`, so a form or API call sent from an older page is refused
(StaleReportError) instead of overwriting what another person did.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.models import MonthlyReport, ReportRevision, ReportStage, ReportStatus
from reports.numbering import document_number
from reports.services import (
    ReportError,
    _delete_files,
    final_report_refused,
    monthly_report_render_pdf,
    monthly_report_request,
    monthly_report_send,
    recipient_addresses,
    report_files_write,
)
from reports.signals import report_issued
from tasks_app.models import Agency
from tasks_app.permissions import can_approve_report, can_prepare_report

logger = logging.getLogger(__name__)

# The narrative and the lists a specialist edits on a draft.
NARRATIVE_FIELDS = ("assessment", "difficulties", "next_focus", "distribution")
EDITABLE_FIELDS = (*NARRATIVE_FIELDS, "recipients", "signer_name")


class StaleReportError(Exception):
    """The report changed since the page or call that sent this step was read."""

    def __init__(self, report: MonthlyReport):
        super().__init__(_("Someone else changed this report meanwhile."))
        self.report = report


def _locked(report: MonthlyReport, expected_version: int | None) -> MonthlyReport:
    """The row, locked for the step; StaleReportError when it moved past the version the
    caller read (None: the caller did not read one, e.g. a job)."""
    # Only the report's row is locked: PostgreSQL refuses FOR UPDATE on the nullable side
    # of the outer join that the issuer (a nullable foreign key) is read through.
    current = (
        MonthlyReport.objects.select_for_update(of=("self",))
        .select_related("issuer")
        .get(pk=report.pk)
    )
    if expected_version is not None and current.version != expected_version:
        raise StaleReportError(current)
    return current


def _is_email(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def _step_refused(report: MonthlyReport, allowed: tuple[str, ...]) -> ReportError | None:
    if report.stage in allowed:
        return None
    if report.is_final:
        return final_report_refused(report)
    return ReportError(
        _("This step is not possible now: the report is {stage}.").format(
            stage=report.get_stage_display().lower()
        )
    )


# --- 1. The narrative ---------------------------------------------------------------------------


def report_narrative_save(
    *, report: MonthlyReport, user, expected_version: int | None, **fields: str
) -> MonthlyReport:
    """Save the specialist's narrative, Nơi nhận, e-mail recipients and signer's name.

    The version it replaces is kept (ReportRevision, with who wrote it and when); the
    draft is rendered again in the background. An approved draft that is edited goes back
    to DRAFT: the leader approves what is issued. Nothing changed: nothing is written.
    PermissionDenied, StaleReportError, ReportError (issued) or ValidationError (an
    unknown field)."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({name: _("This field cannot be edited.") for name in unknown})
    bad = [a for a in recipient_addresses(fields.get("recipients", "")) if not _is_email(a)]
    if bad:
        raise ValidationError(
            {
                "recipients": _("Not an e-mail address: {addresses}.").format(
                    addresses=", ".join(bad)
                )
            }
        )
    if not can_prepare_report(user, report):
        raise PermissionDenied(_("You may not edit this report."))
    with transaction.atomic():
        current = _locked(report, expected_version)
        refused = _step_refused(current, (ReportStage.DRAFT, ReportStage.APPROVED))
        if refused:
            raise refused
        changed = {
            name: value.strip()
            for name, value in fields.items()
            if value.strip() != getattr(current, name)
        }
        if not changed:
            return current
        if any(name in NARRATIVE_FIELDS for name in changed):
            ReportRevision.objects.create(
                report=current,
                version=current.version,
                written_by=current.edited_by or current.drafted_by,
                written_at=current.edited_at or current.created_at,
                **{name: getattr(current, name) for name in NARRATIVE_FIELDS},
            )
        for name, value in changed.items():
            setattr(current, name, value)
        current.edited_by, current.edited_at = user, timezone.now()
        current.version += 1
        update = [*changed, "edited_by", "edited_at", "version"]
        if current.stage == ReportStage.APPROVED:
            current.stage, current.approved_by, current.approved_at = ReportStage.DRAFT, None, None
            update += ["stage", "approved_by", "approved_at"]
        current.save(update_fields=update)
        if set(changed) - {"recipients"}:  # the e-mail addresses are not printed
            monthly_report_request(report=current)
    return current


# --- 2. Approval --------------------------------------------------------------------------------


def report_approve(
    *,
    report: MonthlyReport,
    user,
    expected_version: int | None = None,
    at: datetime.datetime | None = None,
) -> MonthlyReport:
    """The leader (or the head of the agency) approves the draft as rendered last. `at`
    (default now) records an approval given earlier on paper."""
    if not can_approve_report(user, report):
        raise PermissionDenied(_("Only a leader or the head of the agency approves this report."))
    with transaction.atomic():
        current = _locked(report, expected_version)
        refused = _step_refused(current, (ReportStage.DRAFT,))
        if refused:
            raise refused
        if current.status != ReportStatus.READY:
            raise ReportError(_("The draft is being rendered: approve it once its PDF is ready."))
        current.stage = ReportStage.APPROVED
        current.approved_by, current.approved_at = user, at or timezone.now()
        current.version += 1
        current.save(update_fields=["stage", "approved_by", "approved_at", "version"])
    return current


# --- 3. Issue -----------------------------------------------------------------------------------


def register_next_number(*, issuer_id: int, year: int) -> int:
    """The next free number of the issuing agency's register of báo cáo for the year."""
    last = MonthlyReport.objects.filter(issuer_id=issuer_id, year=year).aggregate(
        last=Max("number")
    )["last"]
    return (last or 0) + 1


def _issue_checks(
    report: MonthlyReport, number: int | None, day: datetime.date | None
) -> tuple[int, datetime.date]:
    """The number and date of issue, or ValidationError with a message per field."""
    today = timezone.localdate()
    day = day or today
    errors: dict[str, str] = {}
    assert report.approved_at is not None
    approved_on = timezone.localdate(report.approved_at)
    if day < approved_on:
        errors["date"] = _(
            "The date of issue cannot be earlier than the approval ({date})."
        ).format(date=f"{approved_on:%d/%m/%Y}")
    elif day > today:
        errors["date"] = _("The date of issue cannot be later than today.")
    if number is not None and number < 1:
        errors["number"] = _("The number is a whole number from 1.")
    elif (
        number is not None
        and MonthlyReport.objects.filter(issuer_id=report.issuer_id, year=day.year, number=number)
        .exclude(pk=report.pk)
        .exists()
    ):
        errors["number"] = _number_taken(report, number, day.year)
    if errors:
        raise ValidationError(errors)
    return number or register_next_number(issuer_id=_issuer(report).pk, year=day.year), day


def _issuer(report: MonthlyReport) -> Agency:
    """The issuing agency, fixed when the draft was made (services._draft_prepare)."""
    if report.issuer is None:
        raise ReportError(_("The draft is being rendered: approve it once its PDF is ready."))
    return report.issuer


def _number_taken(report: MonthlyReport, number: int, year: int) -> str:
    return _(
        "Number {number} is already in the register of reports of {agency} for {year}."
    ).format(
        number=document_number(number, _issuer(report).doc_code), agency=report.issuer, year=year
    )


def report_issue(
    *,
    report: MonthlyReport,
    user,
    number: int | None = None,
    date: datetime.date | None = None,
    expected_version: int | None = None,
    at: datetime.datetime | None = None,
) -> MonthlyReport:
    """The văn thư issues the approved report: number and date, the final PDF and Excel
    (rendered once, now), the PDF signed when a certificate is set up. All or nothing: a
    failure leaves the report approved, without a number, and no file behind. `at`
    (default now) is the time recorded for the issue and the signature."""
    from reports.signing import SigningError, sign_report_pdf

    if not can_prepare_report(user, report):
        raise PermissionDenied(_("You may not issue this report."))
    written: list[str] = []
    try:
        with transaction.atomic():
            current = _locked(report, expected_version)
            refused = _step_refused(current, (ReportStage.APPROVED,))
            if refused:
                raise refused
            typed = number is not None
            number, day = _issue_checks(current, number, date)
            while True:
                try:
                    with transaction.atomic():
                        MonthlyReport.objects.filter(pk=current.pk).update(
                            number=number, year=day.year, issued_on=day
                        )
                    break
                except IntegrityError:
                    # Another report took the number between the check and the write (the
                    # write waited for it to commit). A typed number is refused; the next
                    # free one is taken again, now past the number just committed.
                    taken = number
                    if not typed:
                        number = register_next_number(issuer_id=_issuer(current).pk, year=day.year)
                    if typed or number <= taken:
                        raise ValidationError(
                            {"number": _number_taken(current, taken, day.year)}
                        ) from None
            current.number, current.year, current.issued_on = number, day.year, day
            current.stage = ReportStage.ISSUED
            current.issued_by, current.issued_at = user, at or timezone.now()
            # The PDF first (and signed), then the Excel twin from the same figures.
            files = monthly_report_render_pdf(report=current)
            content = files.pdf.content
            try:
                signed = sign_report_pdf(
                    content,
                    box=files.pdf.signature_box,
                    agency_name=_issuer(current).name,
                    signed_at=current.issued_at,
                )
            except SigningError as error:
                # Nothing is issued: the văn thư sees why and tries again once it is fixed.
                raise ReportError(
                    _("The report could not be signed, so it was not issued: {error}").format(
                        error=error
                    )
                ) from error
            if signed is not None:
                content = signed.content
                current.signed_at, current.signed_by_certificate = signed.signed_at, signed.signer
            files.build_xlsx()
            old_files = [current.pdf.name, current.xlsx.name]
            written = report_files_write(current, content, files.xlsx, uuid.uuid4().hex[:12])
            for name, seconds in files.durations.items():
                setattr(current, name, seconds)
            current.pdf, current.xlsx = written
            current.sha256 = hashlib.sha256(content).hexdigest()
            current.pdf_size, current.pages = len(content), files.pdf.pages
            current.generated_at = timezone.now()
            current.status, current.error = ReportStatus.READY, ""
            current.version += 1
            current.save()
            report_issued.send(sender=MonthlyReport, report=current)
            transaction.on_commit(lambda: _delete_files(*[n for n in old_files if n]))
    except BaseException:
        _delete_files(*written)
        raise
    return current


# --- 4. Send ------------------------------------------------------------------------------------


def report_send(*, report: MonthlyReport, user, expected_version: int | None = None) -> bool:
    """Send the issued report to its recipients, once (services.monthly_report_send);
    returns whether the mail went out now."""
    if not can_prepare_report(user, report):
        raise PermissionDenied(_("You may not send this report."))
    with transaction.atomic():
        current = _locked(report, expected_version)
    if current.stage == ReportStage.SENT:
        raise ReportError(_("This report was sent already: it is sent only once."))
    refused = _step_refused(current, (ReportStage.ISSUED,))
    if refused:
        raise refused
    sent = monthly_report_send(report=current, sent_by=user)
    if not sent and current.emailed_at is None:
        raise ReportError(_("The report has no recipient with an e-mail address."))
    report.refresh_from_db()
    return sent


# --- Corrections --------------------------------------------------------------------------------


def report_correct(*, report: MonthlyReport, user) -> MonthlyReport:
    """Start the correction of an issued report: a new draft of the same plan, month and
    scope that names the report it replaces, with its narrative to start from. A report
    is corrected once (a correction may itself be corrected once issued)."""
    if not can_prepare_report(user, report):
        raise PermissionDenied(_("You may not correct this report."))
    with transaction.atomic():
        current = _locked(report, None)
        if not current.is_final:
            raise ReportError(_("Only an issued report is corrected: edit the draft instead."))
        existing = MonthlyReport.objects.filter(replaces=current).first()
        if existing is not None:
            return existing
        correction = MonthlyReport.objects.create(
            plan=current.plan,
            period=current.period,
            scope=current.scope,
            replaces=current,
            issuer=current.issuer,
            drafted_by=user,
            signer_name=current.signer_name,
            recipients=current.recipients,
            **{name: getattr(current, name) for name in NARRATIVE_FIELDS},
        )
        MonthlyReport.objects.filter(pk=current.pk).update(version=F("version") + 1)
        monthly_report_request(report=correction)
    return correction
