"""Stored month-end counts for the dashboard's trend (issue 6: "numbers are never stale").

The trend shows the report categories at every month end of the plan. Computing a past day
means finding, for every task, the latest status update and extension known by then: one
pass over the history per point, about 3 s per month end at 200,000 tasks. A past day's
counts only change when something changes what they were computed from, so they are stored
(TrendSnapshot, one per plan and day, with TrendCount rows per priority area, lead agency
and category) together with a record of that basis, and used only while it still matches:

- `fingerprint`: the plan's tasks assigned by that day (how many, and sums that move when a
  task's id, lead agency, priority area, assignment date or original due date change: a
  task added with an earlier assignment date joins the set), the sum of the parent ids
  of all its tasks (a split makes a task a parent, which is not counted) and the
  extensions approved by the end of that day (see `fingerprints`);
- `update_mark`: the highest status update id when the counts were computed. A status
  update is recorded now and never changes a past day; one imported later with an earlier
  time (a plan file, the demo history) is found among the ids above the mark.

Everything about a day that is not over (today) is read live from the task rows, and a
snapshot that no longer matches is left aside: the trend computes that day live, so a
stored number is never shown stale. `trend_snapshots_refresh` (the nightly job and the
`store_trend` command) stores what is missing or no longer matches and moves the marks of
the others forward. Stored counts cover the
whole plan: the trend reads them for the users who see every task (leaders, monitors), with
the level, priority area and agency filters applied to the lead agency and area.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.db import IntegrityError, transaction
from django.db.models import BigIntegerField, Count, F, Func, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from reports.models import TrendCount, TrendSnapshot
from tasks_app.categories import day_is_over, end_of_day, local_tz
from tasks_app.choices import ExtensionStatus
from tasks_app.models import DeadlineExtension, Plan, StatusUpdate, Task


class DayNumber(Func):
    """A date as its number of days since 2000-01-01: one subtraction on PostgreSQL,
    julianday() on SQLite (EXTRACT returns numeric on PostgreSQL and was twice as slow)."""

    output_field = BigIntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template="(%(expressions)s - DATE '2000-01-01')", **extra_context
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) - 2451544.5 AS INTEGER)",
            **extra_context,
        )


def plan_leaf_tasks(plan: Plan) -> QuerySet[Task]:
    """Every leaf task of the plan, whoever asks: what the stored counts cover."""
    return Task.objects.filter(plan=plan).leaves()


def fingerprints(plan: Plan, days: Iterable[datetime.date]) -> dict[datetime.date, str]:
    """The basis of each day's counts (see the module docstring), in two grouped queries.

    1. The plan's tasks per assignment date: each day adds up the groups assigned by then
       (how many, and sums of the id, the id times the lead agency, the area, the original
       due date); the sum of every task's parent id tells a split, which makes a task a
       parent (no longer counted), whenever its children are assigned.
    2. The approved extensions per decision date, of every plan (a decision is recorded
       now: only one imported with an earlier date changes these sums).
    """
    days = sorted(set(days))
    if not days:
        return {}
    task_rows = (
        Task.objects.filter(plan=plan)
        .values("assigned_on")
        .annotate(
            n=Count("pk"),
            ids=Sum("pk"),
            lead=Sum(F("pk") * F("lead_agency_id")),
            area=Sum(F("pk") * F("priority_area_id")),
            due=Sum(F("pk") * DayNumber("original_due")),
            parents=Sum("parent_id"),
        )
        .order_by()
    )
    extension_rows = (
        DeadlineExtension.objects.filter(
            status=ExtensionStatus.APPROVED, decided_at__lt=end_of_day(days[-1])
        )
        .annotate(decided_on=TruncDate("decided_at", tzinfo=local_tz()))
        .values("decided_on")
        .annotate(
            n=Count("pk"),
            ids=Sum("pk"),
            task=Sum(F("pk") * F("task_id")),
            due=Sum(F("pk") * DayNumber("proposed_due")),
        )
        .order_by()
    )
    task_rows = list(task_rows)
    parents = sum(int(row["parents"] or 0) for row in task_rows)
    tasks_by_day = _cumulative(task_rows, "assigned_on", ["n", "ids", "lead", "area", "due"], days)
    extensions_by_day = _cumulative(extension_rows, "decided_on", ["n", "ids", "task", "due"], days)
    return {day: f"t{tasks_by_day[day]}|p{parents}|e{extensions_by_day[day]}" for day in days}


def _cumulative(
    rows, key: str, names: list[str], days: list[datetime.date]
) -> dict[datetime.date, str]:
    """For each day, the sums of `names` over the rows whose `key` date is on or before
    it."""
    rows = sorted(rows, key=lambda row: row[key])
    totals = dict.fromkeys(names, 0)
    result, index = {}, 0
    for day in days:
        while index < len(rows) and rows[index][key] <= day:
            for name in names:
                totals[name] += int(rows[index][name] or 0)
            index += 1
        result[day] = ":".join(str(totals[name]) for name in names)
    return result


def valid_snapshots(plan: Plan, days: Iterable[datetime.date]) -> list[TrendSnapshot]:
    """The stored snapshots of these past days whose basis still matches (at most four
    queries whatever the number of days and tasks)."""
    today = timezone.localdate()
    days = [day for day in set(days) if day < today]
    if not days:
        return []
    snapshots = list(TrendSnapshot.objects.filter(plan=plan, day__in=days))
    if not snapshots:
        return []
    current = fingerprints(plan, [s.day for s in snapshots])
    snapshots = [s for s in snapshots if s.fingerprint == current[s.day]]
    backdated = _backdated(plan, snapshots)
    return [s for s in snapshots if s.pk not in backdated]


def _backdated(plan: Plan, snapshots: list[TrendSnapshot]) -> set[int]:
    """Snapshots that a status update recorded later, but dated by the end of their day,
    would change: one query over the updates above the lowest mark."""
    if not snapshots:
        return set()
    marks = {s.update_mark for s in snapshots}
    earliest = {f"m{mark}": Min("recorded_at", filter=Q(pk__gt=mark)) for mark in sorted(marks)}
    found = StatusUpdate.objects.filter(pk__gt=min(marks), task__plan=plan).aggregate(**earliest)
    return {
        s.pk
        for s in snapshots
        if found[f"m{s.update_mark}"] is not None and found[f"m{s.update_mark}"] < end_of_day(s.day)
    }


def stored_category_counts(
    snapshots: list[TrendSnapshot],
    *,
    priority_area_id: int | None = None,
    level_id: int | None = None,
    agency_path: str | None = None,
) -> dict[datetime.date, dict[str, int]]:
    """The stored counts per day and category, narrowed like the dashboard's filters (on
    the lead agency and the priority area). One query."""
    counts = TrendCount.objects.filter(snapshot__in=[s.pk for s in snapshots])
    if priority_area_id is not None:
        counts = counts.filter(priority_area_id=priority_area_id)
    if level_id is not None:
        counts = counts.filter(lead_agency__level_id=level_id)
    if agency_path is not None:
        counts = counts.filter(lead_agency__path__startswith=agency_path)
    by_day: dict[datetime.date, dict[str, int]] = {s.day: defaultdict(int) for s in snapshots}
    rows = counts.values("snapshot__day", "category").annotate(n=Sum("n")).order_by()
    for row in rows:
        by_day[row["snapshot__day"]][row["category"]] += row["n"]
    return by_day


def drop_snapshots_from(*, task, day: datetime.date, **_signal) -> None:
    """Receiver of tasks_app.signals.past_status_recorded: history dated `day` was recorded
    now, so the stored month ends of the task's plan from that day on are dropped, in the
    recording transaction. Locking the plan row makes a concurrent store wait for that
    transaction (see `trend_snapshot_store`), so it never stores counts without it."""
    _lock_plan(task.plan_id)
    TrendSnapshot.objects.filter(plan_id=task.plan_id, day__gte=day).delete()


def _lock_plan(plan_id: int) -> None:
    """Lock the plan's row until the end of the transaction (SELECT … FOR UPDATE): what
    past history is recorded and what month ends are stored, one after the other."""
    Plan.objects.select_for_update().filter(pk=plan_id).exists()


def trend_snapshot_store(plan: Plan, day: datetime.date) -> TrendSnapshot | None:
    """Compute and store the counts of one past day, replacing what was stored for it
    (`trend_snapshots_refresh` calls it for the days missing or out of date). Returns the
    snapshot (None for today or later: a day not over is always read live). Safe to run
    concurrently: the basis is read before the counts, so a change made meanwhile leaves a
    snapshot that does not match (computed again next time), never a wrong one that does."""
    from reports.selectors import _categorised

    if not day_is_over(day):
        return None
    try:
        with transaction.atomic():
            # Waits for a transaction recording past history on this plan (it holds the
            # lock: `drop_snapshots_from`), so the counts below include it.
            _lock_plan(plan.pk)
            update_mark = StatusUpdate.objects.aggregate(mark=Max("pk"))["mark"] or 0
            fingerprint = fingerprints(plan, [day])[day]
            rows = (
                _categorised(plan_leaf_tasks(plan), day)
                .values("priority_area_id", "lead_agency_at", "own_category")
                .annotate(n=Count("pk"))
                .order_by()
            )
            counts = [
                TrendCount(
                    priority_area_id=row["priority_area_id"],
                    lead_agency_id=row["lead_agency_at"],
                    category=row["own_category"],
                    n=row["n"],
                )
                for row in rows
            ]
            TrendSnapshot.objects.filter(plan=plan, day=day).delete()
            snapshot = TrendSnapshot.objects.create(
                plan=plan,
                day=day,
                computed_at=timezone.now(),
                fingerprint=fingerprint,
                update_mark=update_mark,
            )
            for count in counts:
                count.snapshot = snapshot
            TrendCount.objects.bulk_create(counts, batch_size=2000)
    except IntegrityError:  # another run stored the same day meanwhile: keep theirs
        return TrendSnapshot.objects.filter(plan=plan, day=day).first()
    return snapshot


def trend_days(plan: Plan, today: datetime.date | None = None) -> list[datetime.date]:
    """The past month ends of the plan period: the days the trend shows for any as-of
    date from the end of that month on."""
    from reports.selectors import month_ends

    today = today or timezone.localdate()
    return [day for day in month_ends(plan, plan.period_end) if day < today]


def trend_snapshots_refresh(
    plan: Plan, *, progress: Callable[[datetime.date, bool], None] | None = None
) -> int:
    """Store the past month ends of a plan that are missing or no longer match. Returns how
    many were computed; `progress(day, computed)` is called after each day."""
    # The mark is read before the check: every update up to it is then known not to change
    # the valid month ends, and later checks only read the updates after it (the range
    # `_backdated` scans stays a day's worth instead of growing since each was stored).
    mark = StatusUpdate.objects.aggregate(mark=Max("pk"))["mark"] or 0
    days = trend_days(plan)
    still_valid = valid_snapshots(plan, days)
    TrendSnapshot.objects.filter(
        pk__in=[snapshot.pk for snapshot in still_valid], update_mark__lt=mark
    ).update(update_mark=mark)
    valid = {snapshot.day for snapshot in still_valid}
    computed = 0
    for day in days:
        if day not in valid:
            trend_snapshot_store(plan, day)
            computed += 1
        if progress is not None:
            progress(day, day not in valid)
    return computed
