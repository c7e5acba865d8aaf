"""Reminder policies (data the administrator edits) and the notices sent under them.

A Notification row is the record that one notice is owed to one person:
(task, kind, due date in force, recipient, occurrence) is unique, so however often the
daily job runs, each notice exists once; the row also carries the state of its e-mail copy
(pending → sending → sent) and whether the recipient has read it on the web.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from reminders.choices import EmailStatus, NoticeKind

MAX_OFFSET_DAYS = 365


def parse_offsets(value: str) -> list[int]:
    """Read "7, 3, 1" into [7, 3, 1] (largest first); ValidationError on anything else."""
    if value is None or not str(value).strip():
        return []
    offsets: list[int] = []
    for part in str(value).split(","):
        part = part.strip()
        if not part.isdigit() or not 1 <= int(part) <= MAX_OFFSET_DAYS:
            raise ValidationError(
                _(
                    "Write whole numbers of days between 1 and %(max)s, separated by commas, "
                    "e.g. 7, 3, 1."
                ),
                code="invalid_offsets",
                params={"max": MAX_OFFSET_DAYS},
            )
        if int(part) in offsets:
            raise ValidationError(
                _("The offset %(days)s is listed twice."),
                code="duplicate_offset",
                params={"days": int(part)},
            )
        offsets.append(int(part))
    return sorted(offsets, reverse=True)


def validate_offsets(value: str) -> None:
    parse_offsets(value)


class ReminderPolicy(models.Model):
    """When reminders go out for the tasks of a plan, and to whom.

    The policy without a plan is the default: it applies to every plan that has no policy
    of its own. Each kind of notice can be switched off. Days are calendar days in
    Asia/Ho_Chi_Minh; a task is overdue from due + 1 (DESIGN.md).
    """

    plan = models.OneToOneField(
        "tasks_app.Plan",
        verbose_name=_("plan"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="reminder_policy",
        help_text=_("Empty for the default policy, used by plans without a policy of their own."),
    )
    due_soon_enabled = models.BooleanField(_("remind before the due date"), default=True)
    due_soon_offsets = models.CharField(
        _("days before the due date"),
        max_length=100,
        default="7, 3, 1",
        blank=True,
        validators=[validate_offsets],
        help_text=_("Comma-separated numbers of days, e.g. 7, 3, 1."),
    )
    overdue_enabled = models.BooleanField(_("notify overdue tasks"), default=True)
    overdue_repeat_days = models.PositiveSmallIntegerField(
        _("repeat the overdue notice every (days)"),
        default=7,
        help_text=_("The first notice goes out the day after the due date; 0 sends only that one."),
    )
    stale_enabled = models.BooleanField(_("notify tasks without recent progress"), default=True)
    stale_after_days = models.PositiveSmallIntegerField(
        _("no progress report for (days)"),
        default=30,
        help_text=_(
            "A task in progress that has had no progress report for this many days gets a "
            "notice, repeated after as many days again while it stays silent."
        ),
    )
    escalation_enabled = models.BooleanField(_("escalate long-overdue tasks"), default=True)
    escalation_after_days = models.PositiveSmallIntegerField(
        _("escalate after overdue for (days)"),
        default=14,
        help_text=_(
            "Sent once per due date to the managers of the lead agency's parent agency and "
            "to the monitoring officers."
        ),
    )
    include_coordinating_agencies = models.BooleanField(
        _("also notify coordinating agencies"),
        default=False,
        help_text=_(
            "Managers and officers of coordinating agencies also get the due-soon, overdue "
            "and no-progress notices of the tasks they coordinate."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = [Coalesce("plan_id", Value(0)).asc()]
        verbose_name = _("reminder policy")
        verbose_name_plural = _("reminder policies")
        constraints = [
            # At most one default policy: a NULL plan counts as plan 0.
            models.UniqueConstraint(
                Coalesce("plan", Value(0)), name="reminder_policy_one_per_plan"
            ),
            models.CheckConstraint(
                condition=Q(stale_after_days__gt=0), name="reminder_policy_stale_positive"
            ),
            models.CheckConstraint(
                condition=Q(escalation_after_days__gt=0),
                name="reminder_policy_escalation_positive",
            ),
        ]

    def __str__(self) -> str:
        if self.plan_id is None:
            return str(_("Default reminder policy"))
        return str(_("Reminder policy of %(plan)s") % {"plan": self.plan})

    def clean(self) -> None:
        self.due_soon_offsets = ", ".join(str(o) for o in parse_offsets(self.due_soon_offsets))

    @property
    def offsets(self) -> list[int]:
        """The due-soon offsets, largest first."""
        return parse_offsets(self.due_soon_offsets)


class Notification(models.Model):
    """One notice owed to one person: shown in their notification list and, when they have
    an e-mail address, mailed in that day's digest.

    Exactly once: the natural key (task, kind, due date in force, recipient, occurrence) is
    unique. `occurrence` tells repeats apart: the days left for a due-soon notice, the days
    overdue for an overdue notice, 0 for the one escalation per due date, and the day it fell
    due (date ordinal) for a no-progress notice. Because the key holds the due date in force,
    an approved extension re-arms every kind for the new date.
    """

    task = models.ForeignKey(
        "tasks_app.Task",
        verbose_name=_("task"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=NoticeKind.choices)
    due = models.DateField(_("due date in force"))
    occurrence = models.PositiveIntegerField(_("occurrence"))
    fire_day = models.DateField(_("day"), help_text=_("The day of the run that raised it."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    email_status = models.CharField(
        _("e-mail"), max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("sending attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["-fire_day", "kind", "due", "task_id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["task", "kind", "due", "recipient", "occurrence"],
                name="notification_once_per_key",
            ),
            models.CheckConstraint(
                condition=~Q(email_status="sent") | Q(sent_at__isnull=False),
                name="notification_sent_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(email_status="sending") | Q(claimed_at__isnull=False),
                name="notification_sending_has_claim",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
            models.Index(
                fields=["email_status", "recipient", "fire_day"], name="notification_outbox"
            ),
            models.Index(fields=["fire_day"], name="notification_day"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.task_id} · {self.recipient_id}"

    @property
    def task_path(self) -> str:
        from reminders.links import task_path

        return task_path(self.task_id)

    @property
    def days_from_due(self) -> int:
        """Days past the due date on the notice's day: negative while time is left."""
        return (self.fire_day - self.due).days


class ReminderRun(models.Model):
    """The record that the daily reminder job ran for a day (issue 16: `/health/` reports how
    long ago the last one finished). One row per day: a rerun of the same day updates it
    (safe to run twice); a dry run records nothing."""

    day = models.DateField(_("day"), unique=True)
    finished_at = models.DateTimeField(_("finished at"))
    notices = models.PositiveIntegerField(_("new notices"), default=0)
    digests = models.PositiveIntegerField(_("digests"), default=0)
    failed = models.PositiveIntegerField(_("digests failed"), default=0)

    class Meta:
        ordering = ["-day"]
        verbose_name = _("reminder run")
        verbose_name_plural = _("reminder runs")

    def __str__(self) -> str:
        return self.day.isoformat()
