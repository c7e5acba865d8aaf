"""Selectors: reading tasks and agencies, always through the permission scope.

The related rows every list needs are fetched here, once, so that the number of queries
does not grow with the number of rows shown.
"""

import datetime
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from tasks_app.choices import AgeingBand, ReportCategory, SuccessionKind
from tasks_app.collation import vi_order, vi_sort_key, vi_sorted
from tasks_app.compiled import rows_by_id, rows_by_ids, rows_by_value
from tasks_app.formatting import days_late
from tasks_app.models import (
    AGENCY_LABEL,
    Agency,
    AgencySuccession,
    DeadlineExtension,
    Evidence,
    Membership,
    Plan,
    PriorityArea,
    StatusUpdate,
    Task,
)
from tasks_app.permissions import agencies_visible_to, scope_key, tasks_visible_to
from tasks_app.querysets import TaskQuerySet
from tasks_app.search import search

# --- Querysets built once per process --------------------------------------------------------

_QS = TypeVar("_QS", bound=QuerySet)
_BUILT: dict[tuple, QuerySet] = {}
_MAX_BUILT = 1024


def cache_key(name: str, *, as_of: datetime.date | None = None, user=None) -> tuple:
    """The key of a query cached per process: `built_once`'s querysets, and the SQL that
    tasks_app.compiled builds once per connection. The key rules, stated here once; the
    key must name everything the cached query depends on:

    - `name`: which query (one name per builder);
    - `as_of`, for a query that depends on a date: the date AND whether that day is over
      (categories.day_is_over), since the category has another SQL form once the day is
      over; so a query built "today" is not reused tomorrow;
    - `user`, for a query through the permission scope: the scope key
      (permissions.scope_key), which names everything the scope depends on; users with
      equal keys share the query;
    - nothing else: a builder must not read anything else that varies (settings, the
      clock).
    """
    from tasks_app.categories import day_is_over

    key: tuple = (name,)
    if as_of is not None:
        key += (as_of, day_is_over(as_of))
    if user is not None:
        key += (scope_key(user),)
    return key


def built_once(
    name: str, build: Callable[[], _QS], *, as_of: datetime.date | None = None, user=None
) -> _QS:
    """`build()` (through `user`'s scope when given), built once per process and
    `cache_key`, returned as a clone (`.all()`).

    Why: resolving the report category's expression took 7–10 ms of Python on every list,
    detail and write answer, and the permission scope's filter a millisecond or two
    (bench/results/api.md); a clone of a built queryset shares its resolved expressions
    and costs almost nothing. The cached queryset itself is never evaluated. With many
    dates or scopes the cache starts again rather than grow.
    """
    key = cache_key(name, as_of=as_of, user=user)
    built = _BUILT.get(key)
    if built is None:
        if len(_BUILT) >= _MAX_BUILT:
            _BUILT.clear()
        built = _BUILT[key] = tasks_visible_to(user, build()) if user is not None else build()
    return cast(_QS, built.all())  # the clone is of the kind that was built


def tasks_with_category(as_of: datetime.date) -> TaskQuerySet:
    """`Task.objects.with_category(as_of)`, built once (see `built_once`)."""
    return built_once("category", lambda: Task.objects.with_category(as_of), as_of=as_of)


def _tasks_with_leaf_category(as_of: datetime.date) -> TaskQuerySet:
    """Tasks with `is_parent` and, right for leaf tasks only, `category` at `as_of`: a
    leaf's category is its own category (TaskQuerySet.with_category). Without the roll-up
    of children, PostgreSQL plans one task's query in a fraction of the time."""
    from django.db.models import Exists

    from tasks_app.categories import own_category_expression
    from tasks_app.querysets import children_of_outer_task

    return Task.objects.annotate(
        category=own_category_expression(as_of), is_parent=Exists(children_of_outer_task())
    )


def task_list_visible_to(
    *, user, as_of: datetime.date | None = None, query: str = ""
) -> TaskQuerySet:
    """Tasks the user may see, each annotated with its report `category` at `as_of`
    (default: today in Asia/Ho_Chi_Minh), with lead agency, plan and priority area joined
    and coordinating agencies prefetched."""
    as_of = as_of or timezone.localdate()
    tasks = built_once(
        "category", lambda: Task.objects.with_category(as_of), as_of=as_of, user=user
    )
    if query:
        tasks = search(tasks, query)
    return tasks.select_related(
        "plan", "priority_area", "lead_agency", "lead_agency__level", "parent"
    ).prefetch_related(
        Prefetch(
            "coordinating_agencies",
            queryset=Agency.objects.order_by(vi_order(AGENCY_LABEL), "code"),
        )
    )


def task_list_for_api(
    *, user, as_of: datetime.date | None = None, by_category: bool = True
) -> TaskQuerySet:
    """The tasks of the API's list: `task_list_visible_to` when the request filters on
    `category`. Otherwise the same tasks with the category right for leaf tasks only, which
    PostgreSQL plans and Django builds in half the time (the roll-up of children is most of
    the expression); complete a page of its rows with `task_rows_with_parent_categories`."""
    if by_category:
        return task_list_visible_to(user=user, as_of=as_of)
    as_of = as_of or timezone.localdate()
    return built_once("leaf", lambda: _tasks_with_leaf_category(as_of), as_of=as_of, user=user)


def task_rows_with_parent_categories(rows: list[dict], as_of: datetime.date) -> list[dict]:
    """Give the parent tasks among rows of `task_list_for_api(by_category=False)` their
    rolled-up category at `as_of` (TaskQuerySet.with_category): one query over their
    children, whatever the number of rows."""
    from tasks_app.categories import own_category_expression, parent_category

    parents = {row["id"]: row for row in rows if row["is_parent"]}
    if parents:
        children: dict[int, list] = {pk: [] for pk in parents}
        for parent_id, category in (
            Task.objects.filter(parent_id__in=list(parents))
            .annotate(own=own_category_expression(as_of))
            .values_list("parent_id", "own")
        ):
            children[parent_id].append(category)
        for pk, row in parents.items():
            row["category"] = parent_category(
                as_of=as_of, assigned_on=row["assigned_on"], children_categories=children[pk]
            )
    return rows


def task_get(*, user, pk: int, as_of: datetime.date | None = None) -> Task:
    """One visible task with its history, extensions and children; raises
    Task.DoesNotExist when it is hidden from the user."""
    return (
        task_list_visible_to(user=user, as_of=as_of)
        .prefetch_related(
            Prefetch(
                "updates",
                queryset=StatusUpdate.objects.select_related("author", "agency")
                .prefetch_related("evidence")
                .order_by("-recorded_at", "-pk"),
            ),
            Prefetch(
                "extensions",
                queryset=DeadlineExtension.objects.select_related(
                    "requested_by", "decided_by"
                ).order_by("-requested_at"),
            ),
            Prefetch("children", queryset=Task.objects.select_related("lead_agency")),
        )
        .get(pk=pk)
    )


def agency_list_visible_to(*, user, query: str = "") -> QuerySet[Agency]:
    """Agencies the user may read about, with level and parent joined, in Vietnamese
    alphabetical order."""
    agencies = (
        agencies_visible_to(user)
        .select_related("level", "parent")
        .order_by(vi_order("name"), "code")
    )
    return search(agencies, query) if query else agencies


# --- Staff pages (appended for the web UI) -----------------------------------------------------

TASK_RELATION_LED = "led"
TASK_RELATION_COORDINATED = "coordinated"
# Led or coordinated by one of the user's agencies (or below them): the calendar feed's
# "my agency's tasks", also for monitors and leaders (who see every task otherwise).
TASK_RELATION_OWN = "own"


def task_filter(
    tasks: TaskQuerySet,
    *,
    user,
    as_of: datetime.date,
    q: str = "",
    plan: int | None = None,
    priority_area: int | None = None,
    lead_agency: int | None = None,
    subtree: bool | None = None,
    agency: int | None = None,
    coordinating_agency: int | None = None,
    relation: str = "",
    level: int | str | None = None,
    state: Sequence[str] = (),
    category: Sequence[str] | str = (),
    overdue: bool | None = None,
    overdue_days: str = "",
    counted: bool | None = None,
    due_by: bool | None = None,
    due_month: datetime.date | None = None,
    due_after: datetime.date | None = None,
    due_before: datetime.date | None = None,
    parent: int | None = None,
    top_level: bool | None = None,
    is_parent: bool | None = None,
    needs_reassignment: bool | None = None,
) -> TaskQuerySet:
    """The task filters of the staff list and the API, defined once: each keyword is the
    query parameter of the same name (tasks_app/forms.py TaskFilterForm, tasks_app/api/
    filters.py TaskFilter). `tasks` comes from the permission scope, annotated with the
    `category` at `as_of` (and `due_at`, `is_parent` where a filter reads them); filters
    only narrow it. An empty value (None, "", no items) does not filter.

    - `q`: code and title, ignoring case and Vietnamese diacritics;
    - `plan`, `priority_area`, `parent`: ids; `top_level`: no parent; `is_parent`: split
      per agency (false: the leaf tasks that reports count);
    - `lead_agency`: exactly this agency, or with `subtree` this agency and those below
      it; `agency`: the lead agency lies in this agency's subtree (dashboard filter);
      `level`: the lead agency's administrative level, by id or code. These read the lead
      agency at `as_of` when the history is annotated (`lead_agency_at`), as reports do;
    - `coordinating_agency`: an agency (id) coordinates the task; `relation`: "led" (the
      lead agency is one of the user's agencies or below them), "coordinated" (one of the
      coordinating agencies is) or "own" (either);
    - `state`: stored states; `category`: report categories at `as_of`; `overdue`:
      overdue at `as_of` or not; `overdue_days`: an ageing band of days overdue at
      `as_of` (AgeingBand); `counted`: the tasks a report counts (withdrawn left out);
    - `due_by`: the due date in force at `as_of` is on or before it; `due_month`: any day
      of the month of the (current) due date; `due_after`, `due_before`: bounds of it;
    - `needs_reassignment`: flagged "cần giao lại" (the lead agency ceased to exist) or not.
    """
    from django.db.models import Exists, OuterRef, Q

    from tasks_app.permissions import own_agency_subtree

    if q:
        tasks = search(tasks, q)
    if plan:
        tasks = tasks.filter(plan_id=plan)
    if priority_area:
        tasks = tasks.filter(priority_area_id=priority_area)
    if parent:
        tasks = tasks.filter(parent_id=parent)
    if top_level is not None:
        tasks = tasks.filter(parent__isnull=top_level)
    if is_parent is not None:
        tasks = tasks.filter(is_parent=is_parent)
    # The lead agency at `as_of` where the history is annotated (a task handed to another
    # agency since is found under the one that led it then, as the dashboard counts it).
    lead = "lead_agency_at" if "lead_agency_at" in tasks.query.annotations else "lead_agency_id"

    def led_by(agencies) -> TaskQuerySet:
        return tasks.filter(**{f"{lead}__in": agencies.values("pk")})

    if lead_agency and subtree:
        path = Agency.objects.filter(pk=lead_agency).values_list("path", flat=True).first()
        tasks = led_by(Agency.objects.filter(path__startswith=path)) if path else tasks.none()
    elif lead_agency:
        tasks = tasks.filter(**{lead: lead_agency})
    if agency:
        path = Agency.objects.filter(pk=agency).values_list("path", flat=True).first()
        tasks = led_by(Agency.objects.filter(path__startswith=path)) if path else tasks.none()
    if isinstance(level, int) or (isinstance(level, str) and level.isdigit()):
        tasks = led_by(Agency.objects.filter(level_id=int(level)))
    elif level:
        tasks = led_by(Agency.objects.filter(level__code=level))
    if coordinating_agency:
        # Exists, not a join: a join on the many-to-many would repeat rows.
        through = Task.coordinating_agencies.through.objects.filter(
            task_id=OuterRef("pk"), agency_id=coordinating_agency
        )
        tasks = tasks.filter(Exists(through))
    if relation in (TASK_RELATION_LED, TASK_RELATION_COORDINATED, TASK_RELATION_OWN):
        own = own_agency_subtree(user)
        led = Q(lead_agency__in=own)
        coordinated = Exists(
            Task.coordinating_agencies.through.objects.filter(
                task_id=OuterRef("pk"), agency__in=own
            )
        )
        tasks = tasks.filter(
            {
                TASK_RELATION_LED: led,
                TASK_RELATION_COORDINATED: Q(coordinated),
                TASK_RELATION_OWN: led | coordinated,
            }[relation]
        )
    if state:
        tasks = tasks.filter(state__in=list(state))
    if category:
        tasks = tasks.filter(category__in=[category] if isinstance(category, str) else category)
    if overdue is not None:
        overdue_only = {"category": ReportCategory.OVERDUE}
        tasks = tasks.filter(**overdue_only) if overdue else tasks.exclude(**overdue_only)
    if counted:
        tasks = tasks.exclude(category=ReportCategory.WITHDRAWN)
    if overdue_days in AgeingBand.values:
        # Overdue from due + 1: a task due on D - n is n days overdue at D.
        band = AgeingBand(overdue_days)
        tasks = tasks.filter(due_at__lte=as_of - datetime.timedelta(days=band.first_day))
        if band.last_day is not None:
            tasks = tasks.filter(due_at__gte=as_of - datetime.timedelta(days=band.last_day))
    if due_by:
        tasks = tasks.filter(due_at__lte=as_of)
    if due_month:
        tasks = tasks.filter(due__year=due_month.year, due__month=due_month.month)
    if due_after:
        tasks = tasks.filter(due__gte=due_after)
    if due_before:
        tasks = tasks.filter(due__lte=due_before)
    if needs_reassignment is not None:
        tasks = tasks.filter(needs_reassignment=needs_reassignment)
    return tasks


def task_list_filtered(
    *, user, as_of: datetime.date | None = None, descending: bool = False, **filters
) -> TaskQuerySet:
    """The staff task list: `task_list_visible_to` narrowed by `task_filter` and sorted
    by due date (regular tasks, which have none, last), then code."""
    from django.db.models import F

    as_of = as_of or timezone.localdate()
    tasks = task_filter(
        task_list_visible_to(user=user, as_of=as_of), user=user, as_of=as_of, **filters
    )
    due = F("due").desc(nulls_last=True) if descending else F("due").asc(nulls_last=True)
    return tasks.order_by(due, "plan_id", "code")


def task_list_for_calendar(*, user, as_of: datetime.date | None = None) -> TaskQuerySet:
    """The tasks of a person's calendar feed (issue 17): the staff list's tasks (the one
    permission scope) that the user's agencies, or those below them, lead or coordinate
    (`relation="own"`), with a due date and not withdrawn, by due date; open and completed
    ones (a completed task stays in the calendar, marked done). Each has its `category` at
    `as_of` and `due_changes`: how many times its due date moved (approved extensions and
    the monitoring agency's adjustments, both recorded as TaskChange of `due`), which the
    feed gives as the event's SEQUENCE so that calendar apps replace the event."""
    from django.db.models import Count, OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    from tasks_app.choices import TaskState
    from tasks_app.models import TaskChange

    due_changes = (
        TaskChange.objects.filter(task_id=OuterRef("pk"), field="due")
        .order_by()
        .values("task_id")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return (
        task_list_filtered(user=user, as_of=as_of, relation=TASK_RELATION_OWN)
        .filter(due__isnull=False)
        .exclude(state=TaskState.WITHDRAWN)
        .annotate(due_changes=Coalesce(Subquery(due_changes), Value(0)))
        # The feed names no coordinating agency: no need for their query.
        .prefetch_related(None)
    )


def task_children_visible_to(
    *, user, parent: Task, as_of: datetime.date | None = None
) -> TaskQuerySet:
    """The children of a parent task ("tasks per agency") that the user may see, with their
    category at `as_of`, by lead agency."""
    return (
        task_list_visible_to(user=user, as_of=as_of)
        .filter(parent=parent)
        .order_by("lead_agency__path", "code")
    )


def priority_area_list_visible_to(*, user) -> QuerySet:
    """Priority areas that hold at least one task the user may see, in plan order."""
    from django.db.models import Exists, OuterRef

    from tasks_app.models import PriorityArea

    visible = tasks_visible_to(user).filter(priority_area=OuterRef("pk"))
    return (
        PriorityArea.objects.filter(Exists(visible))
        .select_related("plan")
        .order_by("plan__period_start", "plan__code", "order", "code")
    )


def extension_list_pending_visible_to(*, user) -> QuerySet[DeadlineExtension]:
    """Extension requests waiting for a decision on tasks the user may see, oldest first."""
    return (
        DeadlineExtension.objects.filter(
            status="pending", task__in=tasks_visible_to(user).values("pk")
        )
        .select_related("task", "task__lead_agency", "task__plan", "requested_by", "agency")
        .order_by("requested_at", "pk")
    )


def extension_get_visible_to(*, user, pk: int) -> DeadlineExtension:
    """One extension request on a task the user may see; raises DoesNotExist otherwise."""
    return (
        DeadlineExtension.objects.filter(task__in=tasks_visible_to(user).values("pk"))
        .select_related("task", "task__lead_agency", "task__plan", "requested_by", "agency")
        .get(pk=pk)
    )


def evidence_get_visible_to(*, user, pk: int):
    """One evidence file of a task the user may see; raises Evidence.DoesNotExist otherwise
    (the download then answers 404, as for a hidden task)."""
    from tasks_app.models import Evidence

    return Evidence.objects.filter(update__task__in=tasks_visible_to(user).values("pk")).get(pk=pk)


def status_update_latest(*, task: Task) -> StatusUpdate | None:
    """The latest update of a task (what someone else saved), with author and agency."""
    return task.updates.select_related("author", "agency").order_by("-recorded_at", "-pk").first()


# --- Selectors of the REST API ------------------------------------------------------------------


def task_get_for_api(*, user, pk: int, as_of: datetime.date | None = None) -> Task:
    """One visible task for the API, with its `category` at `as_of` and the children the
    user may see in `visible_children` (a child led by another district stays hidden).
    Raises Task.DoesNotExist when the task is hidden from the user."""
    children = tasks_visible_to(user, Task.objects.select_related("lead_agency")).order_by("code")
    return (
        task_list_visible_to(user=user, as_of=as_of)
        .prefetch_related(Prefetch("children", queryset=children, to_attr="visible_children"))
        .get(pk=pk)
    )


# The columns of the API's task answers, read as values: building a model instance per task
# and per related row, then walking DRF's fields, took most of a list's time.
TASK_API_VALUES = (
    "id",
    "plan",
    "priority_area",
    "priority_area__code",
    "priority_area__name",
    "code",
    "title",
    "expected_output",
    "lead_agency",
    "lead_agency__code",
    "lead_agency__name",
    "lead_agency__short_name",
    "parent",
    "is_parent",
    "assigned_on",
    "original_due",
    "due",
    "state",
    "progress",
    "completed_on",
    "result",
    "category",
    "kpi_target",
    "kpi_unit",
    "kpi_actual",
    "weight",
    "dti_index",
    "needs_reassignment",
    "version",
    "created_at",
    "updated_at",
)
TASK_CHILD_API_VALUES = (
    "id",
    "code",
    "lead_agency",
    "lead_agency__code",
    "lead_agency__name",
    "lead_agency__short_name",
    "state",
    "progress",
    "due",
    "version",
)


def task_values_for_api(tasks: TaskQuerySet) -> QuerySet:
    """The API's columns of tasks from `task_list_visible_to` (filtered and ordered as the
    caller likes), as dictionaries; lazy, so a paginator can count and slice it. Complete
    the rows with `task_rows_with_coordination`."""
    return tasks.prefetch_related(None).values(*TASK_API_VALUES)


def _coordination_in_order(agencies: list[tuple]) -> list[tuple]:
    """(id, code, name, short_name) tuples of a task's coordinating agencies by the label
    the pages show (short name, else name) in Vietnamese order, then code: the order of
    `vi_order(AGENCY_LABEL)` that the task page's prefetch uses."""
    return sorted(agencies, key=lambda agency: (vi_sort_key(agency[3] or agency[2]), agency[1]))


_THROUGH_AGENCY = ("agency_id", "agency__code", "agency__name", "agency__short_name")


def task_rows_with_coordination(rows) -> list[dict]:
    """Give each task row its `coordinating_agencies` as (id, code, name, short_name)
    tuples in Vietnamese order: one query, whatever the number of rows."""
    rows = list(rows)
    by_task: dict[int, list] = {row["id"]: [] for row in rows}
    through = Task.coordinating_agencies.through.objects
    for row in rows_by_ids(
        ("coordinating agencies",),
        lambda ids: through.filter(task_id__in=ids).values("task_id", *_THROUGH_AGENCY),
        list(by_task),
    ):
        by_task[row["task_id"]].append(tuple(row[name] for name in _THROUGH_AGENCY))
    for row in rows:
        row["coordinating_agencies"] = _coordination_in_order(by_task[row["id"]])
    return rows


def task_rows_with_days_late(rows: list[dict], as_of: datetime.date) -> list[dict]:
    """Give each task row its `days_late` (as Task.days_late): for the rows in the
    category completed_late at `as_of`, the days between the due date in force on the
    completion day and the completion date, read in one query through
    TaskQuerySet.with_history_at (none when no row is late); None for the others."""
    late = [row["id"] for row in rows if row["category"] == ReportCategory.COMPLETED_LATE]
    found: dict[int, int | None] = {}
    if late:
        # SQL built once per date and number of late rows (tasks_app.compiled): building
        # the history's expressions was 2 of the 3.4 ms this took on one agency's list
        # (issue 18).
        found = {
            row["pk"]: days_late(row["completed_on_at"], row["due_at_completion"])
            for row in rows_by_ids(
                cache_key("days late", as_of=as_of),
                lambda ids: (
                    Task.objects.with_history_at(as_of)
                    .filter(pk__in=ids)
                    .values("pk", "completed_on_at", "due_at_completion")
                ),
                late,
            )
        }
    for row in rows:
        row["days_late"] = found.get(row["id"])
    return rows


# One task's API row and its coordinating agencies in one query: a row per coordinating
# agency (LEFT JOIN), folded and put in order by `_fold_coordination`.
_COORDINATION_VALUES = (
    "coordinating_agencies",
    "coordinating_agencies__code",
    "coordinating_agencies__name",
    "coordinating_agencies__short_name",
)


def _leaf_rows(as_of: datetime.date) -> QuerySet:
    return _tasks_with_leaf_category(as_of).values(*TASK_API_VALUES, *_COORDINATION_VALUES)


def _fold_coordination(rows: list[dict]) -> dict:
    """The rows of `_leaf_rows` for one task as one row with its `coordinating_agencies`
    (id, code, name, short_name), as `task_rows_with_coordination` gives them."""
    row = {name: rows[0][name] for name in TASK_API_VALUES}
    row["coordinating_agencies"] = _coordination_in_order(
        [
            tuple(each[name] for name in _COORDINATION_VALUES)
            for each in rows
            if each["coordinating_agencies"] is not None
        ]
    )
    return row


def task_row_for_api(
    *,
    user,
    pk,
    as_of: datetime.date | None = None,
    children: bool = False,
    reached: bool = False,
) -> dict:
    """One visible task as an API row (see TASK_API_VALUES) with its coordinating
    agencies and, with `children`, the children the user may see (`visible_children`, by
    code; a child led by another district stays hidden). Raises Task.DoesNotExist when the
    task is hidden from the user. `reached`: the caller reached this task through the
    scope in the same request (a write answering with the task it changed), so it is read
    by id without applying the scope's filter again."""
    as_of = as_of or timezone.localdate()
    scope = None if reached else user
    rows = rows_by_id(
        cache_key("leaf rows", as_of=as_of, user=scope),
        lambda: built_once("leaf rows", lambda: _leaf_rows(as_of), as_of=as_of, user=scope),
        pk,
    )
    if not rows:
        raise Task.DoesNotExist
    row = _fold_coordination(rows)
    if row["is_parent"]:  # the category rolls its children up: the whole expression
        row["category"] = (
            task_list_visible_to(user=user, as_of=as_of)
            .filter(pk=pk)
            .values_list("category", flat=True)
            .get()
        )
    if children and not row["is_parent"]:  # no children at all: no query to find none
        row["visible_children"] = []
    elif children:
        row["visible_children"] = list(
            tasks_visible_to(user, Task.objects.filter(parent_id=row["id"]))
            .order_by("code")
            .values(*TASK_CHILD_API_VALUES)
        )
    return row


# A task and its lead agency as model instances from one row (task_get_for_action).
_TASK_COLUMNS = [field.attname for field in Task._meta.concrete_fields]
_LEAD_COLUMNS = [field.attname for field in Agency._meta.concrete_fields]


def task_get_for_action(*, user, pk) -> Task:
    """A visible task about to be changed, with its lead agency and without the report
    category (which is costly to build and which a write does not need). Raises
    Task.DoesNotExist when hidden.

    `select_related("lead_agency")` through the scope, read with SQL built once per scope
    (tasks_app.compiled; the benchmark row it needs is in its docstring)."""

    def build():
        lead = [f"lead_agency__{name}" for name in _LEAD_COLUMNS]
        return tasks_visible_to(user, Task.objects.values(*_TASK_COLUMNS, *lead))

    rows = rows_by_id(cache_key("action", user=user), build, pk)
    if not rows:
        raise Task.DoesNotExist("Task matching query does not exist.")
    (row,) = rows
    task = Task.from_db(Task.objects.db, _TASK_COLUMNS, [row[name] for name in _TASK_COLUMNS])
    task.lead_agency = Agency.from_db(
        Task.objects.db, _LEAD_COLUMNS, [row[f"lead_agency__{name}"] for name in _LEAD_COLUMNS]
    )
    return task


def status_update_list_for_task(*, task: Task) -> QuerySet[StatusUpdate]:
    """The history of a task the caller has already loaded through the scope, newest first,
    with authors, agencies and evidence files fetched once."""
    return (
        StatusUpdate.objects.filter(task=task)
        .select_related("author", "agency")
        .prefetch_related("evidence")
        .order_by("-recorded_at", "-pk")
    )


# A page of a task's history as value rows: the update, its author and agency, and one
# evidence file (a LEFT JOIN: a row per file, none when the update has no file).
_UPDATE_VALUES = (
    "id",
    "task_id",
    "kind",
    "recorded_at",
    "state",
    "progress",
    "kpi_actual",
    "completed_on",
    "result",
    "difficulties",
    "proposals",
    "reason",
)
_UPDATE_AUTHOR_VALUES = ("author_id", "author__username", "author__first_name", "author__last_name")
_UPDATE_AGENCY_VALUES = ("agency_id", "agency__code", "agency__name", "agency__short_name")
_EVIDENCE_VALUES = ("id", "original_name", "content_type", "size", "sha256", "uploaded_at")


class StatusUpdatePages:
    """The history of a task the caller has already loaded through the scope, newest first,
    as a paginator reads it: `count()`, and slices of StatusUpdate objects with their
    `author`, `agency` and evidence files (`evidence_files`), read in one query however many
    updates and files the slice holds.

    Issue 18 (bench/api.py `task_with_history`, p50 <= 6 ms): the evidence's own query
    was a sixth of the history request, and building this query with the ORM took 4.4 ms.
    The slice's ids (LIMIT/OFFSET on the history's index) are a subquery joined to their
    files, and its SQL is built once per slice and connection (tasks_app.compiled)."""

    def __init__(self, *, task_id: int):
        self.task_id = task_id

    def count(self) -> int:
        return StatusUpdate.objects.filter(task_id=self.task_id).count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: slice) -> list[StatusUpdate]:
        def build(task_id: int) -> QuerySet:
            page = (
                StatusUpdate.objects.filter(task_id=task_id)
                .order_by("-recorded_at", "-pk")
                .values("pk")[key]
            )
            return (
                StatusUpdate.objects.filter(pk__in=page)
                .order_by("-recorded_at", "-pk", "evidence__pk")
                .values(
                    *_UPDATE_VALUES,
                    *_UPDATE_AUTHOR_VALUES,
                    *_UPDATE_AGENCY_VALUES,
                    *(f"evidence__{name}" for name in _EVIDENCE_VALUES),
                )
            )

        rows = rows_by_value(("status update page", key.start, key.stop), build, self.task_id)
        updates: dict[int, StatusUpdate] = {}
        for row in rows:
            update = updates.get(row["id"])
            if update is None:
                update = updates[row["id"]] = _update_from_row(row)
            if row["evidence__id"] is not None:
                update.evidence_files.append(  # type: ignore[attr-defined]
                    Evidence(
                        update_id=row["id"],
                        **{name: row[f"evidence__{name}"] for name in _EVIDENCE_VALUES},
                    )
                )
        return list(updates.values())


def _update_from_row(row: dict) -> StatusUpdate:
    """A StatusUpdate with its author and agency, from a row of StatusUpdatePages."""
    update = StatusUpdate(**{name: row[name] for name in _UPDATE_VALUES})
    update.author = (
        None
        if row["author_id"] is None
        else get_user_model()(
            pk=row["author_id"],
            username=row["author__username"],
            first_name=row["author__first_name"],
            last_name=row["author__last_name"],
        )
    )
    update.agency = (
        None
        if row["agency_id"] is None
        else Agency(
            pk=row["agency_id"],
            code=row["agency__code"],
            name=row["agency__name"],
            short_name=row["agency__short_name"],
        )
    )
    update.evidence_files = []  # type: ignore[attr-defined]
    return update


def task_changes(*, task: Task) -> QuerySet:
    """The change history of a task the caller has already loaded through the scope (its
    TaskChange rows), newest first, with the authors joined: one query for any number of
    rows."""
    from tasks_app.models import TaskChange

    return (
        TaskChange.objects.filter(task=task).select_related("author").order_by("-changed_at", "-pk")
    )


def plan_document_with_file(*, pk):
    """A basis document that has a file, for its download (plans and their documents are
    public to every signed-in user). Raises PlanDocument.DoesNotExist otherwise."""
    from tasks_app.models import PlanDocument

    return PlanDocument.objects.exclude(file="").get(pk=pk)


def extension_list_visible_to(*, user) -> QuerySet[DeadlineExtension]:
    """Extension requests on the tasks the user may see, newest first."""
    return (
        DeadlineExtension.objects.filter(task__in=tasks_visible_to(user).values("pk"))
        .select_related("task", "requested_by", "decided_by", "agency")
        .order_by("-requested_at", "-pk")
    )


def contributing_agency_for(*, user, task: Task) -> Agency | None:
    """The coordinating agency of `task` in whose name `user` contributes (the first by code
    when the user works for several of them)."""
    from tasks_app.permissions import contributing_agencies

    return contributing_agencies(user, task).order_by("code").first()


def membership_list_for(*, user) -> QuerySet[Membership]:
    """The user's roles in agencies in force today, with the agencies joined."""
    return (
        Membership.objects.filter(user=user)
        .valid_on(timezone.localdate())
        .select_related("agency", "agency__level")
    )


def plan_list() -> QuerySet[Plan]:
    """Every plan: plans are public documents of the province; with their basis
    documents (one query for the whole list)."""
    return Plan.objects.select_related("issuing_agency", "monitor_agency").prefetch_related(
        "documents"
    )


def priority_area_list() -> QuerySet[PriorityArea]:
    """Every priority area of every plan, in the plans' order."""
    return PriorityArea.objects.select_related("plan")


# --- Plan pages of the monitoring agency (appended for issue 13) -------------------------------

AGENCY_SEARCH_LIMIT = 20


def agency_list_current(
    *, on: datetime.date | None = None, include: Sequence[int] = ()
) -> QuerySet[Agency]:
    """The agencies that exist on `on` (default today: no end of validity, or one on or
    after it), and those of `include` whatever their validity (what a form already holds),
    in Vietnamese order of the label the pickers show, then code."""
    from django.db.models import Q

    on = on or timezone.localdate()
    current = Q(valid_to__isnull=True) | Q(valid_to__gte=on)
    if include:
        current |= Q(pk__in=list(include))
    return Agency.objects.filter(current).order_by(vi_order(AGENCY_LABEL), "code")


def agency_search(*, query: str, on: datetime.date | None = None) -> QuerySet[Agency]:
    """Agencies existing on `on` whose code or name contains every word of `query`,
    ignoring case and diacritics ("so thong tin" finds "Sở Thông tin và Truyền thông"), in
    Vietnamese order; at most AGENCY_SEARCH_LIMIT."""
    return search(agency_list_current(on=on), query)[:AGENCY_SEARCH_LIMIT]


def province_committee_default() -> Agency | None:
    """The issuing agency a new plan starts with: the province's People's Committee when
    there is exactly one current top-level committee, else None (the person chooses)."""
    from tasks_app.choices import AgencyKind

    found = list(
        agency_list_current().filter(parent__isnull=True, kind=AgencyKind.UBND).order_by("pk")[:2]
    )
    return found[0] if len(found) == 1 else None


def plan_list_with_counts() -> QuerySet[Plan]:
    """Every plan, newest period first, with its agencies joined and `task_count` and
    `area_count` counted in the same query."""
    from django.db.models import Count

    return plan_list().annotate(
        task_count=Count("tasks", distinct=True), area_count=Count("priority_areas", distinct=True)
    )


def plan_get(*, pk: int) -> Plan:
    """One plan with its agencies joined; raises Plan.DoesNotExist."""
    return plan_list().get(pk=pk)


def plan_document_list(*, plan: Plan) -> QuerySet:
    """A plan's basis documents, oldest first."""
    return plan.documents.order_by("issued_on", "number", "pk")


def plan_document_get(*, pk: int):
    """One basis document with its plan; raises PlanDocument.DoesNotExist."""
    from tasks_app.models import PlanDocument

    return PlanDocument.objects.select_related("plan").get(pk=pk)


def priority_area_list_for_plan(*, plan: Plan) -> QuerySet[PriorityArea]:
    """A plan's priority areas in the plan's order, with their DTI index joined."""
    return plan.priority_areas.select_related("dti_index").order_by("order", "code")


def priority_area_get(*, pk: int) -> PriorityArea:
    """One priority area with its plan; raises PriorityArea.DoesNotExist."""
    return PriorityArea.objects.select_related("plan").get(pk=pk)


def task_list_for_plan(*, plan: Plan) -> list[Task]:
    """A plan's tasks as the plan page lists them: by priority area, each top-level task
    followed by its children (`plan_children` on the parent, `is_child` on a child), by code.
    Two queries whatever the number of tasks: the tasks with their area and lead agency
    joined, and their coordinating agencies."""
    tasks = list(
        Task.objects.filter(plan=plan)
        .select_related("priority_area", "lead_agency")
        .prefetch_related(
            Prefetch(
                "coordinating_agencies",
                queryset=Agency.objects.order_by(vi_order(AGENCY_LABEL), "code"),
            )
        )
        .order_by("priority_area__order", "priority_area__code", "code")
    )
    children: dict[int, list[Task]] = {}
    for task in tasks:
        if task.parent_id is not None:
            children.setdefault(task.parent_id, []).append(task)
    ordered: list[Task] = []
    for task in tasks:
        if task.parent_id is not None:
            continue
        task.plan_children = children.pop(task.pk, [])
        task.is_child = False
        ordered.append(task)
        for child in task.plan_children:
            child.is_child = True
            child.plan_children = []
            ordered.append(child)
    return ordered


def task_parent_choices(*, plan: Plan) -> QuerySet[Task]:
    """The tasks of a plan that a new task may be put under: its top-level tasks, by code."""
    return Task.objects.filter(plan=plan, parent__isnull=True).order_by("code")


# --- Tasks that need a new owner (issue 14) ----------------------------------------------------

# How many steps of reorganisation a suggestion follows (Sở TT&TT → Sở KH&CN Nam Định →
# Sở KH&CN Ninh Bình is two); a guard against a cycle in hand-entered data.
_SUCCESSION_DEPTH = 5


@dataclass
class ReassignmentGroup:
    """The flagged tasks of one former lead agency, its reorganisation events (date, kind,
    legal basis) and the agencies suggested to take its tasks over."""

    agency: Agency
    successions: list[AgencySuccession]
    suggested: list[Agency]
    tasks: list[Task] = field(default_factory=list)


def succession_suggestions(
    agency_ids: Iterable[int], *, on: datetime.date | None = None
) -> tuple[dict[int, list[AgencySuccession]], dict[int, list[Agency]]]:
    """For each agency of `agency_ids`: its reorganisation events (AgencySuccession where it
    is the predecessor, by date) and the agencies suggested to take over its tasks, in
    Vietnamese order. The rule:

    1. a merge, rename or split that names a successor suggests that successor;
    2. an abolition or split without a successor suggests the successors of the merges whose
       predecessors were the agency's children (agency.parent): Hải Hậu district was
       abolished and its communes merged into the 8 new communes NB_XA_HAI*, which are the
       candidates;
    3. a suggested agency that no longer exists on `on` (default today) is replaced by its
       own suggestions (up to _SUCCESSION_DEPTH steps), so that only agencies existing on
       `on` are suggested.

    One query: every succession with both agencies (a province has a few hundred at most),
    whatever the number of agencies asked about.
    """
    on = on or timezone.localdate()
    by_predecessor: dict[int, list[AgencySuccession]] = {}
    children_merged_into: dict[int, list[Agency]] = {}
    for event in AgencySuccession.objects.select_related("predecessor", "successor").order_by(
        "date", "pk"
    ):
        by_predecessor.setdefault(event.predecessor_id, []).append(event)
        parent_id = event.predecessor.parent_id
        if event.kind == SuccessionKind.MERGE and event.successor and parent_id:
            children_merged_into.setdefault(parent_id, []).append(event.successor)

    def direct(agency_id: int) -> list[Agency]:
        found: list[Agency] = []
        for event in by_predecessor.get(agency_id, []):
            if event.successor is not None:
                found.append(event.successor)
            elif event.kind in (SuccessionKind.ABOLISH, SuccessionKind.SPLIT):
                found += children_merged_into.get(agency_id, [])
        return found

    def existing(agency_id: int) -> list[Agency]:
        result: dict[int, Agency] = {}
        seen = {agency_id}
        frontier = direct(agency_id)
        for _step in range(_SUCCESSION_DEPTH):
            later: list[Agency] = []
            for agency in frontier:
                if agency.pk in seen:
                    continue
                seen.add(agency.pk)
                if agency.is_valid_on(on):
                    result[agency.pk] = agency
                else:
                    later += direct(agency.pk)
            if not later:
                break
            frontier = later
        return vi_sorted(result.values(), key=str)

    ids = set(agency_ids)
    return (
        {pk: by_predecessor.get(pk, []) for pk in ids},
        {pk: existing(pk) for pk in ids},
    )


def tasks_needing_reassignment(*, user, on: datetime.date | None = None) -> list[ReassignmentGroup]:
    """The tasks flagged "cần giao lại" that the user may see, grouped by their former lead
    agency (groups in Vietnamese order of the agency, tasks by plan and code), each group
    with the agency's reorganisation events and the suggested successors
    (`succession_suggestions`, which states the rule).

    Two queries, whatever the number of tasks: the tasks with their lead agency and plan,
    and the successions.
    """
    tasks = list(
        tasks_visible_to(user)
        .awaiting_new_owner()
        .select_related("lead_agency", "plan", "priority_area")
        .order_by("plan__code", "code")
    )
    if not tasks:
        return []
    successions, suggested = succession_suggestions({task.lead_agency_id for task in tasks}, on=on)
    groups: dict[int, ReassignmentGroup] = {}
    for task in tasks:
        group = groups.get(task.lead_agency_id)
        if group is None:
            group = groups[task.lead_agency_id] = ReassignmentGroup(
                agency=task.lead_agency,
                successions=successions[task.lead_agency_id],
                suggested=suggested[task.lead_agency_id],
            )
        group.tasks.append(task)
    return vi_sorted(groups.values(), key=lambda group: str(group.agency))


def task_needing_reassignment_count(*, user) -> int:
    """How many tasks the user may see are flagged "cần giao lại" (one query)."""
    return tasks_visible_to(user).awaiting_new_owner().count()


# --- Memberships over time (issue 14) ------------------------------------------------------------


@dataclass(frozen=True)
class PendingTransfer:
    """One reorganisation and the staff of its predecessor who have not followed it: their
    membership there is still in force on its date and the successor holds no membership
    with the same user and role. Without a successor (an abolition), the staff are listed
    for the record: nobody can be moved automatically."""

    succession: AgencySuccession
    memberships: list[Membership]

    @property
    def can_transfer(self) -> bool:
        return self.succession.successor_id is not None


def _still_in_predecessor(membership: Membership, day: datetime.date) -> bool:
    # In force on the day of the reorganisation, and begun before it (so that it can end on
    # the day before).
    return (membership.valid_to is None or membership.valid_to >= day) and (
        membership.valid_from is None or membership.valid_from < day
    )


def membership_transfers_pending(
    *, on: datetime.date | None = None, successions: Sequence[AgencySuccession] | None = None
) -> list[PendingTransfer]:
    """The reorganisations in force on `on` (default today) whose predecessor still has
    staff (see PendingTransfer), by date then predecessor code; the staff in Vietnamese name
    order. Three queries whatever the number of rows. `successions` limits the answer to
    those rows (the transfer service checks its input with it)."""
    on = on or timezone.localdate()
    if successions is None:
        successions = list(
            AgencySuccession.objects.filter(date__lte=on)
            .select_related("predecessor", "successor")
            .order_by("date", "predecessor__code", "pk")
        )
    else:
        successions = [s for s in successions if s.date <= on]
    if not successions:
        return []
    predecessor_ids = {s.predecessor_id for s in successions}
    members = list(
        Membership.objects.filter(agency_id__in=predecessor_ids)
        .select_related("user", "agency")
        .order_by(vi_order("user__last_name"), vi_order("user__first_name"), "user__username")
    )
    successor_ids = {s.successor_id for s in successions if s.successor_id is not None}
    counterparts = set(
        Membership.objects.filter(agency_id__in=successor_ids).values_list(
            "user_id", "agency_id", "role"
        )
    )
    pending = []
    for succession in successions:
        staff = [
            m
            for m in members
            if m.agency_id == succession.predecessor_id
            and _still_in_predecessor(m, succession.date)
            and (m.user_id, succession.successor_id, m.role) not in counterparts
        ]
        if staff:
            pending.append(PendingTransfer(succession, staff))
    return pending
