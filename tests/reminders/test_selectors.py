"""Which notices are owed on a day: each kind of the policy, its switch, the recipients,
the tasks that get nothing, and the number of queries (it does not grow with the tasks)."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reminders.models import ReminderPolicy
from reminders.selectors import _task_facts, reminder_notices_due
from tasks_app import services
from tasks_app.choices import Role, TaskState
from tasks_app.models import Task
from tests.factories import (
    MembershipFactory,
    PlanFactory,
    PriorityAreaFactory,
    TaskFactory,
    UserFactory,
)
from tests.reminders.conftest import at_seven

pytestmark = pytest.mark.django_db

D = datetime.date


def owed(day):
    """{(task code, kind, username, occurrence)} owed on `day`."""
    return {
        (n.task_code, n.kind, n.recipient.username, n.occurrence)
        for n in reminder_notices_due(day=day)
    }


def kinds(day):
    return {(n.task_code, n.kind) for n in reminder_notices_due(day=day)}


def report(task, user, *, on, state=TaskState.IN_PROGRESS, progress=20, **fields):
    """A progress report recorded at 09:00 of `on` (historical time)."""
    return services.status_update_record(
        task=Task.objects.get(pk=task.pk),
        author=user,
        agency=task.lead_agency,
        state=state,
        progress=progress,
        recorded_at=at_seven(on) + datetime.timedelta(hours=2),
        **fields,
    )


# --- Due soon ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "days_left"),
    [
        # Due 01/03/2022: the reminders cross the end of February (28 days in 2022).
        (D(2022, 2, 22), 7),
        (D(2022, 2, 26), 3),
        (D(2022, 2, 28), 1),
    ],
)
def test_due_soon_notices_go_out_7_3_and_1_days_before_across_a_month_end(
    make_task, people, policy, day, days_left
):
    task = make_task(code="T-MAR", due=D(2022, 3, 1))
    assert owed(day) == {
        (task.code, "due_soon", "manager", days_left),
        (task.code, "due_soon", "officer", days_left),
    }


@pytest.mark.parametrize(
    "day", [D(2022, 2, 21), D(2022, 2, 23), D(2022, 2, 27), D(2022, 3, 1), D(2022, 3, 2)]
)
def test_no_due_soon_notice_on_other_days_nor_on_the_due_date(make_task, people, policy, day):
    make_task(code="T-MAR", due=D(2022, 3, 1))
    assert ("T-MAR", "due_soon") not in kinds(day)


# --- Overdue ----------------------------------------------------------------------------------


def test_overdue_notice_on_due_plus_one_then_every_seven_days(make_task, people, policy):
    make_task(code="T-JAN", due=D(2022, 1, 31))
    fired = [
        day
        for day in (D(2022, 1, 31) + datetime.timedelta(days=n) for n in range(0, 30))
        if ("T-JAN", "overdue") in kinds(day)
    ]
    # The due date itself is still in time; overdue from 00:00 of 01/02.
    assert fired == [D(2022, 2, 1), D(2022, 2, 8), D(2022, 2, 15), D(2022, 2, 22), D(2022, 3, 1)]


def test_overdue_occurrence_is_the_number_of_days_overdue(make_task, people, policy):
    make_task(code="T-JAN", due=D(2022, 1, 31))
    assert ("T-JAN", "overdue", "officer", 8) in owed(D(2022, 2, 8))


def test_repeat_zero_sends_only_the_first_overdue_notice(make_task, people, policy):
    policy.overdue_repeat_days = 0
    policy.save()
    make_task(code="T-JAN", due=D(2022, 1, 31))
    assert ("T-JAN", "overdue") in kinds(D(2022, 2, 1))
    assert ("T-JAN", "overdue") not in kinds(D(2022, 2, 8))


# --- Escalation -------------------------------------------------------------------------------


def test_escalation_after_14_days_goes_to_parent_managers_and_monitors_only(
    make_task, people, policy
):
    task = make_task(code="T-JUN", due=D(2022, 6, 30))
    assert {(code, kind, user) for code, kind, user, _ in owed(D(2022, 7, 14))} == {
        # Hải Hậu's parent is UBND tỉnh: its manager, and every monitor. Not the lead
        # agency's own staff (they have their overdue notices), not the leader.
        (task.code, "escalation", "province_manager"),
        (task.code, "escalation", "monitor"),
    }
    assert ("T-JUN", "escalation") not in kinds(D(2022, 7, 13))
    assert ("T-JUN", "escalation") not in kinds(D(2022, 7, 15))


def test_a_commune_task_escalates_to_the_district_managers(
    make_task, agencies, manager, monitor, commune_manager, policy
):
    make_task(code="T-XA", lead_agency=agencies["haitrung"], due=D(2022, 6, 30))
    recipients = {user for _, kind, user, _ in owed(D(2022, 7, 14)) if kind == "escalation"}
    assert recipients == {"manager", "monitor"}


def test_escalation_without_a_parent_agency_goes_to_the_monitors(
    make_task, agencies, monitor, policy
):
    boss = UserFactory(username="boss")
    MembershipFactory(user=boss, agency=agencies["province"], role=Role.MANAGER)
    make_task(code="T-TINH", lead_agency=agencies["province"], due=D(2022, 6, 30))
    assert {(k, u) for _, k, u, _ in owed(D(2022, 7, 14)) if k == "escalation"} == {
        ("escalation", "monitor")
    }


# --- No progress ------------------------------------------------------------------------------


def test_stale_notice_after_30_and_60_days_without_a_report(make_task, people, policy):
    task = make_task(code="T-DEC", due=D(2022, 12, 31))
    report(task, people["officer"], on=D(2022, 3, 1))
    fired = [
        day
        for day in (D(2022, 3, 1) + datetime.timedelta(days=n) for n in range(0, 75))
        if ("T-DEC", "stale") in kinds(day)
    ]
    assert fired == [D(2022, 3, 31), D(2022, 4, 30)]


def test_a_new_report_restarts_the_stale_count(make_task, people, policy):
    task = make_task(code="T-DEC", due=D(2022, 12, 31))
    report(task, people["officer"], on=D(2022, 3, 1))
    report(task, people["officer"], on=D(2022, 3, 20), progress=40)
    assert ("T-DEC", "stale") not in kinds(D(2022, 3, 31))
    assert ("T-DEC", "stale") in kinds(D(2022, 4, 19))


def test_a_not_started_task_gets_no_stale_notice(make_task, people, policy):
    make_task(code="T-DEC", assigned_on=D(2022, 3, 1), due=D(2022, 12, 31))
    assert ("T-DEC", "stale") not in kinds(D(2022, 3, 31))


def test_an_overdue_task_gets_overdue_notices_not_stale_ones(make_task, people, policy):
    task = make_task(code="T-FEB", due=D(2022, 2, 28))
    report(task, people["officer"], on=D(2022, 2, 1))
    assert kinds(D(2022, 3, 3)) == set()  # 30 days silent, but overdue: 3 days
    assert ("T-FEB", "overdue") in kinds(D(2022, 3, 1))


def test_a_contribution_is_not_a_report_of_the_lead_agency(
    make_task, people, coordinator, agencies, policy
):
    task = make_task(code="T-DEC", due=D(2022, 12, 31))
    task.coordinating_agencies.add(agencies["giaothuy"])
    report(task, people["officer"], on=D(2022, 3, 1))
    services.contribution_add(
        task=task,
        author=coordinator,
        agency=agencies["giaothuy"],
        result="Đã cung cấp số liệu",
        recorded_at=at_seven(D(2022, 3, 15)),
    )
    assert ("T-DEC", "stale") in kinds(D(2022, 3, 31))


# --- Switches and per-plan policies -----------------------------------------------------------


SCENES = {
    # kind: (due date, day on which that kind is owed)
    "due_soon": (D(2022, 6, 30), D(2022, 6, 23)),
    "overdue": (D(2022, 6, 30), D(2022, 7, 1)),
    "escalation": (D(2022, 6, 30), D(2022, 7, 14)),
    "stale": (D(2022, 12, 31), D(2022, 3, 31)),
}


@pytest.mark.parametrize("kind", SCENES)
def test_switching_a_kind_off_stops_that_kind_only(make_task, people, policy, kind):
    due, day = SCENES[kind]
    task = make_task(code="T-1", due=due)
    report(task, people["officer"], on=D(2022, 3, 1))
    assert ("T-1", kind) in kinds(day)
    setattr(policy, f"{kind}_enabled", False)
    policy.save()
    assert ("T-1", kind) not in kinds(day)
    # The other kinds still go out.
    other_kind, (other_due, other_day) = next((k, v) for k, v in SCENES.items() if k != kind)
    other = make_task(code="T-2", due=other_due)
    report(other, people["officer"], on=D(2022, 3, 1))
    assert ("T-2", other_kind) in kinds(other_day)


def test_a_plans_own_policy_overrides_the_default_for_that_plan_only(
    make_task, people, agencies, policy, plan
):
    ReminderPolicy.objects.create(plan=plan, due_soon_offsets="10")
    make_task(code="T-OWN", due=D(2022, 6, 30))
    other_area = PriorityAreaFactory(plan=PlanFactory(issuing_agency=plan.issuing_agency))
    TaskFactory(
        code="T-DEFAULT",
        priority_area=other_area,
        lead_agency=agencies["haihau"],
        original_due=D(2022, 6, 30),
    )
    assert kinds(D(2022, 6, 20)) == {("T-OWN", "due_soon")}
    assert kinds(D(2022, 6, 23)) == {("T-DEFAULT", "due_soon")}


def test_without_a_default_row_the_built_in_defaults_apply(make_task, people, policy):
    policy.delete()
    make_task(code="T-1", due=D(2022, 6, 30))
    assert kinds(D(2022, 6, 23)) == {("T-1", "due_soon")}


# --- Recipients -------------------------------------------------------------------------------


def test_coordinating_agencies_hear_only_when_the_policy_says_so(
    make_task, people, coordinator, agencies, policy
):
    task = make_task(code="T-1", due=D(2022, 6, 30))
    task.coordinating_agencies.add(agencies["giaothuy"])

    def users(day):
        return {u for _, _, u, _ in owed(day)}

    assert "coordinator" not in users(D(2022, 6, 23))
    policy.include_coordinating_agencies = True
    policy.save()
    assert "coordinator" in users(D(2022, 6, 23))  # due soon
    assert "coordinator" in users(D(2022, 7, 1))  # overdue
    assert "coordinator" not in users(D(2022, 7, 14))  # escalations go up, not sideways


def test_a_person_reached_twice_gets_one_notice(make_task, agencies, manager, policy):
    MembershipFactory(user=manager, agency=agencies["haihau"], role=Role.OFFICER)
    make_task(code="T-1", due=D(2022, 6, 30))
    assert owed(D(2022, 6, 23)) == {("T-1", "due_soon", "manager", 7)}


def test_inactive_users_get_nothing(make_task, people, policy):
    get_user_model().objects.filter(username="officer").update(is_active=False)
    make_task(code="T-1", due=D(2022, 6, 30))
    assert {u for _, _, u, _ in owed(D(2022, 6, 23))} == {"manager"}


def test_leaders_and_other_agencies_get_nothing(make_task, people, policy):
    make_task(code="T-1", due=D(2022, 6, 30))
    everyone = set()
    for day in (D(2022, 6, 23), D(2022, 7, 1), D(2022, 7, 14)):
        everyone |= {u for _, _, u, _ in owed(day)}
    assert "leader" not in everyone
    assert "outsider" not in everyone


# --- Tasks that get nothing -------------------------------------------------------------------


def test_completed_and_withdrawn_tasks_get_nothing(make_task, people, monitor, policy):
    done = make_task(code="T-DONE", due=D(2022, 6, 30))
    report(
        done,
        people["officer"],
        on=D(2022, 6, 20),
        state=TaskState.COMPLETED,
        completed_on=D(2022, 6, 20),
        result="Đã hoàn thành",
    )
    stopped = make_task(code="T-STOP", due=D(2022, 6, 30))
    services.status_update_record(
        task=stopped,
        author=monitor,
        state=TaskState.WITHDRAWN,
        progress=0,
        reason="Không còn phù hợp",
        recorded_at=at_seven(D(2022, 6, 20)),
    )
    for day in (D(2022, 6, 23), D(2022, 7, 1), D(2022, 7, 14)):
        assert kinds(day) == set()


def test_a_task_awaiting_confirmation_is_not_nagged(make_task, people, policy):
    task = make_task(code="T-WAIT", due=D(2022, 6, 30))
    report(
        task,
        people["officer"],
        on=D(2022, 6, 20),
        state=TaskState.AWAITING_CONFIRMATION,
        completed_on=D(2022, 6, 20),
        result="Đề nghị xác nhận",
    )
    for day in (D(2022, 6, 23), D(2022, 7, 1), D(2022, 7, 14)):
        assert kinds(day) == set()


def test_a_regular_task_gets_no_reminder_of_any_kind(make_task, people, policy):
    task = make_task(code="T-REG", due=None, original_due=None)
    report(task, people["officer"], on=D(2022, 1, 10))
    # The days a no-progress notice would fall on (30, 60, 90 days after the report), and a
    # day a week through the year.
    days = [D(2022, 2, 9), D(2022, 3, 11), D(2022, 4, 10)]
    days += [D(2022, 1, 1) + datetime.timedelta(days=n) for n in range(0, 365, 7)]
    for day in days:
        assert kinds(day) == set(), day


def test_a_task_is_not_reminded_before_it_is_assigned(make_task, people, policy):
    make_task(code="T-LATE", assigned_on=D(2022, 6, 25), due=D(2022, 6, 30))
    assert kinds(D(2022, 6, 23)) == set()
    assert ("T-LATE", "due_soon") in kinds(D(2022, 6, 27))


def test_a_split_task_reminds_the_childrens_agencies_not_the_parent(
    make_task, agencies, manager, commune_manager, outsider, policy
):
    parent = make_task(code="T-ALL", lead_agency=agencies["stttt"], due=D(2022, 6, 30))
    services.task_split(task=parent, agencies=[agencies["haitrung"], agencies["giaothuy"]])
    owed_on = owed(D(2022, 6, 23))
    assert {(code, user) for code, _, user, _ in owed_on} == {
        ("T-ALL.HH_HAITRUNG", "commune_manager"),
        ("T-ALL.UBND_GIAOTHUY", "outsider"),
    }


# --- History: the state and the due date in force on the day ----------------------------------


def test_a_completion_recorded_later_does_not_erase_an_earlier_days_reminder(
    make_task, people, policy
):
    task = make_task(code="T-1", due=D(2022, 6, 30))
    report(
        task,
        people["officer"],
        on=D(2022, 6, 28),
        state=TaskState.COMPLETED,
        completed_on=D(2022, 6, 28),
        result="Xong",
    )
    assert ("T-1", "due_soon") in kinds(D(2022, 6, 27))  # known then: not done
    assert ("T-1", "due_soon") not in kinds(D(2022, 6, 29))


def test_the_short_cut_agrees_with_the_reports_history_rule(make_task, people, leader, policy):
    """The selector reads the task row when it was written before the end of the day, else
    the history; both must agree with TaskQuerySet.with_history_at."""
    extended = make_task(code="T-EXT", due=D(2022, 6, 30))
    request = services.extension_request(
        task=extended,
        requested_by=people["officer"],
        proposed_due=D(2022, 7, 31),
        reason="Chờ kinh phí",
        requested_at=at_seven(D(2022, 6, 20)),
    )
    services.extension_approve(
        extension=request, decided_by=leader, decided_at=at_seven(D(2022, 6, 25))
    )
    started = make_task(code="T-RUN", due=D(2022, 9, 30))
    report(started, people["officer"], on=D(2022, 5, 1))
    report(started, people["officer"], on=D(2022, 8, 1), state=TaskState.COMPLETED,
           completed_on=D(2022, 8, 1), result="Xong")  # fmt: skip
    make_task(code="T-NEW", due=D(2022, 12, 31))
    for day in (D(2022, 5, 15), D(2022, 6, 25), D(2022, 7, 15), D(2022, 8, 2), D(2030, 1, 1)):
        fast = {t.code: (t.r_state, t.due_at) for t in _task_facts(day).order_by()}
        slow = {
            t.code: (t.state_at or TaskState.NOT_STARTED, t.due_at)
            for t in Task.objects.with_history_at(day)
            if t.original_due and (t.state_at or "not_started") in ("not_started", "in_progress")
        }
        assert fast == slow, day


# --- Queries ----------------------------------------------------------------------------------


def test_the_number_of_queries_does_not_grow_with_the_tasks(make_task, people, agencies, policy):
    policy.include_coordinating_agencies = True
    policy.save()
    day = D(2022, 6, 23)

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            notices = reminder_notices_due(day=day)
        return len(ctx), len(notices)

    make_task(code="T-0", due=D(2022, 6, 30)).coordinating_agencies.add(agencies["giaothuy"])
    few_queries, few_notices = count()
    for n in range(1, 40):
        task = make_task(code=f"T-{n}", due=D(2022, 6, 30) if n % 2 else D(2022, 6, 16))
        task.coordinating_agencies.add(agencies["giaothuy"], agencies["haitrung"])
    many_queries, many_notices = count()
    assert many_notices > 10 * few_notices
    assert many_queries == few_queries
