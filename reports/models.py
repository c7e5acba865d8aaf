"""Models of the reports app: the monthly report, a legal record stored with its files.

A MonthlyReport is one document per (plan, month, scope). Its number ("Số: 05/BC-STTTT") is
drawn once, from a sequence per issuing agency and year, and kept when the report is
regenerated; its files are replaced whole (reports/services.py), so the row only ever points
at complete files.
"""

import calendar
import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

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


class MonthlyReport(models.Model):
    """The monthly progress report of a plan (Decree 30/2020 layout), for the whole plan
    (scope empty) or for one agency's subtree, with its numbers as of the last day of the
    month, taken from history.

    - Unique per (plan, period, scope): generating again updates the same row.
    - `issuer`, `issued_on`, `year` and `number` are fixed at the first generation and kept
      afterwards, so a regenerated report carries the same number and date.
    - `status` is claimed with a conditional update (`claim_token`, `claimed_at`); a claim
      older than REPORT_STALE_MINUTES may be taken over.
    - `emailed_at` records the e-mail, which is sent once.
    """

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="monthly_reports"
    )
    period = models.DateField(_("month"), help_text=_("The first day of the month reported."))
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
            models.UniqueConstraint(
                fields=["plan", "period"],
                condition=Q(scope__isnull=True),
                name="monthly_report_unique_plan_period",
            ),
            models.UniqueConstraint(
                fields=["plan", "period", "scope"],
                condition=Q(scope__isnull=False),
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
    def has_pdf(self) -> bool:
        return bool(self.pdf)

    @property
    def has_xlsx(self) -> bool:
        return bool(self.xlsx)


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
