"""Query building blocks: agency subtrees and the report category of tasks at a date.

The category is computed in SQL from history (status updates recorded and extensions
decided by the end of the as-of day), so that aggregates can group by it and a report for a
past month is the same whenever it is generated. See DESIGN.md, "Status".
"""

import datetime
import re
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import (
    Case,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.lookups import LessThan

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


_STARTED_STATES = [TaskState.IN_PROGRESS, TaskState.AWAITING_CONFIRMATION]
_DATE = models.DateField()


_SAFE_TEXT = re.compile(r"[a-z_]*")


def _literal(value) -> str | None:
    """`value` as SQL text when it is a constant that cannot need quoting: an integer,
    NULL, or lowercase letters and underscores (the category codes). Else None."""
    if value is None:
        return "NULL"
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and _SAFE_TEXT.fullmatch(value):
        return f"'{value}'"
    return None


class SimpleCase(Func):
    """`CASE expression WHEN value THEN result … ELSE default END`: the expression is
    written (and evaluated) once, however many values are mapped.

    The mapped constants (category codes and bit masks: the roll-up maps 127 of them) are
    written into the SQL rather than passed as some 260 parameters, which the database
    driver would otherwise parse and quote on every query; anything else stays a
    parameter."""

    def __init__(self, expression, mapping: dict, default=None, output_field=None):
        self.mapping = mapping
        self.default = default
        self._whens_sql: tuple[str, tuple] | None = None  # built by _whens, once
        super().__init__(expression, output_field=output_field or models.CharField(null=True))

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        whens, when_params = self._whens()
        return f"CASE {sql} {whens}", [*params, *when_params]

    def _whens(self) -> tuple[str, tuple]:
        """The WHEN … ELSE … END part and its parameters: the same for every query, so
        written once per expression (a roll-up maps 127 values)."""
        if self._whens_sql is None:
            params: list = []

            def constant(value) -> str:
                literal = _literal(value)
                if literal is None:
                    params.append(value)
                    return "%s"
                return literal

            parts = [f"WHEN {constant(v)} THEN {constant(r)}" for v, r in self.mapping.items()]
            parts.append(f"ELSE {constant(self.default)} END")
            self._whens_sql = (" ".join(parts), tuple(params))
        return self._whens_sql


# Each category as a bit, so that the categories present among a parent's children
# add up (SUM DISTINCT) to one number that _ROLLUP maps to the parent's category.
_BITS = {category: 1 << index for index, category in enumerate(ReportCategory.values)}


def _rollup(mask: int) -> str | None:
    present = {category for category, bit in _BITS.items() if mask & bit}
    open_ = present & {
        ReportCategory.IN_PROGRESS,
        ReportCategory.OVERDUE,
        ReportCategory.NOT_STARTED,
        ReportCategory.REGULAR,
    }
    done = present & {ReportCategory.COMPLETED_ON_TIME, ReportCategory.COMPLETED_LATE}
    if ReportCategory.OVERDUE in present:
        return ReportCategory.OVERDUE
    if not open_ and not done:
        return ReportCategory.WITHDRAWN
    if not open_:
        if ReportCategory.COMPLETED_LATE in done:
            return ReportCategory.COMPLETED_LATE
        return ReportCategory.COMPLETED_ON_TIME
    if ReportCategory.IN_PROGRESS in present or done:
        return ReportCategory.IN_PROGRESS
    if ReportCategory.NOT_STARTED not in present:
        return ReportCategory.REGULAR
    return ReportCategory.NOT_STARTED


_ROLLUP = {mask: _rollup(mask) for mask in range(1, 1 << len(_BITS))}


def rolled_up_category(children_categories) -> str | None:
    """A parent task's category from its children's own categories (None for a child not
    yet assigned): in Python what `TaskQuerySet.with_category` computes in SQL, from the
    same table. The parent's own rule (not yet assigned: None) is the caller's."""
    mask = 0
    for category in children_categories:
        mask |= _BITS.get(category, 0)
    return _ROLLUP.get(mask)


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
        from django.utils import timezone

        from tasks_app.models import DeadlineExtension, StatusUpdate

        if as_of >= timezone.localdate():
            # A day not yet over: the row mirrors the latest update and the due date in
            # force (see current_category_expression).
            approved_by_completion = (
                DeadlineExtension.objects.filter(
                    task=OuterRef("pk"), status=ExtensionStatus.APPROVED
                )
                .annotate(decided_on=TruncDate("decided_at", tzinfo=local_tz()))
                .filter(decided_on__lte=OuterRef("completed_on"))
                .order_by("-decided_at", "-pk")
                .values("proposed_due")[:1]
            )
            return self.annotate(
                state_at=F("state"),
                progress_at=F("progress"),
                completed_on_at=F("completed_on"),
                due_at=F("due"),
                due_at_completion=Case(
                    When(due=F("original_due"), then=F("original_due")),
                    default=Coalesce(
                        Subquery(approved_by_completion), F("original_due"), output_field=_DATE
                    ),
                    output_field=_DATE,
                ),
            )
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
        """Annotate the history fields of `with_history_at` and `own_category`: the report
        category at `as_of` from the task's own history (NULL for a task not yet assigned).

        The rules run inside one correlated subquery over the latest status update, so the
        SQL names each history subquery once: Django repeats an annotation's SQL wherever a
        CASE refers to it, which made the plain form grow past 30 kB per query.
        """
        return self.with_history_at(as_of).annotate(own_category=own_category_expression(as_of))

    def with_category(self, as_of: datetime.date) -> "TaskQuerySet":
        """Annotate `category` at `as_of` and `is_parent`, besides `own_category`.

        A leaf task's category is its own. A parent task (a plan item split per agency)
        rolls up its children: overdue when any child is; completed when all are (late
        when any was late); withdrawn when all were; in progress once any child has
        progressed; regular when every open child is regular; else not started.
        """
        from tasks_app.models import Task

        # `parent__isnull=False` changes no result (parent = pk implies it), but lets
        # PostgreSQL build its hashed form of these subqueries from the 5 % of tasks that
        # have a parent rather than from every task: 2.8 ms less per use on 20,000 tasks.
        children = Task.objects.filter(parent=OuterRef("pk"), parent__isnull=False)
        child_bits = (
            children.annotate(
                bit=SimpleCase(
                    own_category_expression(as_of),
                    _BITS,
                    default=0,
                    output_field=models.IntegerField(),
                )
            )
            .values("parent")
            .annotate(mask=Sum("bit", distinct=True))
            .values("mask")
        )
        rollup = SimpleCase(Subquery(child_bits[:1]), _ROLLUP, default=None)
        return (
            self.with_own_category(as_of)
            .annotate(is_parent=Exists(children))
            .annotate(
                category=Case(
                    When(assigned_on__gt=as_of, then=Value(None)),
                    When(is_parent=True, then=rollup),
                    default=F("own_category"),
                    output_field=models.CharField(max_length=30, null=True),
                )
            )
        )


def current_category_expression(as_of: datetime.date) -> Case:
    """`own_category_expression` for a day that is not over yet (today or later).

    What is known at the end of such a day is the current state, and the task row mirrors
    it: `state`, `progress` and `completed_on` copy the latest update
    (services._mirror) and `due` is the latest approved extension, else the
    original due date (services.extension_approve). Nothing is recorded in the future, so
    the same rules read the row's columns instead of one correlated subquery per task: the
    only subquery left looks up the due date in force on the completion day, and only for a
    completed task whose due date was ever moved.
    """
    from tasks_app.models import DeadlineExtension

    approved_by_completion = (
        DeadlineExtension.objects.filter(task=OuterRef("pk"), status=ExtensionStatus.APPROVED)
        .annotate(decided_on=TruncDate("decided_at", tzinfo=local_tz()))
        .filter(decided_on__lte=OuterRef("completed_on"))
        .order_by("-decided_at", "-pk")
        .values("proposed_due")[:1]
    )
    due_when_done = Case(
        When(due=F("original_due"), then=F("original_due")),
        default=Coalesce(Subquery(approved_by_completion), F("original_due"), output_field=_DATE),
        output_field=_DATE,
    )
    completed = Q(state=TaskState.COMPLETED, completed_on__lte=as_of)
    return Case(
        When(assigned_on__gt=as_of, then=Value(None)),
        When(state=TaskState.WITHDRAWN, then=Value(ReportCategory.WITHDRAWN)),
        When(
            completed & (Q(original_due__isnull=True) | Q(completed_on__lte=due_when_done)),
            then=Value(ReportCategory.COMPLETED_ON_TIME),
        ),
        When(completed, then=Value(ReportCategory.COMPLETED_LATE)),
        When(due__isnull=True, then=Value(ReportCategory.REGULAR)),
        When(due__lt=as_of, then=Value(ReportCategory.OVERDUE)),
        When(
            Q(state__in=_STARTED_STATES) | Q(progress__gt=0),
            then=Value(ReportCategory.IN_PROGRESS),
        ),
        default=Value(ReportCategory.NOT_STARTED),
        output_field=models.CharField(max_length=30, null=True),
    )


def own_category_expression(as_of: datetime.date, *, from_history: bool = False) -> Case:
    """The report category of a task at `as_of`, as one SQL expression (DESIGN.md).

    1. Not assigned yet on `as_of`: NULL.
    2. With an update recorded by the end of `as_of`, the latest one decides: withdrawn;
       completed on time (against the due date in force on the completion day) or late;
       regular; overdue (due date in force at `as_of` passed); in progress; not started.
    3. Without one: regular, overdue or not started.
    """
    from django.utils import timezone

    from tasks_app.models import DeadlineExtension, StatusUpdate

    if as_of >= timezone.localdate() and not from_history:
        return current_category_expression(as_of)
    cutoff = end_of_day(as_of)
    approved = DeadlineExtension.objects.filter(status=ExtensionStatus.APPROVED).order_by(
        "-decided_at", "-pk"
    )

    def due_in_force(task_ref, decided: Q) -> Coalesce:
        extension = approved.filter(decided, task=task_ref).values("proposed_due")[:1]
        return Coalesce(Subquery(extension), OuterRef("original_due"), output_field=_DATE)

    # Inside the update subquery, OuterRef names the task; one level deeper, the update.
    due_now = due_in_force(OuterRef("task_id"), Q(decided_at__lt=cutoff))
    due_when_done = Coalesce(
        Subquery(
            approved.annotate(decided_on=TruncDate("decided_at", tzinfo=local_tz()))
            .filter(task=OuterRef("task_id"), decided_on__lte=OuterRef("completed_on"))
            .values("proposed_due")[:1]
        ),
        OuterRef("original_due"),
        output_field=_DATE,
    )
    completed = Q(state=TaskState.COMPLETED, completed_on__lte=as_of)
    latest = (
        StatusUpdate.objects.filter(task=OuterRef("pk"), recorded_at__lt=cutoff)
        .order_by("-recorded_at", "-pk")
        .annotate(due_now=due_now, due_when_done=due_when_done)
        .annotate(
            category=Case(
                When(state=TaskState.WITHDRAWN, then=Value(ReportCategory.WITHDRAWN)),
                When(
                    completed
                    & (Q(due_when_done__isnull=True) | Q(completed_on__lte=F("due_when_done"))),
                    then=Value(ReportCategory.COMPLETED_ON_TIME),
                ),
                When(completed, then=Value(ReportCategory.COMPLETED_LATE)),
                When(due_now__isnull=True, then=Value(ReportCategory.REGULAR)),
                # Overdue from 00:00 of due + 1: on the due date itself the task is in time.
                When(due_now__lt=as_of, then=Value(ReportCategory.OVERDUE)),
                When(
                    Q(state__in=_STARTED_STATES) | Q(progress__gt=0),
                    then=Value(ReportCategory.IN_PROGRESS),
                ),
                default=Value(ReportCategory.NOT_STARTED),
                output_field=models.CharField(max_length=30),
            )
        )
        .values("category")[:1]
    )
    due_at = Coalesce(
        Subquery(
            approved.filter(task=OuterRef("pk"), decided_at__lt=cutoff).values("proposed_due")[:1]
        ),
        F("original_due"),
    )
    without_updates = Case(
        When(original_due__isnull=True, then=Value(ReportCategory.REGULAR)),
        When(LessThan(due_at, Value(as_of)), then=Value(ReportCategory.OVERDUE)),
        default=Value(ReportCategory.NOT_STARTED),
        output_field=models.CharField(max_length=30),
    )
    return Case(
        When(assigned_on__gt=as_of, then=Value(None)),
        default=Coalesce(Subquery(latest), without_updates),
        output_field=models.CharField(max_length=30, null=True),
    )
