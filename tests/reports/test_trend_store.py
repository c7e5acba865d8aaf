"""Stored month-end counts of the dashboard trend (reports/trend_store.py): the trend reads
them only while they match what they were computed from, so a stored number never differs
from what the history gives."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from plan_tracker.celery import app
from reports.models import TrendCount, TrendSnapshot
from reports.selectors import dashboard_trend
from reports.tasks import trend_snapshots_refresh_task
from reports.trend_store import trend_days, trend_snapshot_store, trend_snapshots_refresh
from tasks_app import services
from tasks_app.choices import ReportCategory, TaskState
from tasks_app.models import AdministrativeLevel, Agency, Task
from tests.factories import asked_in_time

pytestmark = pytest.mark.django_db

END_OF_YEAR = datetime.date(2022, 12, 31)


def _counts(trend) -> list[tuple[datetime.date, dict[str, int]]]:
    return [(point.date, point.counts.category_counts()) for point in trend]


def _filters_to_check(at, demo_plan):
    district = AdministrativeLevel.objects.get(code="district")
    haihau = Agency.objects.get(code="UBND_HAIHAU")
    return [
        at(END_OF_YEAR),
        at(datetime.date(2022, 6, 30)),
        at(END_OF_YEAR, level=district),
        at(END_OF_YEAR, priority_area=demo_plan.priority_areas.order_by("order")[1]),
        at(END_OF_YEAR, agency=haihau),
    ]


@pytest.fixture
def leader(demo_user):
    return demo_user("lanhdao")


@pytest.fixture
def stored(demo_plan):
    """The month ends of 2022 stored, as after the nightly job."""
    assert trend_snapshots_refresh(demo_plan) == 12
    return demo_plan


@pytest.mark.slow
def test_stored_counts_give_the_trend_of_the_history_for_every_filter(
    leader, at, demo_plan, django_assert_max_num_queries
):
    filters = _filters_to_check(at, demo_plan)
    live = [_counts(dashboard_trend(user=leader, filters=f)) for f in filters]
    assert all(p.stored_at is None for p in dashboard_trend(user=leader, filters=filters[0]))

    trend_snapshots_refresh(demo_plan)

    for one, expected in zip(filters, live, strict=True):
        with django_assert_max_num_queries(8):
            trend = dashboard_trend(user=leader, filters=one)
        assert all(point.stored_at is not None for point in trend)
        assert _counts(trend) == expected
    # The numbers are not trivial: the year ends with tasks in most categories.
    year_end = dict(live[0][-1][1])
    assert year_end[ReportCategory.COMPLETED_ON_TIME] > 0
    assert year_end[ReportCategory.OVERDUE] > 0


def test_refresh_stores_each_month_end_once(stored):
    snapshots = {s.day: (s.pk, s.computed_at) for s in TrendSnapshot.objects.filter(plan=stored)}
    assert sorted(snapshots) == trend_days(stored)
    rows = TrendCount.objects.count()

    assert trend_snapshots_refresh(stored) == 0
    assert trend_snapshots_refresh_task(stored.pk) == 0

    again = {s.day: (s.pk, s.computed_at) for s in TrendSnapshot.objects.filter(plan=stored)}
    assert again == snapshots
    assert TrendCount.objects.count() == rows


def _some_task(plan, **filters) -> Task:
    return Task.objects.filter(plan=plan, children__isnull=True, **filters).order_by("code")[0]


def _move_lead_agency(plan, leader):
    task = _some_task(plan, assigned_on__lte=datetime.date(2022, 3, 1))
    other = Agency.objects.exclude(pk=task.lead_agency_id).filter(level__code="district")[0]
    Task.objects.filter(pk=task.pk).update(lead_agency=other)


def _edit_original_due(plan, leader):
    task = _some_task(plan, original_due__isnull=False, assigned_on__lte=datetime.date(2022, 3, 1))
    Task.objects.filter(pk=task.pk).update(
        original_due=task.original_due + datetime.timedelta(days=40)
    )


def _split(plan, leader):
    task = _some_task(plan, parent__isnull=True, assigned_on__lte=datetime.date(2022, 3, 1))
    communes = Agency.objects.filter(level__code="commune").order_by("code")[:2]
    services.task_split(task=task, agencies=list(communes))


def _import_a_past_update(plan, leader):
    task = _some_task(plan, state=TaskState.IN_PROGRESS)
    services.status_update_record(
        task=task,
        author=leader,
        state=TaskState.IN_PROGRESS,
        progress=min(task.progress + 5, 95),
        recorded_at=datetime.datetime(2022, 5, 10, 9, tzinfo=datetime.UTC),
    )


def _approve_with_a_past_date(plan, leader):
    task = _some_task(plan, state=TaskState.IN_PROGRESS, due__isnull=False)
    extension = services.extension_request(
        task=task,
        requested_by=leader,
        proposed_due=task.due + datetime.timedelta(days=60),
        reason="Nhập lại hồ sơ gia hạn",
        requested_at=datetime.datetime(2022, 4, 1, 9, tzinfo=datetime.UTC),
    )
    services.extension_approve(
        extension=extension,
        decided_by=leader,
        decided_at=datetime.datetime(2022, 4, 2, 9, tzinfo=datetime.UTC),
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "change",
    [
        _move_lead_agency,
        _edit_original_due,
        _split,
        _import_a_past_update,
        _approve_with_a_past_date,
    ],
)
def test_a_change_to_the_past_sets_the_stored_counts_aside(stored, leader, at, change):
    filters = _filters_to_check(at, stored)
    change(stored, leader)

    trends = [dashboard_trend(user=leader, filters=f) for f in filters]
    # The affected month ends are counted again from the history, not read from the store…
    assert any(point.stored_at is None for point in trends[0][:-1])
    # …and the answers are exactly the history's, as if nothing had been stored.
    TrendSnapshot.objects.all().delete()
    assert [_counts(t) for t in trends] == [
        _counts(dashboard_trend(user=leader, filters=f)) for f in filters
    ]
    # The next refresh stores them again, and the trend reads them.
    assert trend_snapshots_refresh(stored) == 12
    assert all(p.stored_at for p in dashboard_trend(user=leader, filters=filters[0]))


def test_history_recorded_with_a_past_date_drops_the_month_ends_from_that_day(stored, leader):
    _import_a_past_update(stored, leader)  # dated 10/05/2022
    kept = sorted(TrendSnapshot.objects.filter(plan=stored).values_list("day", flat=True))
    assert kept == [
        datetime.date(2022, 1, 31),
        datetime.date(2022, 2, 28),
        datetime.date(2022, 3, 31),
        datetime.date(2022, 4, 30),
    ]


def test_todays_work_keeps_the_stored_month_ends(stored, leader, demo_user, at):
    """A status update, an extension decided and a task assigned today change today, not
    the past: the stored month ends stay in use."""
    task = _some_task(stored, state=TaskState.IN_PROGRESS, due__isnull=False)
    services.status_update_record(
        task=task, author=demo_user("sotttt"), state=TaskState.IN_PROGRESS, progress=90
    )
    extension = services.extension_request(
        task=task,
        requested_by=demo_user("sotttt"),
        proposed_due=timezone.localdate() + datetime.timedelta(days=30),
        reason="Cần thêm thời gian",
        requested_at=asked_in_time(task),
    )
    services.extension_approve(extension=extension, decided_by=leader)
    Task.objects.create(
        plan=stored,
        priority_area=task.priority_area,
        code="CDS22-NEW",
        title="Nhiệm vụ giao hôm nay",
        lead_agency=task.lead_agency,
        assigned_on=timezone.localdate(),
        original_due=timezone.localdate() + datetime.timedelta(days=90),
        due=timezone.localdate() + datetime.timedelta(days=90),
        weight=Decimal("1"),
    )

    trend = dashboard_trend(user=leader, filters=at(END_OF_YEAR))
    assert all(point.stored_at is not None for point in trend)
    assert trend_snapshots_refresh(stored) == 0


def test_the_nightly_refresh_moves_the_marks_so_checks_read_only_newer_updates(stored, demo_user):
    task = _some_task(stored, state=TaskState.IN_PROGRESS)
    update = services.status_update_record(
        task=task, author=demo_user("sotttt"), state=TaskState.IN_PROGRESS, progress=90
    )
    assert max(TrendSnapshot.objects.values_list("update_mark", flat=True)) < update.pk
    assert trend_snapshots_refresh(stored) == 0
    assert set(TrendSnapshot.objects.values_list("update_mark", flat=True)) == {update.pk}
    # A past update imported afterwards is still found above the new mark.
    _import_a_past_update(stored, demo_user("lanhdao"))
    assert trend_snapshots_refresh(stored) > 0


def test_a_manager_is_counted_from_the_history_within_the_subtree(stored, demo_user, at):
    """Stored counts cover the whole plan: a district manager's trend (led or coordinated
    in the district) never reads them."""
    manager = demo_user("haihau")
    trend = dashboard_trend(user=manager, filters=at(END_OF_YEAR))
    assert all(point.stored_at is None for point in trend)
    TrendSnapshot.objects.all().delete()
    assert _counts(trend) == _counts(dashboard_trend(user=manager, filters=at(END_OF_YEAR)))
    assert _counts(trend) != _counts(
        dashboard_trend(user=demo_user("lanhdao"), filters=at(END_OF_YEAR))
    )


def test_the_trend_fragment_says_when_stored_points_were_computed(stored, client, leader):
    client.force_login(leader)
    response = client.get(reverse("reports:dashboard-trend"), {"as_of": "2022-12-31"})
    page = response.content.decode()
    assert 'id="trend-stored-at"' in page
    assert "Các tháng trước theo số liệu tính lúc" in page


def test_the_api_gives_when_each_point_was_stored(stored, client, leader):
    client.force_login(leader)
    answer = client.get(reverse("dashboard-api:trend"), {"as_of": "2022-12-31"}).json()
    assert all(point["stored_at"] for point in answer["points"])


def test_nightly_job_is_scheduled_after_midnight():
    entry = app.conf.beat_schedule["trend-snapshots"]
    assert entry["task"] == "reports.trend_snapshots_refresh"
    assert entry["schedule"].hour == {0} and entry["schedule"].minute == {30}


def test_store_trend_command(demo_plan):
    out = io.StringIO()
    call_command("store_trend", "--plan", demo_plan.code, stdout=out)
    assert "31/12/2022" in out.getvalue()
    assert TrendSnapshot.objects.filter(plan=demo_plan).count() == 12
    out = io.StringIO()
    call_command("store_trend", stdout=out)
    assert "0" in out.getvalue().splitlines()[-1]
    with pytest.raises(CommandError):
        call_command("store_trend", "--plan", "NO-SUCH-PLAN", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_a_month_end_stored_while_history_is_imported_waits_and_counts_it(
    postgres_only, make_task, officer
):
    """An import of past history (open, not committed) and the nightly store of the same
    month end at once: the store waits for the import, and counts what it recorded."""
    import threading

    from django.db import connections, transaction

    task = make_task(due=datetime.date(2022, 6, 30))
    plan, end_of_may = task.plan, datetime.date(2022, 5, 31)
    recorded, release, errors = threading.Event(), threading.Event(), []

    def import_history():
        try:
            with transaction.atomic():
                services.status_update_record(
                    task=Task.objects.get(pk=task.pk),
                    author=officer,
                    state=TaskState.IN_PROGRESS,
                    progress=40,
                    recorded_at=datetime.datetime(2022, 5, 10, 9, tzinfo=datetime.UTC),
                )
                recorded.set()
                release.wait(timeout=20)
        except Exception as exc:  # reported to the test
            errors.append(exc)
        finally:
            connections.close_all()

    def store():
        try:
            recorded.wait(timeout=20)
            trend_snapshot_store(plan, end_of_may)
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    importer, storer = threading.Thread(target=import_history), threading.Thread(target=store)
    importer.start()
    storer.start()
    # Let the import commit once the store is waiting for a lock (or has finished).
    _until(lambda: _a_session_waits_for_a_lock() or not storer.is_alive())
    release.set()
    importer.join(timeout=30)
    storer.join(timeout=30)
    assert errors == []

    counts = dict(
        TrendCount.objects.filter(snapshot__plan=plan, snapshot__day=end_of_may).values_list(
            "category", "n"
        )
    )
    assert counts == {ReportCategory.IN_PROGRESS: 1}


def _a_session_waits_for_a_lock() -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def _until(condition, attempts: int = 400) -> None:
    """Poll `condition` (at most about 20 s); the test's assertions decide, not the clock."""
    import time

    for _attempt in range(attempts):
        if condition():
            return
        time.sleep(0.05)
