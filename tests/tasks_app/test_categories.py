"""The report category of a task at an as-of date, computed from history (DESIGN.md)."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db.models import Count
from django.utils import timezone

from tasks_app import services
from tasks_app.choices import ExtensionStatus, TaskState
from tasks_app.choices import ReportCategory as C
from tasks_app.models import DeadlineExtension, Task

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
D = datetime.date


def at(day: datetime.date, hour: int = 9, minute: int = 0) -> datetime.datetime:
    """A moment on `day`, local time in Asia/Ho_Chi_Minh."""
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=HCM)


def category(task: Task, as_of: datetime.date) -> str | None:
    return Task.objects.with_category(as_of).get(pk=task.pk).category


def report(task, user, state, progress=0, day=D(2022, 3, 1), **kwargs):
    return services.status_update_record(
        task=task, author=user, state=state, progress=progress, recorded_at=at(day), **kwargs
    )


def complete(task, user, completed_on, recorded_on=None, **kwargs):
    return report(
        task,
        user,
        TaskState.COMPLETED,
        100,
        day=recorded_on or completed_on,
        completed_on=completed_on,
        result="Đã ban hành văn bản",
        **kwargs,
    )


pytestmark = pytest.mark.django_db


def test_task_without_updates_is_not_started_until_due(task):
    assert category(task, D(2022, 3, 1)) == C.NOT_STARTED


def test_task_is_not_counted_before_it_is_assigned(make_task):
    late = make_task(assigned_on=D(2022, 5, 1), due=D(2022, 6, 30))
    assert category(late, D(2022, 4, 30)) is None
    assert category(late, D(2022, 5, 1)) == C.NOT_STARTED


def test_on_the_due_date_the_task_is_still_in_time_and_overdue_the_next_day(task, manager):
    report(task, manager, TaskState.IN_PROGRESS, 40)
    assert category(task, D(2022, 6, 30)) == C.IN_PROGRESS
    assert category(task, D(2022, 7, 1)) == C.OVERDUE


def test_task_never_started_but_past_due_is_overdue(task):
    assert category(task, D(2022, 6, 30)) == C.NOT_STARTED
    assert category(task, D(2022, 7, 1)) == C.OVERDUE


def test_completion_on_the_due_date_is_on_time(task, manager):
    complete(task, manager, D(2022, 6, 30))
    assert category(task, D(2022, 6, 30)) == C.COMPLETED_ON_TIME
    assert category(task, D(2022, 12, 31)) == C.COMPLETED_ON_TIME


def test_completion_the_day_after_the_due_date_is_late(task, manager):
    complete(task, manager, D(2022, 7, 1))
    assert category(task, D(2022, 6, 30)) == C.NOT_STARTED
    assert category(task, D(2022, 7, 1)) == C.COMPLETED_LATE


def test_completion_reported_later_does_not_change_the_earlier_report(task, manager):
    # Done on 28 June, but only reported on 2 July: the June report did not know it.
    report(task, manager, TaskState.IN_PROGRESS, 80, day=D(2022, 6, 1))
    complete(task, manager, D(2022, 6, 28), recorded_on=D(2022, 7, 2))
    assert category(task, D(2022, 6, 30)) == C.IN_PROGRESS
    assert category(task, D(2022, 7, 1)) == C.OVERDUE
    assert category(task, D(2022, 7, 31)) == C.COMPLETED_ON_TIME


def test_update_recorded_late_in_the_evening_counts_for_that_day(task, manager):
    # 23:30 in Hà Nội is 16:30 UTC: still the 30th locally.
    services.status_update_record(
        task=task,
        author=manager,
        state=TaskState.IN_PROGRESS,
        progress=10,
        recorded_at=at(D(2022, 6, 30), 23, 30),
    )
    assert category(task, D(2022, 6, 29)) == C.NOT_STARTED
    assert category(task, D(2022, 6, 30)) == C.IN_PROGRESS


def test_update_just_after_local_midnight_belongs_to_the_next_day(make_task, manager):
    # 00:30 on 1 July in Hà Nội is still 30 June in UTC, but belongs to July here.
    task = make_task(due=D(2022, 12, 31))
    services.status_update_record(
        task=task,
        author=manager,
        state=TaskState.IN_PROGRESS,
        progress=10,
        recorded_at=at(D(2022, 7, 1), 0, 30),
    )
    assert category(task, D(2022, 6, 30)) == C.NOT_STARTED
    assert category(task, D(2022, 7, 1)) == C.IN_PROGRESS


def test_extension_approved_after_the_date_does_not_change_the_category(task, manager, monitor):
    report(task, manager, TaskState.IN_PROGRESS, 50, day=D(2022, 6, 1))
    extension = services.extension_request(
        task=task,
        requested_by=manager,
        proposed_due=D(2022, 9, 30),
        reason="Chờ kinh phí",
        requested_at=at(D(2022, 6, 25)),
    )
    services.extension_approve(
        extension=extension, decided_by=monitor, decided_at=at(D(2022, 7, 5))
    )
    assert category(task, D(2022, 7, 4)) == C.OVERDUE
    assert category(task, D(2022, 7, 5)) == C.IN_PROGRESS
    assert category(task, D(2022, 9, 30)) == C.IN_PROGRESS
    assert category(task, D(2022, 10, 1)) == C.OVERDUE


def test_completion_judged_against_the_due_date_in_force_when_completed(task, manager, monitor):
    extension = services.extension_request(
        task=task,
        requested_by=manager,
        proposed_due=D(2022, 8, 31),
        reason="Điều chỉnh kế hoạch",
        requested_at=at(D(2022, 6, 20)),
    )
    services.extension_approve(
        extension=extension, decided_by=monitor, decided_at=at(D(2022, 6, 25))
    )
    complete(task, manager, D(2022, 8, 15))
    assert category(task, D(2022, 8, 31)) == C.COMPLETED_ON_TIME


def test_extension_approved_after_completion_does_not_make_it_on_time(make_task, manager, monitor):
    # The service refuses such an approval now; older records imported from another system
    # can still hold one, and the report must not turn the late completion into on time.
    task = make_task(due=D(2022, 6, 30))
    complete(task, manager, D(2022, 7, 5))
    DeadlineExtension.objects.create(
        task=task,
        requested_by=manager,
        requested_at=at(D(2022, 7, 3)),
        previous_due=D(2022, 6, 30),
        proposed_due=D(2022, 7, 31),
        reason="Xin lùi hạn",
        status=ExtensionStatus.APPROVED,
        decided_by=monitor,
        decided_at=at(D(2022, 7, 10)),
    )
    assert category(task, D(2022, 7, 31)) == C.COMPLETED_LATE


def test_regular_task_is_never_overdue(make_task, manager):
    regular = make_task(due=None, original_due=None)
    assert category(regular, D(2030, 1, 1)) == C.REGULAR
    report(regular, manager, TaskState.IN_PROGRESS, 30)
    assert category(regular, D(2030, 1, 1)) == C.REGULAR
    complete(regular, manager, D(2022, 11, 1))
    assert category(regular, D(2022, 11, 1)) == C.COMPLETED_ON_TIME


def test_withdrawn_task_is_listed_apart_from_the_date_it_was_withdrawn(task, manager, monitor):
    report(task, manager, TaskState.IN_PROGRESS, 20, day=D(2022, 3, 1))
    services.status_update_record(
        task=task,
        author=monitor,
        state=TaskState.WITHDRAWN,
        progress=20,
        reason="Không còn phù hợp",
        recorded_at=at(D(2022, 5, 10)),
    )
    assert category(task, D(2022, 5, 9)) == C.IN_PROGRESS
    assert category(task, D(2022, 5, 10)) == C.WITHDRAWN
    assert category(task, D(2022, 12, 31)) == C.WITHDRAWN


def test_awaiting_confirmation_counts_as_not_yet_completed(task, manager, monitor):
    report(
        task,
        manager,
        TaskState.AWAITING_CONFIRMATION,
        100,
        day=D(2022, 6, 20),
        completed_on=D(2022, 6, 20),
        result="Đã hoàn thành",
    )
    assert category(task, D(2022, 6, 25)) == C.IN_PROGRESS
    services.status_update_record(
        task=task,
        author=monitor,
        state=TaskState.COMPLETED,
        progress=100,
        completed_on=D(2022, 6, 20),
        result="Đã hoàn thành",
        recorded_at=at(D(2022, 7, 2)),
    )
    assert category(task, D(2022, 6, 30)) == C.IN_PROGRESS
    assert category(task, D(2022, 7, 2)) == C.COMPLETED_ON_TIME


def test_categories_can_be_counted_in_one_query(make_task, manager, django_assert_num_queries):
    overdue = make_task(due=D(2022, 3, 31))
    on_time = make_task(due=D(2022, 6, 30))
    complete(on_time, manager, D(2022, 6, 1))
    make_task(due=None, original_due=None)
    assert overdue.pk
    with django_assert_num_queries(1):
        counts = dict(
            Task.objects.with_category(D(2022, 6, 30))
            .values_list("category")
            .annotate(n=Count("pk"))
        )
    assert counts == {C.OVERDUE: 1, C.COMPLETED_ON_TIME: 1, C.REGULAR: 1}


@time_machine.travel(datetime.datetime(2022, 7, 1, 0, 5, tzinfo=HCM), tick=False)
def test_today_in_hanoi_decides_overdue_not_the_utc_date(task):
    # At 00:05 on 1 July in Hà Nội it is still 30 June in UTC; the task is overdue already.

    assert category(task, timezone.localdate()) == C.OVERDUE


def test_parent_task_rolls_up_its_children(task, agencies, manager, outsider):
    haihau, giaothuy = services.task_split(
        task=task, agencies=[agencies["haihau"], agencies["giaothuy"]]
    )
    assert category(task, D(2022, 3, 1)) == C.NOT_STARTED
    report(haihau, manager, TaskState.IN_PROGRESS, 50, day=D(2022, 3, 1))
    assert category(task, D(2022, 3, 1)) == C.IN_PROGRESS
    complete(haihau, manager, D(2022, 6, 20))
    assert category(task, D(2022, 6, 30)) == C.IN_PROGRESS
    # One child past due makes the plan item overdue, though the other finished on time.
    assert category(task, D(2022, 7, 1)) == C.OVERDUE
    complete(giaothuy, outsider, D(2022, 7, 4))
    assert category(task, D(2022, 7, 4)) == C.COMPLETED_LATE
    assert category(haihau, D(2022, 7, 4)) == C.COMPLETED_ON_TIME


def test_parent_of_withdrawn_children_is_withdrawn_and_counted_once(task, agencies, monitor):
    children = services.task_split(task=task, agencies=[agencies["haihau"], agencies["giaothuy"]])
    for child in children:
        services.task_withdraw(task=child, user=monitor, reason="Không còn phù hợp")
    today = timezone.localdate()
    assert category(task, today) == C.WITHDRAWN
    leaves = Task.objects.filter(plan=task.plan).leaves().with_category(today)
    assert sorted(leaves.values_list("code", flat=True)) == sorted(c.code for c in children)


@pytest.mark.parametrize(
    ("children", "expected"),
    [
        ({C.OVERDUE, C.COMPLETED_ON_TIME}, C.OVERDUE),
        ({C.COMPLETED_ON_TIME, C.WITHDRAWN}, C.COMPLETED_ON_TIME),
        ({C.COMPLETED_ON_TIME, C.COMPLETED_LATE}, C.COMPLETED_LATE),
        ({C.WITHDRAWN}, C.WITHDRAWN),
        ({C.NOT_STARTED, C.COMPLETED_LATE}, C.IN_PROGRESS),
        ({C.NOT_STARTED, C.IN_PROGRESS}, C.IN_PROGRESS),
        ({C.REGULAR, C.WITHDRAWN}, C.REGULAR),
        ({C.REGULAR, C.NOT_STARTED}, C.NOT_STARTED),
    ],
)
def test_rollup_rules(children, expected):
    from tasks_app.categories import CATEGORY_BITS, ROLLUP_BY_MASK, rollup

    assert rollup(children) == expected
    # The SQL form's table says the same.
    assert ROLLUP_BY_MASK[sum(CATEGORY_BITS[c] for c in children)] == expected


@pytest.mark.slow
def test_todays_category_from_the_task_row_matches_the_history(db):
    """From today on, the category reads the task row (fast); it must agree with the
    history rule for every task of the demo plan, leaves and parents alike."""
    from django.core.management import call_command

    from tasks_app.categories import own_category_expression

    call_command("load_plan", "data/plan_2022.yaml", "--demo", stdout=io.StringIO())
    today = timezone.localdate()
    fast = Task.objects.annotate(c=own_category_expression(today)).values_list("code", "c")
    slow = Task.objects.annotate(c=own_category_expression(today, from_history=True)).values_list(
        "code", "c"
    )
    assert dict(fast) == dict(slow)
    assert len(set(dict(fast).values())) >= 5
