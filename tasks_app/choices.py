"""Enumerations of the domain; labels are what users read (translated)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AgencyKind(models.TextChoices):
    UBND = "ubnd", _("People's Committee")
    DEPARTMENT = "so", _("Department")
    UNIT = "don_vi", _("Public service unit")
    OFFICE = "phong", _("Specialised office")
    PARTY = "party", _("Party body")
    PRESS = "press", _("Press agency")
    OTHER = "other", _("Other agency")


class SuccessionKind(models.TextChoices):
    RENAME = "rename", _("Renamed")
    MERGE = "merge", _("Merged")
    SPLIT = "split", _("Split")
    ABOLISH = "abolish", _("Abolished")


class Role(models.TextChoices):
    MONITOR = "monitor", _("Monitoring officer")
    LEADER = "leader", _("Leader")
    MANAGER = "manager", _("Manager")
    OFFICER = "officer", _("Officer")


class TaskState(models.TextChoices):
    """The stored workflow state; the latest status update decides it."""

    NOT_STARTED = "not_started", pgettext_lazy("task state", "Not started")
    IN_PROGRESS = "in_progress", pgettext_lazy("task state", "In progress")
    AWAITING_CONFIRMATION = "awaiting_confirmation", _("Awaiting confirmation")
    COMPLETED = "completed", pgettext_lazy("task state", "Completed")
    WITHDRAWN = "withdrawn", pgettext_lazy("task state", "Withdrawn")


# A task in one of these states is finished: nothing more is reported, extended or reassigned.
FINISHED_STATES = frozenset({TaskState.COMPLETED, TaskState.WITHDRAWN})


class ReportCategory(models.TextChoices):
    """The official buckets of Vietnamese task reports, computed at an as-of date."""

    COMPLETED_ON_TIME = "completed_on_time", _("Completed on time")
    COMPLETED_LATE = "completed_late", _("Completed late")
    IN_PROGRESS = "in_progress", _("In progress, within deadline")
    OVERDUE = "overdue", _("In progress, overdue")
    NOT_STARTED = "not_started", pgettext_lazy("report category", "Not started")
    REGULAR = "regular", _("Regular task (no deadline)")
    WITHDRAWN = "withdrawn", _("Stopped")


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class UpdateKind(models.TextChoices):
    REPORT = "report", _("Progress report by the lead agency")
    CONTRIBUTION = "contribution", _("Contribution by a coordinating agency")
    CONFIRMATION = "confirmation", _("Decision by the monitoring agency")


class ExtensionKind(models.TextChoices):
    REQUEST = "request", _("Requested by the agency")
    ADJUSTMENT = "adjustment", _("Adjusted by the monitoring agency")


class ChangeSource(models.TextChoices):
    """Where a change of a task's fields was made."""

    PAGE = "page", _("Staff pages")
    API = "api", _("API")
    IMPORT = "import", _("Excel import")
    ADMIN = "admin", _("Administration")
    PLAN_FILE = "plan_file", _("Plan file")


class AgeingBand(models.TextChoices):
    """Ageing bands of overdue tasks (DESIGN.md, "Measures"): days overdue at D is D − the
    due date in force at D, so a task due on D − n is n days overdue. The one definition
    used by the task list's filter, the dashboard, its API, the Excel file and the PDF."""

    DAYS_1_30 = "1-30", _("Overdue 1–30 days")
    DAYS_31_90 = "31-90", _("Overdue 31–90 days")
    OVER_90 = "90+", _("Overdue over 90 days")

    @property
    def first_day(self) -> int:
        """The fewest days overdue in the band."""
        return _AGEING_DAYS[self][0]

    @property
    def last_day(self) -> int | None:
        """The most days overdue in the band; None: no limit."""
        return _AGEING_DAYS[self][1]

    @classmethod
    def of(cls, days_overdue: int) -> "AgeingBand | None":
        """The band of a task overdue by `days_overdue` days; None when not overdue."""
        for band in cls:
            if band.first_day <= days_overdue and (
                band.last_day is None or days_overdue <= band.last_day
            ):
                return band
        return None


# First and last day overdue of each band (outside the class: an enum would make it a member).
_AGEING_DAYS: dict[str, tuple[int, int | None]] = {
    AgeingBand.DAYS_1_30: (1, 30),
    AgeingBand.DAYS_31_90: (31, 90),
    AgeingBand.OVER_90: (91, None),
}
