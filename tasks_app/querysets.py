"""Query building blocks: agency subtrees and the report category of tasks at a date.

The category is computed in SQL from history (status updates recorded and extensions
decided by the end of the as-of day), so that aggregates can group by it and a report for a
past month is the same whenever it is generated. See DESIGN.md, "Status".
"""

import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import (
    Case,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from tasks_app.choices import ExtensionStatus, ReportCategory, TaskState


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The first instant after `day` in the project's time zone (Asia/Ho_Chi_Minh).

    "Known at the end of D" means recorded strictly before this instant.
    """
    return datetime.datetime.combine(
        day + datetime.timedelta(days=1), datetime.time.min, tzinfo=local_tz()
    )


class AgencyQuerySet(models.QuerySet):
    def subtree_of(self, *agencies) -> "AgencyQuerySet":
        """The given agencies and every agency below them."""
        condition = Q(pk__in=[])
        for agency in agencies:
            condition |= Q(path__startswith=agency.path)
        return self.filter(condition)

    def valid_on(self, day: datetime.date) -> "AgencyQuerySet":
        """Agencies that existed on `day`."""
        return self.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=day),
            Q(valid_to__isnull=True) | Q(valid_to__gte=day),
        )


_COMPLETED = [ReportCategory.COMPLETED_ON_TIME, ReportCategory.COMPLETED_LATE]
_STARTED_STATES = [TaskState.IN_PROGRESS, TaskState.AWAITING_CONFIRMATION]


class TaskQuerySet(models.QuerySet):
    def leaves(self) -> "TaskQuerySet":
        """Tasks without children: the units of work that reports count."""
        from tasks_app.models import Task

        return self.filter(~Exists(Task.objects.filter(parent=OuterRef("pk"))))

    def with_history_at(self, as_of: datetime.date) -> "TaskQuerySet":
        """Annotate what was known about each task at the end of `as_of`:

        - `state_at`, `progress_at`, `completed_on_at`: from the latest status update
          recorded by then (NULL when there was none);
        - `due_at`: the due date in force, i.e. the latest extension approved by then,
          else the original due date;
        - `due_at_completion`: the due date in force on the day the task was completed.
        """
        from tasks_app.models import DeadlineExtension, StatusUpdate

        cutoff = end_of_day(as_of)
        latest_update = StatusUpdate.objects.filter(
            task=OuterRef("pk"), recorded_at__lt=cutoff
        ).order_by("-recorded_at", "-pk")
        approved = DeadlineExtension.objects.filter(
            task=OuterRef("pk"), status=ExtensionStatus.APPROVED
        ).order_by("-decided_at", "-pk")
        return self.annotate(
            state_at=Subquery(latest_update.values("state")[:1]),
            progress_at=Subquery(latest_update.values("progress")[:1]),
            completed_on_at=Subquery(latest_update.values("completed_on")[:1]),
            due_at=Coalesce(
                Subquery(approved.filter(decided_at__lt=cutoff).values("proposed_due")[:1]),
                F("original_due"),
            ),
        ).annotate(
            due_at_completion=Coalesce(
                Subquery(
                    approved.annotate(decided_on=TruncDate("decided_at", tzinfo=local_tz()))
                    .filter(decided_on__lte=OuterRef("completed_on_at"))
                    .values("proposed_due")[:1]
                ),
                F("original_due"),
            ),
        )

    def with_own_category(self, as_of: datetime.date) -> "TaskQuerySet":
        """Annotate `own_category`: the report category at `as_of` from the task's own
        history. NULL for a task not yet assigned on `as_of`."""
        completed = Q(state_at=TaskState.COMPLETED, completed_on_at__lte=as_of)
        return self.with_history_at(as_of).annotate(
            own_category=Case(
                When(assigned_on__gt=as_of, then=Value(None)),
                When(state_at=TaskState.WITHDRAWN, then=Value(ReportCategory.WITHDRAWN)),
                When(
                    completed
                    & (
                        Q(due_at_completion__isnull=True)
                        | Q(completed_on_at__lte=F("due_at_completion"))
                    ),
                    then=Value(ReportCategory.COMPLETED_ON_TIME),
                ),
                When(completed, then=Value(ReportCategory.COMPLETED_LATE)),
                When(due_at__isnull=True, then=Value(ReportCategory.REGULAR)),
                # Overdue from 00:00 of due + 1: on the due date itself the task is in time.
                When(due_at__lt=as_of, then=Value(ReportCategory.OVERDUE)),
                When(
                    Q(state_at__in=_STARTED_STATES) | Q(progress_at__gt=0),
                    then=Value(ReportCategory.IN_PROGRESS),
                ),
                default=Value(ReportCategory.NOT_STARTED),
                output_field=models.CharField(max_length=30, null=True),
            )
        )

    def with_category(self, as_of: datetime.date) -> "TaskQuerySet":
        """Annotate `category` at `as_of` and `is_parent`.

        A leaf task's category is its own. A parent task (a plan item split per agency)
        rolls up its children: overdue when any child is; completed when all are (late
        when any was late); withdrawn when all were; in progress once any child has
        progressed; regular when every open child is regular; else not started.
        """
        from tasks_app.models import Task

        children = Task.objects.filter(parent=OuterRef("pk")).with_own_category(as_of)

        def any_child(*categories):
            return Exists(children.filter(own_category__in=categories))

        open_children = [
            ReportCategory.IN_PROGRESS,
            ReportCategory.OVERDUE,
            ReportCategory.NOT_STARTED,
            ReportCategory.REGULAR,
        ]
        rollup = Case(
            When(assigned_on__gt=as_of, then=Value(None)),
            When(any_child(ReportCategory.OVERDUE), then=Value(ReportCategory.OVERDUE)),
            When(~any_child(*open_children, *_COMPLETED), then=Value(ReportCategory.WITHDRAWN)),
            When(
                ~any_child(*open_children) & any_child(ReportCategory.COMPLETED_LATE),
                then=Value(ReportCategory.COMPLETED_LATE),
            ),
            When(~any_child(*open_children), then=Value(ReportCategory.COMPLETED_ON_TIME)),
            When(
                any_child(ReportCategory.IN_PROGRESS, *_COMPLETED),
                then=Value(ReportCategory.IN_PROGRESS),
            ),
            When(~any_child(ReportCategory.NOT_STARTED), then=Value(ReportCategory.REGULAR)),
            default=Value(ReportCategory.NOT_STARTED),
            output_field=models.CharField(max_length=30, null=True),
        )
        return (
            self.with_own_category(as_of)
            .annotate(is_parent=Exists(Task.objects.filter(parent=OuterRef("pk"))))
            .annotate(
                category=Case(
                    When(is_parent=True, then=rollup),
                    default=F("own_category"),
                    output_field=models.CharField(max_length=30, null=True),
                )
            )
        )
