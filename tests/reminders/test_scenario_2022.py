"""The demo plan of 2022 stepped through every day of the year.

The expectation is computed here from the task data alone (tasks, status updates,
extensions, memberships), in plain Python, day by day, following the policy as the issue
states it; it does not call the reminders code. The run must record exactly those notices,
send one e-mail per recipient and day that has something new, and a second pass over the
same days must record and send nothing more.
"""

import datetime
from collections import defaultdict
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reminders.models import Notification, ReminderPolicy
from reminders.services import reminders_run
from tasks_app.models import DeadlineExtension, Membership, Plan, StatusUpdate, Task

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
YEAR = [datetime.date(2022, 1, 1) + datetime.timedelta(days=n) for n in range(365)]
OPEN = {"not_started", "in_progress"}


def expected_notices(plan: Plan, policy: ReminderPolicy) -> dict[tuple, datetime.date]:
    """{(task id, kind, due date in force, user id, occurrence): first day owed}."""
    offsets = [int(o) for o in policy.due_soon_offsets.split(",")]
    has_children = set(Task.objects.filter(parent__isnull=False).values_list("parent", flat=True))
    tasks = [t for t in Task.objects.filter(plan=plan) if t.pk not in has_children]
    updates, approvals = defaultdict(list), defaultdict(list)
    for u in StatusUpdate.objects.all():
        updates[u.task_id].append(u)
    for e in DeadlineExtension.objects.filter(status="approved"):
        approvals[e.task_id].append(e)
    coordinating = defaultdict(set)
    for t in tasks:
        coordinating[t.pk] = set(t.coordinating_agencies.values_list("pk", flat=True))
    staff, managers, monitors = defaultdict(set), defaultdict(set), set()
    for m in Membership.objects.filter(user__is_active=True):
        if m.role in ("manager", "officer"):
            staff[m.agency_id].add(m.user_id)
        if m.role == "manager":
            managers[m.agency_id].add(m.user_id)
        if m.role == "monitor":
            monitors.add(m.user_id)

    owed: dict[tuple, datetime.date] = {}
    for day in YEAR:
        cutoff = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(), TZ)
        for task in tasks:
            if task.assigned_on > day or task.original_due is None:
                continue
            known = sorted(
                (u for u in updates[task.pk] if u.recorded_at < cutoff),
                key=lambda u: (u.recorded_at, u.pk),
            )
            state = known[-1].state if known else "not_started"
            if state not in OPEN:
                continue
            decided = sorted(
                (e for e in approvals[task.pk] if e.decided_at < cutoff),
                key=lambda e: (e.decided_at, e.pk),
            )
            due = decided[-1].proposed_due if decided else task.original_due
            late = (day - due).days  # > 0: days overdue; < 0: days left
            reports = [u for u in known if u.kind in ("report", "confirmation")]
            last = reports[-1].recorded_at.astimezone(TZ).date() if reports else task.assigned_on
            silent = (day - last).days

            found = []  # (kind, occurrence)
            if policy.due_soon_enabled and -late in offsets:
                found.append(("due_soon", -late))
            if (
                policy.overdue_enabled
                and late >= 1
                and (late - 1) % policy.overdue_repeat_days == 0
            ):
                found.append(("overdue", late))
            if policy.escalation_enabled and late == policy.escalation_after_days:
                found.append(("escalation", 0))
            n = policy.stale_after_days
            if (
                policy.stale_enabled
                and state == "in_progress"
                and late <= 0
                and silent >= n
                and silent % n == 0
            ):
                found.append(("stale", day.toordinal()))
            for kind, occurrence in found:
                if kind == "escalation":
                    parent = task.lead_agency.parent_id
                    people = managers.get(parent, set()) | monitors
                else:
                    people = set(staff[task.lead_agency_id])
                    if policy.include_coordinating_agencies:
                        for agency in coordinating[task.pk]:
                            people |= staff[agency]
                for user in people:
                    owed.setdefault((task.pk, kind, due, user, occurrence), day)
    return owed


def _subject_day(subject: str) -> datetime.date:
    """The day a digest is for, read from the end of its subject's first part (dd/mm/yyyy)."""
    day, month, year = subject.split(": ")[0][-10:].split("/")
    return datetime.date(int(year), int(month), int(day))


def test_the_demo_year_sends_exactly_what_the_policy_calls_for_and_a_second_pass_nothing(
    mailoutbox,
):
    call_command("load_plan", "data/plan_2022.yaml", "--demo", stdout=StringIO())
    plan = Plan.objects.get(code="CDS-ND-2022")
    # The plan's own policy: the defaults, with coordinating agencies notified too.
    policy = ReminderPolicy.objects.create(plan=plan, include_coordinating_agencies=True)
    owed = expected_notices(plan, policy)
    emails = {u.pk: u.email for u in get_user_model().objects.all()}
    expected_mails = sorted({(emails[key[3]], day) for key, day in owed.items() if emails[key[3]]})
    # The demo exercises every kind of notice.
    assert {key[1] for key in owed} == {"due_soon", "overdue", "escalation", "stale"}

    query_counts = set()
    for day in YEAR:
        if day.day in (1, 15):
            with CaptureQueriesContext(connection) as ctx:
                reminders_run(day, dry_run=True)
            # Savepoints and the SET LOCAL of PostgreSQL aside.
            query_counts.add(sum(q["sql"].startswith("SELECT") for q in ctx.captured_queries))
        reminders_run(day, inline=True)

    recorded = {
        (n.task_id, n.kind, n.due, n.recipient_id, n.occurrence): n.fire_day
        for n in Notification.objects.all()
    }
    assert recorded == owed
    sent = sorted((m.to[0], _subject_day(m.subject)) for m in mailoutbox)
    assert sent == expected_mails
    assert set(Notification.objects.values_list("email_status", flat=True)) == {"sent"}
    # Finding the notices takes a fixed handful of queries, however much is owed: policies,
    # the earliest due date, tasks, coordinators, people, the keys already recorded.
    assert max(query_counts) <= 6, query_counts

    for day in YEAR:
        reminders_run(day, inline=True)
    assert Notification.objects.count() == len(owed)
    assert len(mailoutbox) == len(expected_mails)
