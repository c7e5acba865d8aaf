"""Models of the reports app: the monthly report, a legal record stored with its files.

A MonthlyReport is one document per (plan, month, scope), issued the way an office issues a
báo cáo (reports/issuing.py): a DRAFT whose narrative a specialist edits (each saved
version kept as a ReportRevision), APPROVED by the leader, ISSUED by the văn thư with a
number from the issuing agency's register for the year and a date (then signed), SENT
once. Until it is issued its files are replaced whole on every rendering
(reports/services.py), so the row only ever points at complete files; an issued report's
files are final. A correction is a new report that `replaces` the issued one.
"""

import calendar
import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tasks_app.models import Agency, Plan


class MonthlyReportQuerySet(models.QuerySet):
    def visible_to(self, user) -> "MonthlyReportQuerySet":
        """The reports a user may list and download: every report for monitors and leaders
        (they follow the whole plan); for agency staff, the reports scoped to an agency in
        the subtree of one of their agencies (a whole-plan report shows other agencies'
        tasks, so it stays hidden from them)."""
        from tasks_app.permissions import agencies_visible_to, sees_everything

        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if sees_everything(user):
            return self
        return self.filter(scope__isnull=False, scope__in=agencies_visible_to(user))


def _person(verbose_name) -> Any:
    """Who took a step of a report (kept if the account is deactivated, never deleted)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )


class ReportStage(models.TextChoices):
    """Where the document stands on its way out of the office."""

    DRAFT = "draft", pgettext_lazy("report stage", "Draft")
    APPROVED = "approved", pgettext_lazy("report stage", "Approved")
    ISSUED = "issued", pgettext_lazy("report stage", "Issued")
    SENT = "sent", pgettext_lazy("report stage", "Sent")


# Stages whose files are final: rendering again is refused, a correction is a new report.
FINAL_STAGES = (ReportStage.ISSUED, ReportStage.SENT)


class ReportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be generated")
    GENERATING = "generating", _("Being generated")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Generation failed")


def report_file_name(report: "MonthlyReport", extension: str, token: str) -> str:
    """Where a generation's file is stored: one folder per plan and month; the claim token
    in the name keeps two generations of one report from ever writing the same file."""
    plan = slugify(report.plan.code) or f"plan-{report.plan_id}"
    scope = slugify(report.scope.code) if report.scope_id else "province"
    return (
        f"reports/{plan}/{report.period:%Y-%m}/"
        f"report-{report.period:%Y-%m}-{scope}-{token}.{extension}"
    )


def render_resend_cutoff() -> datetime.datetime:
    """A draft still PENDING since before this moment has lost its rendering request."""
    return timezone.now() - datetime.timedelta(minutes=settings.REPORT_RESEND_AFTER_MINUTES)


class MonthlyReport(models.Model):
    """The monthly progress report of a plan (Decree 30/2020 layout), for the whole plan
    (scope empty) or for one agency's subtree, with its numbers as of the last day of the
    month, taken from history.

    - Unique per (plan, period, scope) among the originals; a correction `replaces` one
      issued report (at most one correction each).
    - `stage`: draft → approved → issued → sent (reports/issuing.py); each step records
      who and when. `issuer` is fixed when the draft is made; `number`, `year` and
      `issued_on` when it is issued: the next free number of the issuer's register for the
      year, or one typed by the văn thư (unique in the register).
    - `version` grows on every narrative edit or step: a form or API call sent with an
      older version is refused, so concurrent edits never overwrite each other.
    - `status` is the rendering's state, claimed with a conditional update
      (`claim_token`, `claimed_at`); a claim older than REPORT_STALE_MINUTES may be taken
      over.
    - `emailed_at` records the e-mail, which is sent once, after the report is issued.
    """

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="monthly_reports"
    )
    period = models.DateField(_("month"), help_text=_("The first day of the month reported."))
    replaces = models.OneToOneField(
        "self",
        verbose_name=_("replaces"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="correction",
        help_text=_("The issued report this one corrects."),
    )
    stage = models.CharField(
        _("stage"), max_length=10, choices=ReportStage.choices, default=ReportStage.DRAFT
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    # The narrative: prefilled from the month's status updates, edited by the specialist.
    assessment = models.TextField(_("general assessment"), blank=True)
    difficulties = models.TextField(_("difficulties and proposals"), blank=True)
    next_focus = models.TextField(_("focus of next month"), blank=True)
    distribution = models.TextField(
        _("recipients (Nơi nhận)"),
        blank=True,
        help_text=_("One line per recipient, as printed under Nơi nhận."),
    )
    recipients = models.TextField(
        _("e-mail recipients"),
        blank=True,
        help_text=_("The addresses the issued report is sent to, one per line."),
    )
    signer_name = models.CharField(_("signer"), max_length=120, blank=True)
    drafted_by = _person(_("drafted by"))
    edited_by = _person(_("last edited by"))
    edited_at = models.DateTimeField(_("last edited at"), null=True, blank=True)
    approved_by = _person(_("approved by"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    issued_by = _person(_("issued by"))
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    signed_by_certificate = models.CharField(_("signing certificate"), max_length=255, blank=True)
    sent_by = _person(_("sent by"))
    scope = models.ForeignKey(
        Agency,
        verbose_name=_("scope"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: the whole plan; else the tasks led by this agency and its units."),
    )
    issuer = models.ForeignKey(
        Agency,
        verbose_name=_("issuing agency"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The agency that issues the report, as it was at the end of the month."),
    )
    issued_on = models.DateField(_("document date"), null=True, blank=True)
    year = models.PositiveSmallIntegerField(_("numbering year"), null=True, blank=True)
    number = models.PositiveIntegerField(_("document number"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.PENDING
    )
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    claimed_at = models.DateTimeField(_("generation started at"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("generation attempts"), default=0)
    generated_at = models.DateTimeField(_("generated at"), null=True, blank=True)
    pdf = models.FileField(_("PDF file"), max_length=255, blank=True)
    xlsx = models.FileField(_("Excel file"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64, blank=True)
    pdf_size = models.PositiveIntegerField(_("PDF size (bytes)"), default=0)
    pages = models.PositiveSmallIntegerField(_("pages"), default=0)
    # How long the last rendering took, part by part (issue 18): the figures (queries,
    # charts, template), the PDF (WeasyPrint's layout), then the Excel twin built from the
    # same figures. Seconds of wall-clock time; empty before the first rendering.
    figures_seconds = models.FloatField(_("figures computed in (s)"), null=True, blank=True)
    pdf_seconds = models.FloatField(_("PDF laid out in (s)"), null=True, blank=True)
    xlsx_seconds = models.FloatField(_("Excel file built in (s)"), null=True, blank=True)
    error = models.TextField(_("last error"), blank=True)
    email_claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    emailed_to = models.TextField(_("e-mailed to"), blank=True)
    email_error = models.TextField(_("last e-mail error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = MonthlyReportQuerySet.as_manager()

    class Meta:
        ordering = ["-period", "plan__code", "scope__path"]
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        constraints = [
            # NULL scopes are distinct in a plain unique constraint: one partial constraint
            # for the whole-plan report, one for the scoped ones (SQLite and PostgreSQL).
            # Corrections (`replaces` set) are further reports of the same month and scope.
            models.UniqueConstraint(
                fields=["plan", "period"],
                condition=Q(scope__isnull=True, replaces__isnull=True),
                name="monthly_report_unique_plan_period",
            ),
            models.UniqueConstraint(
                fields=["plan", "period", "scope"],
                condition=Q(scope__isnull=False, replaces__isnull=True),
                name="monthly_report_unique_plan_period_scope",
            ),
            # One sequence of document numbers per issuing agency and year.
            models.UniqueConstraint(
                fields=["issuer", "year", "number"],
                condition=Q(number__isnull=False),
                name="monthly_report_unique_number",
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=True) | Q(number__gt=0),
                name="monthly_report_number_positive",
            ),
        ]
        indexes = [models.Index(fields=["status", "claimed_at"], name="monthly_report_claim")]

    def __str__(self) -> str:
        return f"{self.plan.code} · {self.period:%m/%Y} · {self.scope or '—'}"

    def clean(self) -> None:
        if self.period and self.period.day != 1:
            raise ValidationError({"period": _("The month is given by its first day.")})

    @property
    def period_end(self) -> datetime.date:
        """The as-of date of every number in the report: the last day of the month."""
        last = calendar.monthrange(self.period.year, self.period.month)[1]
        return self.period.replace(day=last)

    @property
    def render_request_lost(self) -> bool:
        """Waiting to be rendered for longer than a worker takes to pick a request up: the
        request may have been lost (broker down); the sweep sends it again."""
        return self.status == ReportStatus.PENDING and self.updated_at < render_resend_cutoff()

    @property
    def number_label(self) -> str:
        """ "05/BC-STTTT" once issued with a number; "" before (a draft)."""
        from reports.numbering import document_number

        if not (self.number and self.issuer_id):
            return ""
        return document_number(self.number, self.issuer.doc_code)

    @property
    def is_final(self) -> bool:
        """Issued (or sent): the files are final, the number and date are given."""
        return self.stage in FINAL_STAGES

    @property
    def has_pdf(self) -> bool:
        return bool(self.pdf)

    @property
    def has_xlsx(self) -> bool:
        return bool(self.xlsx)


class ReportRevision(models.Model):
    """An earlier version of a report's narrative, kept when the specialist saves a new one
    (append-only): what it said, who wrote it and when."""

    report = models.ForeignKey(
        MonthlyReport,
        verbose_name=_("report"),
        on_delete=models.CASCADE,
        related_name="revisions",
    )
    version = models.PositiveIntegerField(_("version"))
    assessment = models.TextField(_("general assessment"), blank=True)
    difficulties = models.TextField(_("difficulties and proposals"), blank=True)
    next_focus = models.TextField(_("focus of next month"), blank=True)
    distribution = models.TextField(_("recipients (Nơi nhận)"), blank=True)
    written_by = _person(_("written by"))
    written_at = models.DateTimeField(_("written at"))

    class Meta:
        ordering = ["report", "-version"]
        verbose_name = _("report version")
        verbose_name_plural = _("report versions")
        constraints = [
            models.UniqueConstraint(fields=["report", "version"], name="report_revision_version")
        ]

    def __str__(self) -> str:
        return f"{self.report} · v{self.version}"


class TrendSnapshot(models.Model):
    """The report categories of a plan's leaf tasks at the end of one past day, counted per
    priority area and lead agency (TrendCount): the dashboard's trend reads these instead of
    recomputing every month end from the whole history (reports/trend_store.py).

    A past day's categories come from history that is only ever appended to now, so they
    stay right unless the plan's tasks change shape (a task added with an earlier assignment
    date, split, moved to another agency or area, its original due date edited) or history
    is imported with earlier dates. `fingerprint` and `update_mark` record what the counts
    were computed from; the trend ignores a snapshot that no longer matches.
    """

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField(_("day"))
    computed_at = models.DateTimeField(_("computed at"))
    fingerprint = models.CharField(_("fingerprint"), max_length=400)
    update_mark = models.BigIntegerField(_("last status update counted"), default=0)

    class Meta:
        verbose_name = _("trend snapshot")
        verbose_name_plural = _("trend snapshots")
        ordering = ["plan", "day"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "day"], name="trend_snapshot_plan_day")
        ]

    def __str__(self) -> str:
        return f"{self.plan.code} {self.day:%d/%m/%Y}"


class TrendCount(models.Model):
    """How many leaf tasks of one priority area and lead agency were in one category."""

    snapshot = models.ForeignKey(TrendSnapshot, on_delete=models.CASCADE, related_name="counts")
    priority_area = models.ForeignKey(
        "tasks_app.PriorityArea", on_delete=models.CASCADE, related_name="+"
    )
    lead_agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=30)
    n = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "priority_area", "lead_agency", "category"],
                name="trend_count_unique_group",
            )
        ]

    def __str__(self) -> str:
        return f"{self.snapshot}: {self.category} {self.n}"
