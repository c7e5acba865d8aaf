"""Reminders of a task flagged "cần giao lại" (issue 14): until the monitors give it a new lead
agency, its notices go to the monitoring officers, not to the people of the agency that
ceased to exist, nor to its parent's managers; the number of queries stays the same."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reminders.selectors import reminder_notices_due
from tasks_app import services
from tasks_app.models import Task

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def district_ended(agencies):
    """Hải Hậu district (the lead agency of `make_task` tasks) ceased to exist after
    01/06/2022 in these tests."""
    agencies["haihau"].valid_to = D(2022, 6, 1)
    agencies["haihau"].save()


def owed(day):
    return {(n.task_code, n.kind, n.recipient.username) for n in reminder_notices_due(day=day)}


def test_a_flagged_tasks_reminders_go_to_the_monitors(make_task, agencies, people, policy):
    task = make_task(code="T-HH", due=D(2022, 6, 30))
    make_task(code="T-OK", due=D(2022, 6, 30))
    Task.objects.filter(pk=task.pk).update(needs_reassignment=True)
    assert {(code, kind, user) for code, kind, user in owed(D(2022, 6, 23))} == {
        ("T-HH", "due_soon", "monitor"),
        # The task that still has its agency is reminded to that agency's staff.
        ("T-OK", "due_soon", "manager"),
        ("T-OK", "due_soon", "officer"),
    }
    # The escalation too: the monitors only, not the managers of the province.
    assert {(c, u) for c, k, u in owed(D(2022, 7, 14)) if k == "escalation"} == {
        ("T-HH", "monitor"),
        ("T-OK", "province_manager"),
        ("T-OK", "monitor"),
    }


def test_a_run_for_a_day_when_the_agency_still_existed_reminds_it(
    make_task, agencies, people, policy
):
    # Rerunning a past day (send_reminders --date) gives what that day's run gave.
    task = make_task(code="T-HH", due=D(2022, 6, 1))
    Task.objects.filter(pk=task.pk).update(needs_reassignment=True)
    assert owed(D(2022, 5, 25)) == {
        ("T-HH", "due_soon", "manager"),
        ("T-HH", "due_soon", "officer"),
    }
    assert owed(D(2022, 6, 2)) == {("T-HH", "overdue", "monitor")}


def test_reminders_go_back_to_the_agency_once_the_task_is_reassigned(
    make_task, agencies, people, commune_manager, monitor, policy
):
    task = make_task(code="T-HH", due=D(2022, 6, 30))
    Task.objects.filter(pk=task.pk).update(needs_reassignment=True)
    services.tasks_reassign(
        tasks=[task], lead_agency=agencies["haitrung"], author=monitor, reason="QĐ 12"
    )
    assert owed(D(2022, 6, 23)) == {("T-HH", "due_soon", "commune_manager")}


def test_coordinating_agencies_still_hear_about_a_flagged_task(make_task, agencies, people, policy):
    policy.include_coordinating_agencies = True
    policy.save()
    task = make_task(code="T-HH", due=D(2022, 6, 30))
    task.coordinating_agencies.add(agencies["giaothuy"])
    Task.objects.filter(pk=task.pk).update(needs_reassignment=True)
    assert owed(D(2022, 6, 23)) == {
        ("T-HH", "due_soon", "monitor"),
        ("T-HH", "due_soon", "outsider"),
    }


def test_flagged_tasks_do_not_add_queries(make_task, agencies, people, policy):
    day = D(2022, 6, 23)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            reminder_notices_due(day=day)
        return len(ctx)

    make_task(code="T-0", due=D(2022, 6, 30))
    few = count()
    for n in range(1, 30):
        make_task(code=f"T-{n}", due=D(2022, 6, 30), needs_reassignment=bool(n % 2))
    assert count() == few
    assert {
        n.recipient.username for n in reminder_notices_due(day=day) if n.task_code == "T-1"
    } == {"monitor"}
