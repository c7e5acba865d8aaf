"""Dashboard numbers: one set of selectors for the dashboard page, its API, the Excel file
and the monthly PDF (DESIGN.md, "Measures" and "Reports").

Every number starts from `tasks_visible_to(user)` (the one permission scope), keeps the
leaf tasks of one plan (a parent task is a plan item split per agency and is not counted a
second time) and takes the report category at the as-of date D from
`TaskQuerySet.with_own_category(D)`, the one implementation of the counting rules. For a
leaf task `own_category` is exactly the `category` of `with_category` (a leaf has nothing to
roll up), without the roll-up subqueries.

All counting is done by the database, in a constant number of queries whatever the
amount of data:

1. the grouped counts: one row per (priority area, lead agency, category) with the task
   count, how many are due by D and the KPI figures; the totals per area, per agency and
   for the whole scope are sums of those rows (bounded by the reference data, not the
   tasks);
2. the ageing bands of the overdue tasks, grouped by their due date clamped to
   [D − 91, D + 1] (at most 93 rows);
3. the oldest overdue tasks (a page of them);
4. extensions granted by D;
5. the monthly trend: the categories at every month end of the plan period up to D (at most
   13 points, bounded by the plan period): past month ends from stored counts while they
   match what they were computed from (reports/trend_store.py, four small queries), the
   other points in ONE query, a UNION ALL of one grouped count per point (the page loads
   the trend as a separate fragment);
6. the areas, the agencies and the levels of the map at D — three small queries: the
   rankings list the agencies in force at D (with their parent then) under the levels in
   force at D, plus any agency that led a counted task at D.

Queries 2 and 3 first narrow the tasks with stored columns (`_overdue_candidates`).

Counting rules (DESIGN.md):
- withdrawn tasks ("dừng thực hiện") are listed apart and are not in the totals;
- a task not yet assigned at D is not counted at all;
- tasks due by D: the due date in force at D is on or before D;
- on-time rate: tasks due by D completed on time ÷ tasks due by D; a task finished early
  whose due date is later than D is in neither;
- days overdue: D − the due date in force at D; ageing bands 1–30, 31–90, over 90 days;
- extensions granted: extensions approved by the end of D.
"""

from __future__ import annotations

import calendar
import datetime
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext

from tasks_app.categories import day_is_over, end_of_day, facts_at
from tasks_app.choices import (
    FINISHED_STATES,
    AgeingBand,
    ExtensionKind,
    ExtensionStatus,
    ReportCategory,
)
from tasks_app.collation import vi_sort_key
from tasks_app.models import (
    AdministrativeLevel,
    Agency,
    DeadlineExtension,
    Plan,
    PriorityArea,
    StatusUpdate,
)
from tasks_app.permissions import agencies_visible_to, sees_everything, tasks_visible_to
from tasks_app.querysets import TaskQuerySet, in_force_on

C = ReportCategory

# The categories in the order of the official reports; withdrawn is listed apart.
COUNTED_CATEGORIES: tuple[str, ...] = (
    C.COMPLETED_ON_TIME,
    C.COMPLETED_LATE,
    C.IN_PROGRESS,
    C.OVERDUE,
    C.NOT_STARTED,
    C.REGULAR,
)
ALL_CATEGORIES: tuple[str, ...] = (*COUNTED_CATEGORIES, C.WITHDRAWN)

# Deadline bands, from the due date in force at D (see `_due_key` and `_band`).
BAND_NONE = "none"  # regular task: no due date
BAND_LATER = "later"  # due after D
BAND_TODAY = "today"  # due on D: due by D, not yet overdue
# Overdue: the ageing bands (AgeingBand, tasks_app/choices.py), and the Counts field of each.
AGEING_FIELDS: dict[str, str] = {
    AgeingBand.DAYS_1_30: "overdue_1_30",
    AgeingBand.DAYS_31_90: "overdue_31_90",
    AgeingBand.OVER_90: "overdue_over_90",
}

# The `code` of the group of agencies no longer in force at D (not a level: no level has it).
NOT_IN_FORCE = "not-in-force"

# How many overdue tasks the dashboard lists (oldest first); the count is always complete.
OVERDUE_LIST_LIMIT = 20


# --- Inputs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DashboardFilters:
    """What the numbers are about. The user (the permission scope) is passed apart."""

    plan: Plan
    as_of: datetime.date
    level: AdministrativeLevel | None = None
    priority_area: PriorityArea | None = None
    agency: Agency | None = None  # the lead agency lies in this agency's subtree

    def as_params(self) -> dict[str, str]:
        """The filters as query parameters (dashboard, API, Excel and task-list links)."""
        params = {"plan": str(self.plan.pk), "as_of": self.as_of.isoformat()}
        if self.level is not None:
            params["level"] = str(self.level.pk)
        if self.priority_area is not None:
            params["priority_area"] = str(self.priority_area.pk)
        if self.agency is not None:
            params["agency"] = str(self.agency.pk)
        return params


# --- Outputs: plain dataclasses (asdict() gives JSON-ready dicts for the API) ------------------


@dataclass
class Counts:
    """Leaf-task counts of one slice (everything, an area, an agency, a month end)."""

    completed_on_time: int = 0
    completed_late: int = 0
    in_progress: int = 0
    overdue: int = 0
    not_started: int = 0
    regular: int = 0
    withdrawn: int = 0  # listed apart: not in `total`
    due: int = 0  # due date in force on or before D
    due_on_time: int = 0  # of those, completed on time
    # Ageing bands of the overdue tasks: computed for the totals only.
    overdue_1_30: int = 0
    overdue_31_90: int = 0
    overdue_over_90: int = 0
    kpi_tasks: int = 0  # tasks with a KPI target (withdrawn left out)
    kpi_met: int = 0  # of those, actual at D ≥ target
    kpi_ratio_sum: float = 0.0  # Σ min(actual / target, 1), for the mean

    @property
    def total(self) -> int:
        """Tasks counted in the report: every category except withdrawn."""
        return sum(getattr(self, category) for category in COUNTED_CATEGORIES)

    @property
    def completed(self) -> int:
        return self.completed_on_time + self.completed_late

    @property
    def not_completed(self) -> int:
        return self.in_progress + self.overdue + self.not_started

    @property
    def on_time_rate(self) -> float | None:
        """Tasks due by D completed on time ÷ tasks due by D; None when nothing is due."""
        return self.due_on_time / self.due if self.due else None

    @property
    def kpi_achievement(self) -> float | None:
        """Mean of min(actual / target, 1) over the tasks with a KPI target."""
        return self.kpi_ratio_sum / self.kpi_tasks if self.kpi_tasks else None

    @property
    def ageing(self) -> list[tuple[AgeingBand, int]]:
        """The overdue tasks per ageing band, in the bands' order."""
        return [(band, getattr(self, AGEING_FIELDS[band])) for band in AgeingBand]

    def add(self, other: Counts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def category_counts(self) -> dict[str, int]:
        return {category: getattr(self, category) for category in ALL_CATEGORIES}

    def as_dict(self) -> dict:
        data = asdict(self)
        data.update(
            total=self.total,
            completed=self.completed,
            not_completed=self.not_completed,
            on_time_rate=self.on_time_rate,
            kpi_achievement=self.kpi_achievement,
        )
        return data


@dataclass
class AreaRow:
    id: int
    code: str
    name: str
    order: int
    counts: Counts = field(default_factory=Counts)


@dataclass
class AgencyRow:
    """One agency as it was at D: the agency row is versioned (a renamed agency is a new
    row), so its name, level and parent are those in force at D."""

    id: int
    code: str
    name: str
    short_name: str
    level_id: int
    counts: Counts = field(default_factory=Counts)
    rank: int | None = None  # by on-time rate within the level; None when nothing is due
    parent_id: int | None = None
    parent_name: str = ""
    parent_short_name: str = ""
    # False: the agency (or its level) no longer existed at D, yet led a task counted at D
    # (a task not reassigned yet); it is listed apart, unranked.
    in_force: bool = True

    @property
    def label(self) -> str:
        return self.short_name or self.name

    @property
    def parent_label(self) -> str:
        return self.parent_short_name or self.parent_name


@dataclass
class LevelRanking:
    """Agencies of one administrative level in force at D (departments, districts,
    communes), ranked; or, with `in_force` false (id None), the agencies no longer in force
    at D that still led counted tasks, unranked."""

    id: int | None
    code: str
    name: str
    agencies: list[AgencyRow]
    in_force: bool = True


@dataclass
class OverdueTask:
    id: int
    code: str
    title: str
    lead_agency_id: int
    lead_agency: str
    priority_area_id: int
    priority_area: str
    due: datetime.date
    original_due: datetime.date | None
    days_overdue: int
    band: str
    progress: int


@dataclass
class TrendPoint:
    date: datetime.date
    counts: Counts
    # When the point's counts were stored (reports/trend_store.py); None: counted live.
    stored_at: datetime.datetime | None = None


@dataclass
class Dashboard:
    filters: DashboardFilters
    computed_at: datetime.datetime
    totals: Counts
    areas: list[AreaRow]
    rankings: list[LevelRanking]
    overdue: list[OverdueTask]
    extensions_granted: int
    extended_tasks: int
    trend: list[TrendPoint]

    @property
    def most_overdue_agency(self) -> AgencyRow | None:
        """The agency with the most overdue tasks (ties: the lowest on-time rate)."""
        rows = [row for ranking in self.rankings for row in ranking.agencies]
        rows = [row for row in rows if row.counts.overdue]
        if not rows:
            return None
        return max(rows, key=lambda r: (r.counts.overdue, -(r.counts.on_time_rate or 0)))


# --- Query building blocks ------------------------------------------------------------------


def scoped_leaf_tasks(*, user, filters: DashboardFilters) -> TaskQuerySet:
    """The leaf tasks behind every dashboard number: visible to `user`, of the plan, and
    within the level, priority area and agency subtree filters (on the lead agency in force
    at D: a task whose lead agency changed since counts where it was then)."""
    tasks = tasks_visible_to(user).filter(plan=filters.plan).leaves()
    if filters.priority_area is not None:
        tasks = tasks.filter(priority_area=filters.priority_area)
    if filters.level is None and filters.agency is None:
        return tasks
    if not day_is_over(filters.as_of):
        # Today's lead agency is the row's: a join, as before the change history.
        if filters.level is not None:
            tasks = tasks.filter(lead_agency__level=filters.level)
        if filters.agency is not None:
            tasks = tasks.filter(lead_agency__path__startswith=filters.agency.path)
        return tasks
    leads = Agency.objects.all()
    if filters.level is not None:
        leads = leads.filter(level=filters.level)
    if filters.agency is not None:
        leads = leads.filter(path__startswith=filters.agency.path)
    lead_then = facts_at(filters.as_of)["lead_agency_at"]
    return tasks.alias(lead_then=lead_then).filter(lead_then__in=leads.values("pk"))


def _days_before(day: datetime.date, days: int) -> datetime.date:
    return day - datetime.timedelta(days=days)


def _due_key(as_of: datetime.date) -> Greatest:
    """The due date in force at D, clamped to [D − 91, D + 1]: enough to tell "due later",
    "due today" and the ageing band apart (see `_band`), with `due_at` written once in the
    SQL. A CASE with one WHEN per band would make the database evaluate the due-date
    subquery once per WHEN; as a group key this is evaluated once per task, and the
    clamping keeps the number of groups bounded (at most 93 values)."""
    return Greatest(
        Least(F("due_at"), Value(as_of + datetime.timedelta(days=1))),
        Value(_days_before(as_of, 91)),
        output_field=DateField(),
    )


def _band(due_key: datetime.date | None, as_of: datetime.date) -> str:
    """The deadline band of a clamped due date. Days overdue = D − due: 1–30 means due in
    [D − 30, D − 1]; over 90 means due on D − 91 or earlier."""
    if due_key is None:
        return BAND_NONE
    days = (as_of - due_key).days
    if days < 0:
        return BAND_LATER
    if days == 0:
        return BAND_TODAY
    band = AgeingBand.of(days)
    assert band is not None  # every day overdue lies in a band
    return band


def _kpi_actual_at(as_of: datetime.date) -> Subquery | F:
    """The KPI value known at the end of D: the latest update that reported one. For a day
    not yet over that is the task row's `kpi_actual`, which every update reporting a value
    overwrites (services.status_update_record); nothing is recorded in the future."""
    if not day_is_over(as_of):
        return F("kpi_actual")
    return Subquery(
        StatusUpdate.objects.filter(
            task=OuterRef("pk"), recorded_at__lt=end_of_day(as_of), kpi_actual__isnull=False
        )
        .order_by("-recorded_at", "-pk")
        .values("kpi_actual")[:1]
    )


def _categorised(tasks: TaskQuerySet, as_of: datetime.date) -> TaskQuerySet:
    """Leaf tasks with their category at D; tasks not yet assigned at D are left out."""
    return tasks.filter(assigned_on__lte=as_of).with_own_category(as_of)


def _grouped_counts(tasks: TaskQuerySet, as_of: datetime.date) -> list[tuple]:
    """One row per (priority area, lead agency, category) with the task count, how many
    are due by D, and the KPI figures: (area id, agency id, category, n, due, KPI tasks,
    KPI met, Σ KPI ratio).

    The group keys are computed once per task; the number of rows is bounded by the
    reference data (areas × agencies × 7 categories), not by the number of tasks. Tuples,
    not dicts: a plan has thousands of these rows.
    """
    # Withdrawn rows' KPI figures are dropped in `_add_row`: filtering on the category here
    # would make the database evaluate it a second time per task.
    has_kpi = Q(kpi_target__gt=0)
    # As floats: SQLite stores these decimals as integers when they are whole, and 5 / 10
    # would then be 0. Coalesce: the KPI value is written once in the ratio (a task that
    # reported no KPI value counts 0).
    ratio = Least(
        Coalesce(Cast("kpi_at", FloatField()), Value(0.0)) / Cast("kpi_target", FloatField()),
        Value(1.0),
        output_field=FloatField(),
    )
    return list(
        _categorised(tasks, as_of)
        .annotate(kpi_at=_kpi_actual_at(as_of))
        .values_list("priority_area_id", "lead_agency_at", "own_category")
        .annotate(
            n=Count("pk"),
            due=Count("pk", filter=Q(due_at__lte=as_of)),
            kpi_tasks=Count("pk", filter=has_kpi),
            kpi_met=Count("pk", filter=has_kpi & Q(kpi_at__gte=F("kpi_target"))),
            kpi_ratio_sum=Sum(Case(When(has_kpi, then=ratio))),
        )
        .order_by()
    )


def _add_row(counts: Counts, category: str, n: int, due: int, kpi: Sequence) -> None:
    """Add one grouped row to a slice's counts (plain integer additions)."""
    setattr(counts, category, getattr(counts, category) + n)
    if category == C.WITHDRAWN:
        return
    counts.due += due
    if category == C.COMPLETED_ON_TIME:
        counts.due_on_time += due
    kpi_tasks, kpi_met, kpi_ratio_sum = kpi
    if kpi_tasks:
        counts.kpi_tasks += kpi_tasks
        counts.kpi_met += kpi_met or 0
        counts.kpi_ratio_sum += float(kpi_ratio_sum or 0)


def _overdue_candidates(tasks: TaskQuerySet, as_of: datetime.date) -> TaskQuerySet:
    """The tasks that can be overdue at D, found with stored columns before the category
    (which still decides) is computed.

    A task whose due date never moved (`due_moved` false) is overdue at D only when its
    original due date is before D; one whose due date moved (an extension, or a monitor's
    adjustment, which may bring it forward) is a candidate whatever its original date.
    For a day not yet over, what is known at its end is the
    current state: the task row mirrors its latest update and `due` its latest approved
    extension (nothing is recorded in the future), so only open tasks past their current
    due date qualify.
    """
    candidates = tasks.filter(Q(original_due__lt=as_of) | Q(due_moved=True))
    if not day_is_over(as_of):
        candidates = candidates.filter(due__lt=as_of).exclude(state__in=FINISHED_STATES)
    return _categorised(candidates, as_of).filter(own_category=C.OVERDUE)


def _ageing(tasks: TaskQuerySet, as_of: datetime.date) -> dict[str, int]:
    """Overdue tasks per ageing band: at most 93 grouped rows (see `_due_key`)."""
    bands: dict[str, int] = dict.fromkeys(AgeingBand, 0)
    rows = (
        _overdue_candidates(tasks, as_of)
        .annotate(due_key=_due_key(as_of))
        .values("due_key")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        band = _band(row["due_key"], as_of)
        if band in bands:
            bands[band] += row["n"]
    return bands


def month_ends(plan: Plan, as_of: datetime.date) -> list[datetime.date]:
    """The trend's points: each month end of the plan period before D, then D itself
    (capped at the plan's end). At most 13 points for a one-year plan."""
    last = min(as_of, plan.period_end)
    points = []
    year, month = plan.period_start.year, plan.period_start.month
    while True:
        end = datetime.date(year, month, calendar.monthrange(year, month)[1])
        if end >= last:
            break
        points.append(end)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if last >= plan.period_start:
        points.append(last)
    return points


# --- Selectors ----------------------------------------------------------------------------


def dashboard_trend(
    *,
    user,
    filters: DashboardFilters,
    tasks: TaskQuerySet | None = None,
    last: int | None = None,
    known: dict[datetime.date, Counts] | None = None,
) -> list[TrendPoint]:
    """The categories at each month end of the plan period up to D (and at D); with
    `last`, only the last so many points (the monthly report shows a window); `known`
    gives the counts of points already counted with the same scope and filters (the
    dashboard's totals at D).

    Past month ends come from the stored counts (reports/trend_store.py) when the user sees
    the whole plan and the snapshot still matches what it was computed from. The other
    points are counted live in one query, a UNION ALL of one grouped count per point: the
    database computes the category of every task once per point (one pass over the
    history per past month end), with one round trip.
    """
    from reports import trend_store

    points = month_ends(filters.plan, filters.as_of)
    if last is not None:
        points = points[-last:] if last > 0 else []
    if not points:
        return []
    stored: dict[datetime.date, dict[str, int]] = {}
    stored_at: dict[datetime.date, datetime.datetime] = {}
    if sees_everything(user):
        snapshots = trend_store.valid_snapshots(filters.plan, points)
        stored = trend_store.stored_category_counts(
            snapshots,
            priority_area_id=filters.priority_area.pk if filters.priority_area else None,
            level_id=filters.level.pk if filters.level else None,
            agency_path=filters.agency.path if filters.agency else None,
        )
        stored_at = {snapshot.day: snapshot.computed_at for snapshot in snapshots}
    by_point: dict[datetime.date, Counts] = {day: Counts() for day in points}
    for day, counts in stored.items():
        for category, n in counts.items():
            setattr(by_point[day], category, n)
    for day, known_counts in (known or {}).items():
        if day in by_point and day not in stored:
            for category, n in known_counts.category_counts().items():
                setattr(by_point[day], category, n)
    live = [day for day in points if day not in stored and day not in (known or {})]
    if live:
        if tasks is None:
            tasks = scoped_leaf_tasks(user=user, filters=filters)
        parts = [
            _categorised(tasks, day)
            .annotate(point=Value(day.isoformat(), output_field=CharField()))
            .values("point", "own_category")
            .annotate(n=Count("pk"))
            .order_by()
            for day in live
        ]
        query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        for row in query:
            day = datetime.date.fromisoformat(row["point"])
            setattr(by_point[day], row["own_category"], row["n"])
    return [
        TrendPoint(date=day, counts=by_point[day], stored_at=stored_at.get(day)) for day in points
    ]


def dashboard_overdue(
    *,
    user,
    filters: DashboardFilters,
    limit: int | None = OVERDUE_LIST_LIMIT,
    tasks: TaskQuerySet | None = None,
) -> list[OverdueTask]:
    """Overdue leaf tasks at D, oldest first (most days overdue), with the lead agency."""
    as_of = filters.as_of
    if tasks is None:
        tasks = scoped_leaf_tasks(user=user, filters=filters)
    # No join here: the planner cannot estimate how many tasks the category keeps and
    # chose nested loops over the agencies (170 ms at 20,000 tasks instead of 10 ms). The
    # names come from two look-ups by id.
    tasks = _overdue_candidates(tasks, as_of).order_by("due_at", "code")
    if limit is not None:
        tasks = tasks[:limit]
    # Plain values, not model instances: the monthly report lists every overdue task (9,700
    # at 20,000 tasks), and building Task objects cost more than the query (issue 18).
    found = list(
        tasks.values(
            "pk",
            "code",
            "title",
            "priority_area_id",
            "original_due",
            "due_at",
            "progress_at",
            "lead_agency_at",
        )  # fmt: skip
    )
    agencies = Agency.objects.in_bulk({task["lead_agency_at"] for task in found})
    names = {pk: str(agency) for pk, agency in agencies.items()}
    areas = PriorityArea.objects.only("name").in_bulk({task["priority_area_id"] for task in found})
    rows = []
    for task in found:
        due = task["due_at"]
        rows.append(
            OverdueTask(
                id=task["pk"],
                code=task["code"],
                title=task["title"],
                lead_agency_id=task["lead_agency_at"],
                lead_agency=names[task["lead_agency_at"]],
                priority_area_id=task["priority_area_id"],
                priority_area=areas[task["priority_area_id"]].name,
                due=due,
                original_due=task["original_due"],
                days_overdue=(as_of - due).days,
                band=_band(due, as_of),
                progress=task["progress_at"] or 0,
            )
        )
    return rows


def dashboard_extensions(
    *, user, filters: DashboardFilters, tasks: TaskQuerySet | None = None
) -> dict[str, int]:
    """Extensions approved by the end of D on the tasks in scope, and how many tasks got
    one. An extension approved after D is not counted (it did not exist at D)."""
    if tasks is None:
        tasks = scoped_leaf_tasks(user=user, filters=filters)
    return DeadlineExtension.objects.filter(
        task__in=tasks.filter(assigned_on__lte=filters.as_of),
        status=ExtensionStatus.APPROVED,
        kind=ExtensionKind.REQUEST,  # the monitor's adjustments are not extensions granted
        decided_at__lt=end_of_day(filters.as_of),
    ).aggregate(granted=Count("pk"), tasks=Count("task", distinct=True))


def dashboard_summary(
    *,
    user,
    filters: DashboardFilters,
    with_trend: bool = True,
    overdue_limit: int | None = OVERDUE_LIST_LIMIT,
) -> Dashboard:
    """Everything the dashboard shows, in a constant number of queries (see the module
    docstring). The page, the API, the Excel file and the monthly PDF all call this.
    `overdue_limit=None` lists every overdue task (the Excel file and the PDF appendix)."""
    computed_at = timezone.now()
    # Built once: the scope's own look-ups (the user's agencies) run once per call.
    tasks = scoped_leaf_tasks(user=user, filters=filters)
    rows = _grouped_counts(tasks, filters.as_of)

    by_area: dict[int, Counts] = defaultdict(Counts)
    by_agency: dict[int, Counts] = defaultdict(Counts)
    for area, agency, category, n, due, *kpi in rows:  # bounded by areas × agencies × 7
        _add_row(by_area[area], category, n, due, kpi)
        _add_row(by_agency[agency], category, n, due, kpi)
    totals = Counts()
    for counts in by_area.values():  # every task lies in exactly one area
        totals.add(counts)
    ageing = _ageing(tasks, filters.as_of)
    for band, n in ageing.items():
        setattr(totals, AGEING_FIELDS[band], n)

    # Every area of the plan (in the filter) is listed, even with no task in scope.
    area_qs = PriorityArea.objects.filter(plan=filters.plan)
    if filters.priority_area is not None:
        area_qs = area_qs.filter(pk=filters.priority_area.pk)
    areas = [
        AreaRow(id=a.pk, code=a.code, name=a.name, order=a.order, counts=by_area[a.pk])
        for a in area_qs.order_by("order", "code")
    ]

    agencies = [
        AgencyRow(
            id=a.pk,
            code=a.code,
            name=a.name,
            short_name=a.short_name,
            level_id=a.level_id,
            counts=by_agency[a.pk],
            parent_id=a.parent_id,
            parent_name=a.parent.name if a.parent else "",
            parent_short_name=a.parent.short_name if a.parent else "",
            in_force=a.is_valid_on(filters.as_of),
        )
        for a in _ranked_agencies(user=user, filters=filters, leads=list(by_agency))
    ]
    rankings = _rank_by_level(agencies, as_of=filters.as_of)
    extensions = dashboard_extensions(user=user, filters=filters, tasks=tasks)

    return Dashboard(
        filters=filters,
        computed_at=computed_at,
        totals=totals,
        areas=areas,
        rankings=rankings,
        overdue=dashboard_overdue(user=user, filters=filters, limit=overdue_limit, tasks=tasks),
        extensions_granted=extensions["granted"],
        extended_tasks=extensions["tasks"],
        trend=(
            dashboard_trend(user=user, filters=filters, tasks=tasks, known={filters.as_of: totals})
            if with_trend
            else []
        ),
    )


def _ranked_agencies(*, user, filters: DashboardFilters, leads: list[int]) -> QuerySet[Agency]:
    """The agencies of the rankings at D: those in force at D that the user may read about
    and that the level and agency filters keep, plus every agency that led a task counted
    at D (`leads`: even one no longer in force, so that no task leaves the totals). One
    query, with each agency's parent (as in force at D: a versioned agency row keeps the
    parent it had)."""
    in_map = agencies_visible_to(user).filter(in_force_on(filters.as_of))
    if filters.level is not None:
        in_map = in_map.filter(level=filters.level)
    if filters.agency is not None:
        in_map = in_map.filter(path__startswith=filters.agency.path)
    return (
        Agency.objects.filter(Q(pk__in=leads) | Q(pk__in=in_map.values("pk")))
        .select_related("parent")
        .only(
            "pk",
            "code",
            "name",
            "short_name",
            "level_id",
            "valid_from",
            "valid_to",
            "parent__name",
            "parent__short_name",
        )
    )


def _rank_by_level(
    agencies: list[AgencyRow], *, as_of: datetime.date | None = None
) -> list[LevelRanking]:
    """Agencies ranked within their administrative level: highest on-time rate first,
    then fewest overdue tasks; agencies with nothing due yet come last, unranked.

    Only the levels in force at `as_of` (all of them without a date) have a ranking, in
    their order; an agency no longer in force at D (or of a level no longer in force: the
    districts after 30/06/2025) that still led counted tasks is listed last, in a group of
    its own, unranked (its tasks are to be reassigned)."""
    by_level: dict[int, list[AgencyRow]] = defaultdict(list)
    for agency in agencies:
        by_level[agency.level_id].append(agency)
    levels = AdministrativeLevel.objects.filter(pk__in=list(by_level)).order_by("order", "code")
    rankings = []
    gone: list[AgencyRow] = []
    for level in levels:
        level_in_force = as_of is None or level.is_valid_on(as_of)
        rows = []
        for row in by_level[level.pk]:
            if level_in_force and row.in_force:
                rows.append(row)
            else:
                row.in_force = False
                gone.append(row)
        if not rows:
            continue
        rows.sort(
            key=lambda r: (
                r.counts.on_time_rate is None,
                -(r.counts.on_time_rate or 0),
                r.counts.overdue,
                vi_sort_key(r.label),  # ties in Vietnamese alphabetical order
            ),
        )
        rank = 0
        for row in rows:
            if row.counts.on_time_rate is not None:
                rank += 1
                row.rank = rank
        rankings.append(LevelRanking(id=level.pk, code=level.code, name=level.name, agencies=rows))
    if gone:
        gone.sort(key=lambda r: (-r.counts.overdue, -r.counts.total, vi_sort_key(r.label)))
        rankings.append(
            LevelRanking(
                id=None,
                code=NOT_IN_FORCE,
                name=gettext("Agencies no longer in force at this date"),
                agencies=gone,
                in_force=False,
            )
        )
    return rankings


def dashboard_plans() -> QuerySet[Plan]:
    """Plans offered in the filter, newest first. Plans are not secret: the numbers are
    scoped by task visibility."""
    return Plan.objects.order_by("-period_start", "code")


def default_plan(as_of: datetime.date | None = None) -> Plan | None:
    """The plan the dashboard shows when none is chosen: the newest plan that had started by
    `as_of` (default today), so a date in 2022 opens the 2022 plan and today the current
    one; the newest plan when none had started yet."""
    plans = dashboard_plans()
    started = plans.filter(period_start__lte=as_of or timezone.localdate()).first()
    return started or plans.first()
