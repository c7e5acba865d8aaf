"""The category engine: which report category a task is in at an as-of date D.

DESIGN.md, "Status", states the rules; this module states them ONCE, as the ordered table
`RULES` (the first rule that holds decides), plus the parent roll-up `rollup`. Every form
of the rule is derived from that table by walking it over a "facts" object that answers
the table's questions:

- `category_of(TaskFacts)`: Python, over plain values (the differential test, and wherever
  Python needs a category);
- `current_category_expression(D)`: SQL over the task row's mirrored columns, for a day not
  over yet (today's form);
- `history_category_expression(D)`: SQL over the history known at the end of D (the
  latest status update recorded by then, the extensions approved by then);
- `own_category_expression(D)` picks one of the two SQL forms for D.

"State and due date in force at D" is also computed here, once: `facts_at(D)` gives the
annotations `TaskQuerySet.with_history_at` adds, which reports and reminders share.

To change a rule, change `RULES` (and DESIGN.md): every form follows, and
tests/tasks_app/test_category_engine.py checks that they still agree.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import and_, or_
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Cast, Coalesce, TruncDate
from django.db.models.lookups import (
    Exact,
    GreaterThan,
    In,
    IsNull,
    LessThan,
    LessThanOrEqual,
)

from tasks_app.choices import ExtensionStatus, TaskState
from tasks_app.choices import ReportCategory as C

_STARTED_STATES = (TaskState.IN_PROGRESS, TaskState.AWAITING_CONFIRMATION)
_DATE: models.DateField = models.DateField()
_CATEGORY: models.CharField = models.CharField(max_length=30, null=True)


def local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def end_of_day(day: datetime.date) -> datetime.datetime:
    """The first instant after `day` in the project's time zone (Asia/Ho_Chi_Minh).

    "Known at the end of D" means recorded strictly before this instant.
    """
    return datetime.datetime.combine(
        day + datetime.timedelta(days=1), datetime.time.min, tzinfo=local_tz()
    )


def day_is_over(day: datetime.date) -> bool:
    """Whether `day` is over in Asia/Ho_Chi_Minh. For a day not over yet (today or later)
    what is known at its end is the current state, which the task row mirrors: the
    services copy the latest update into `state`, `progress` and `completed_on`, and the
    latest approved extension into `due`; nothing is recorded in the future."""
    from django.utils import timezone

    return day < timezone.localdate()


# --- The rules ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    category: str | None
    meaning: str
    holds: Callable[[Any], Any]  # facts -> condition (a bool, or SQL for the SQL forms)


# DESIGN.md's status table, in order: the first rule that holds decides.
RULES: tuple[Rule, ...] = (
    Rule(None, "not assigned yet on D: not counted", lambda f: f.not_assigned()),
    Rule(C.WITHDRAWN, "withdrawn by D", lambda f: f.state_is(TaskState.WITHDRAWN)),
    Rule(
        C.COMPLETED_ON_TIME,
        "completed by D, on or before the due date in force on the completion day "
        "(a task without a due date is always on time)",
        lambda f: f.all(f.completed(), f.done_in_time()),
    ),
    Rule(C.COMPLETED_LATE, "completed by D, after that due date", lambda f: f.completed()),
    Rule(C.REGULAR, "no due date in force: a regular task", lambda f: f.no_due()),
    # Overdue from 00:00 of due + 1: on the due date itself the task is in time.
    Rule(C.OVERDUE, "the due date in force at D is before D", lambda f: f.due_before_day()),
    Rule(
        C.IN_PROGRESS,
        "started, or progress reported",
        lambda f: f.any(f.state_in(_STARTED_STATES), f.progressed()),
    ),
    Rule(C.NOT_STARTED, "otherwise", lambda f: True),
)


# --- The Python form ---------------------------------------------------------------------


@dataclass(frozen=True)
class TaskFacts:
    """What is known about a task at the end of `as_of`, as plain values."""

    as_of: datetime.date
    assigned_on: datetime.date
    state: str | None = None  # of the latest update recorded by then; None: no update
    progress: int | None = None
    completed_on: datetime.date | None = None
    due: datetime.date | None = None  # in force at `as_of`
    due_at_completion: datetime.date | None = None  # in force on the completion day

    def not_assigned(self) -> bool:
        return self.assigned_on > self.as_of

    def state_is(self, state: str) -> bool:
        return self.state == state

    def state_in(self, states) -> bool:
        return self.state in states

    def completed(self) -> bool:
        return (
            self.state == TaskState.COMPLETED
            and self.completed_on is not None
            and self.completed_on <= self.as_of
        )

    def done_in_time(self) -> bool:
        if self.completed_on is None:
            return False
        return self.due_at_completion is None or self.completed_on <= self.due_at_completion

    def no_due(self) -> bool:
        return self.due is None

    def due_before_day(self) -> bool:
        return self.due is not None and self.due < self.as_of

    def progressed(self) -> bool:
        return (self.progress or 0) > 0

    @staticmethod
    def all(*conditions: bool) -> bool:
        return all(conditions)

    @staticmethod
    def any(*conditions: bool) -> bool:
        return any(conditions)


def category_of(facts: TaskFacts) -> str | None:
    """The category of a task from its facts: the first rule of `RULES` that holds."""
    for rule in RULES:
        if rule.holds(facts):
            return rule.category
    raise AssertionError("the last rule always holds")


# --- The SQL forms -----------------------------------------------------------------------


@dataclass(frozen=True)
class SqlFacts:
    """The table's questions as SQL conditions over the given expressions. A question
    whose answer is known without the database is the constant True or False, so the CASE
    built from the table leaves out the rules that cannot hold."""

    as_of: datetime.date
    assigned_on: Any
    due: Any  # in force at `as_of`
    state: Any = None  # of the latest update; None: no update, so not started
    progress: Any = None
    completed_on: Any = None
    due_at_completion: Any = None
    # Given, "no due date" reads it: the same answer as `due` (an extension moves a due
    # date, it never gives one to a regular task) without evaluating `due`'s subquery.
    original_due: Any = None

    def not_assigned(self):
        return GreaterThan(self.assigned_on, Value(self.as_of))

    def state_is(self, state: str):
        return False if self.state is None else Exact(self.state, state)

    def state_in(self, states):
        return False if self.state is None else In(self.state, list(states))

    def completed(self):
        if self.state is None:
            return False
        return Exact(self.state, TaskState.COMPLETED) & LessThanOrEqual(
            self.completed_on, Value(self.as_of)
        )

    def done_in_time(self):
        # A NULL due date at completion (a regular task) is in time: compare with the
        # completion date itself, so the due date's expression is written once.
        return LessThanOrEqual(
            self.completed_on,
            Coalesce(self.due_at_completion, self.completed_on, output_field=_DATE),
        )

    def no_due(self):
        return IsNull(self.due if self.original_due is None else self.original_due, True)

    def due_before_day(self):
        return LessThan(self.due, Value(self.as_of))

    def progressed(self):
        return False if self.progress is None else GreaterThan(self.progress, Value(0))

    @staticmethod
    def all(*conditions):
        if any(c is False for c in conditions):
            return False
        return reduce(and_, [Q(c) for c in conditions if c is not True], Q())

    @staticmethod
    def any(*conditions):
        if any(c is True for c in conditions):
            return True
        kept = [Q(c) for c in conditions if c is not False]
        return reduce(or_, kept) if kept else False


def _case(facts: SqlFacts) -> Case:
    """`RULES` as one CASE over `facts`, in order; rules that cannot hold are left out."""
    whens: list[When] = []
    for rule in RULES:
        condition = rule.holds(facts)
        if condition is True:
            return Case(*whens, default=Value(rule.category), output_field=_CATEGORY)
        if condition is not False:
            whens.append(When(condition, then=Value(rule.category)))
    raise AssertionError("the last rule always holds")


def _approved():
    from tasks_app.models import DeadlineExtension

    return DeadlineExtension.objects.filter(status=ExtensionStatus.APPROVED).order_by(
        "-decided_at", "-pk"
    )


def _due_in_force(task, cutoff: datetime.datetime, original_due) -> Coalesce:
    """The due date in force at the end of a day (`cutoff`: the first instant after it):
    the latest extension approved by then, else the original due date."""
    extension = _approved().filter(task=task, decided_at__lt=cutoff).values("proposed_due")[:1]
    return Coalesce(Subquery(extension), original_due, output_field=_DATE)


def _due_in_force_on(task, day, original_due) -> Coalesce:
    """The due date in force on `day` (an expression: the completion day): the latest
    extension decided on or before that day, else the original due date."""
    extension = (
        _approved()
        .annotate(decided_on=TruncDate("decided_at", tzinfo=local_tz()))
        .filter(task=task, decided_on__lte=day)
        .values("proposed_due")[:1]
    )
    return Coalesce(Subquery(extension), original_due, output_field=_DATE)


def _row_due_at_completion(completed_on) -> Case:
    """The due date in force on the completion day for the task row. While no extension or
    adjustment ever moved it (`due_moved` false) it is the original due date, so the
    subquery runs only for a task whose due date moved."""
    return Case(
        When(due_moved=False, then=F("original_due")),
        default=_due_in_force_on(OuterRef("pk"), completed_on, F("original_due")),
        output_field=_DATE,
    )


def current_category_expression(as_of: datetime.date) -> Case:
    """The category at `as_of` for a day not over yet, from the task row's mirrored
    columns (see `day_is_over`): one CASE per task, whose only subquery (the due date in
    force on the completion day) runs only for a completed task whose due date moved."""
    return _case(
        SqlFacts(
            as_of=as_of,
            assigned_on=F("assigned_on"),
            state=F("state"),
            progress=F("progress"),
            completed_on=F("completed_on"),
            due=F("due"),
            due_at_completion=_row_due_at_completion(OuterRef("completed_on")),
        )
    )


def history_category_expression(as_of: datetime.date) -> Coalesce:
    """The category at `as_of` from what was known at the end of that day.

    The rules run inside ONE correlated subquery over the latest status update recorded
    by then, so the SQL names each history subquery once: Django repeats an expression's
    SQL wherever a CASE refers to it, which made the plain form (one subquery per fact)
    grow past 30 kB per query. A task without such an update goes through the same table
    with no state (not started).
    """
    from tasks_app.models import StatusUpdate

    cutoff = end_of_day(as_of)
    # Inside the update subquery, OuterRef names the task; one level deeper, the update.
    in_update = SqlFacts(
        as_of=as_of,
        assigned_on=OuterRef("assigned_on"),
        state=F("state"),
        progress=F("progress"),
        completed_on=F("completed_on"),
        due=_due_in_force(OuterRef("task_id"), cutoff, OuterRef("original_due")),
        due_at_completion=_due_in_force_on(
            OuterRef("task_id"), OuterRef("completed_on"), OuterRef("original_due")
        ),
    )
    latest = (
        StatusUpdate.objects.filter(task=OuterRef("pk"), recorded_at__lt=cutoff)
        .order_by("-recorded_at", "-pk")
        .annotate(category=_case(in_update))
        .values("category")[:1]
    )
    without_updates = SqlFacts(
        as_of=as_of,
        assigned_on=F("assigned_on"),
        due=_due_in_force(OuterRef("pk"), cutoff, F("original_due")),
        original_due=F("original_due"),
    )
    return Coalesce(Subquery(latest), _case(without_updates), output_field=_CATEGORY)


def own_category_expression(as_of: datetime.date, *, from_history: bool = False):
    """The report category of a task at `as_of` from its own facts (NULL for a task not
    yet assigned), as one SQL expression: today's form for a day not over yet (unless
    `from_history`), else the history form. Both are `RULES`."""
    if from_history or day_is_over(as_of):
        return history_category_expression(as_of)
    return current_category_expression(as_of)


# --- State and due date in force at D: the one place -------------------------------------


def facts_at(as_of: datetime.date) -> dict[str, Any]:
    """The annotations of what was known about each task at the end of `as_of`, shared by
    reports and reminders (`TaskQuerySet.with_history_at`):

    - `state_at`, `progress_at`, `completed_on_at`: from the latest status update
      recorded by then (NULL when there was none);
    - `due_at`: the due date in force, i.e. the latest extension approved by then, else
      the original due date;
    - `due_at_completion`: the due date in force on the completion day;
    - `lead_agency_at`: the id of the lead agency in force (the change history, TaskChange).

    Short cuts, valid because the services write the task row after every update and
    every approval, with a recorded or decided time no later than the write:
    - for a day not over yet, the row's columns are the answer (see `day_is_over`);
    - for a past day, a row last written before the end of the day (`updated_at`) already
      mirrors everything known then, so the history subqueries run only for rows changed
      since; and while `due_moved` is false no extension or adjustment was ever approved.
    A task without any update has `state_at` NULL, except where a short cut reads the
    row's own `not_started`: callers treat both as not started.
    """
    from tasks_app.models import StatusUpdate

    if not day_is_over(as_of):
        return {
            "state_at": F("state"),
            "progress_at": F("progress"),
            "completed_on_at": F("completed_on"),
            "due_at": F("due"),
            "due_at_completion": _row_due_at_completion(OuterRef("completed_on")),
            "lead_agency_at": F("lead_agency_id"),
        }
    cutoff = end_of_day(as_of)
    written_by_then = Q(updated_at__lt=cutoff)
    latest = StatusUpdate.objects.filter(task=OuterRef("pk"), recorded_at__lt=cutoff).order_by(
        "-recorded_at", "-pk"
    )

    def known(column: str, field) -> Case:
        return Case(
            When(written_by_then, then=F(column)),
            default=Subquery(latest.values(column)[:1]),
            output_field=field,
        )

    return {
        "state_at": known("state", models.CharField()),
        "progress_at": known("progress", models.IntegerField()),
        "completed_on_at": known("completed_on", _DATE),
        "due_at": Case(
            When(Q(due_moved=False) | written_by_then, then=F("due")),
            default=_due_in_force(OuterRef("pk"), cutoff, F("original_due")),
            output_field=_DATE,
        ),
        "due_at_completion": _due_in_force_on(
            OuterRef("pk"), OuterRef("completed_on_at"), F("original_due")
        ),
        "lead_agency_at": Case(
            When(written_by_then, then=F("lead_agency_id")),
            default=_lead_agency_in_force(OuterRef("pk"), cutoff),
            output_field=models.IntegerField(),
        ),
    }


def _lead_agency_in_force(task, cutoff: datetime.datetime) -> Coalesce:
    """The lead agency's id at `cutoff`: the one a later change replaced (the old value of
    the first change of the lead agency recorded since), else today's."""
    from tasks_app.models import TaskChange

    replaced = (
        TaskChange.objects.filter(task=task, field="lead_agency", changed_at__gte=cutoff)
        .order_by("changed_at", "pk")
        .values("old_value")[:1]
    )
    return Coalesce(
        Cast(Subquery(replaced), models.IntegerField()),
        F("lead_agency_id"),
        output_field=models.IntegerField(),
    )


# --- Parent tasks --------------------------------------------------------------------------

_OPEN = {C.IN_PROGRESS, C.OVERDUE, C.NOT_STARTED, C.REGULAR}
_DONE = {C.COMPLETED_ON_TIME, C.COMPLETED_LATE}


def rollup(present: set) -> str | None:
    """A parent task's category from the set of its children's categories (DESIGN.md:
    "completed when all are; overdue when any child is"), in order:
    overdue when any child is; withdrawn when every child was; completed when every
    child not withdrawn is (late when any was late); in progress once any child has
    progressed or finished; regular when every open child is regular; else not started.
    The parent's own rule (not assigned yet: None) is the caller's."""
    if C.OVERDUE in present:
        return C.OVERDUE
    open_, done = present & _OPEN, present & _DONE
    if not open_ and not done:
        return C.WITHDRAWN if present else None
    if not open_:
        return C.COMPLETED_LATE if C.COMPLETED_LATE in done else C.COMPLETED_ON_TIME
    if C.IN_PROGRESS in present or done:
        return C.IN_PROGRESS
    if C.NOT_STARTED not in present:
        return C.REGULAR
    return C.NOT_STARTED


# Each category as a bit, so that the categories present among a parent's children add up
# (SUM DISTINCT in SQL) to one number, which ROLLUP_BY_MASK maps to the parent's category:
# `rollup` tabulated for every non-empty set.
CATEGORY_BITS = {category: 1 << index for index, category in enumerate(C.values)}
ROLLUP_BY_MASK = {
    mask: rollup({c for c, bit in CATEGORY_BITS.items() if mask & bit})
    for mask in range(1, 1 << len(CATEGORY_BITS))
}


def parent_category(
    *, as_of: datetime.date, assigned_on: datetime.date, children_categories
) -> str | None:
    """A parent task's category at `as_of` from its children's own categories (None for a
    child not yet assigned): None while the parent is not assigned (the table's first
    rule), else `rollup`. In Python what `parent_category_expression` is in SQL."""
    if TaskFacts(as_of=as_of, assigned_on=assigned_on).not_assigned():
        return None
    return rollup({c for c in children_categories if c is not None})


def parent_category_expression(as_of: datetime.date, rolled_up) -> Case:
    """`parent_category` in SQL, given the SQL of the children's roll-up."""
    facts = SqlFacts(as_of=as_of, assigned_on=F("assigned_on"), due=None)
    return Case(
        When(facts.not_assigned(), then=Value(None)), default=rolled_up, output_field=_CATEGORY
    )
