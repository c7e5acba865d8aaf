"""Selectors of the reminders app: which notices fall due on a day, and the notification
list of a user.

`reminder_notices_due` is computed in SQL: one query finds the tasks that owe a notice on
the day (`_candidates`: the rules as SQL conditions), `notice_kinds` names the kinds each
owes, and a fixed handful more queries find the people. The number of queries does not grow
with the number of tasks; the rows fetched grow with the number of notices, not with the
number of tasks.

What "the state of a task on day D" means is the report's rule (DESIGN.md, "Status"): the
latest status update recorded by the end of D and the due date in force at D (the latest
extension approved by then, else the original due date). So running the job for a past day
gives what that day's run gave, and today's run sees everything known now.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import (
    Case,
    DateField,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Mod, TruncDate
from django.db.models.lookups import Exact

from reminders.choices import KIND_ORDER, NoticeKind
from reminders.expressions import DaysBetween
from reminders.models import Notification, ReminderPolicy
from tasks_app.categories import end_of_day, local_tz
from tasks_app.choices import Role, TaskState, UpdateKind
from tasks_app.formatting import person_name
from tasks_app.models import Membership, StatusUpdate, Task
from tasks_app.querysets import TaskQuerySet

# Only tasks that are still the lead agency's to do are reminded. Completed and withdrawn
# tasks are finished; a task awaiting confirmation has been reported done and waits for the
# monitoring agency, so its lead agency is not nagged (if the completion is returned, the
# task is in progress again and reminders resume).
OPEN_STATES = (TaskState.NOT_STARTED, TaskState.IN_PROGRESS)
# Who acts for an agency on its tasks (the same roles as permissions.AGENCY_STAFF_ROLES).
STAFF_ROLES = (Role.MANAGER, Role.OFFICER)
# Kinds that go to the agencies doing the work; escalations go up the tree instead.
WORK_KINDS = (NoticeKind.DUE_SOON, NoticeKind.OVERDUE, NoticeKind.STALE)


@dataclass(frozen=True)
class Recipient:
    id: int
    username: str
    email: str
    full_name: str

    def __str__(self) -> str:
        return f"{self.full_name or self.username} <{self.email or '-'}>"


@dataclass
class DueNotice:
    """One notice owed on a day: the key of a Notification row plus what the dry run shows."""

    task_id: int
    task_code: str
    kind: str
    due: datetime.date
    occurrence: int
    days_from_due: int
    recipient: Recipient
    is_new: bool = True

    @property
    def key(self) -> tuple:
        return (self.task_id, self.kind, self.due, self.recipient.id, self.occurrence)


@dataclass
class PolicySet:
    """The default policy and the plans' own policies."""

    default: ReminderPolicy
    by_plan: dict[int, ReminderPolicy] = field(default_factory=dict)

    def for_plan(self, plan_id: int) -> ReminderPolicy:
        return self.by_plan.get(plan_id, self.default)

    def groups(self) -> Iterable[tuple[ReminderPolicy, Q]]:
        """Each policy with the condition that selects the tasks it governs."""
        for plan_id, policy in self.by_plan.items():
            yield policy, Q(plan_id=plan_id)
        yield self.default, ~Q(plan_id__in=list(self.by_plan))


def reminder_policies() -> PolicySet:
    """All policies in one query. Without a default row (an administrator deleted it), the
    built-in defaults apply: deleting it is not a way to switch reminders off, the switches
    are."""
    default = None
    by_plan = {}
    for policy in ReminderPolicy.objects.all():
        if policy.plan_id is None:
            default = policy
        else:
            by_plan[policy.plan_id] = policy
    return PolicySet(default=default or ReminderPolicy(), by_plan=by_plan)


def notice_kinds(policy: ReminderPolicy, *, state: str, days: int, silence: int) -> list[str]:
    """The kinds of notice a task owes on a day under `policy`: the rules, stated once.

    `days` is (day − due date in force): negative while time is left, 1 on the first day
    overdue (a task is overdue from 00:00 of due + 1). `silence` is the number of days since
    the lead agency's last progress report (or since assignment). `_candidates` narrows the
    tasks down in SQL with the same rules; this function decides.
    """
    kinds: list[str] = []
    if state not in OPEN_STATES:
        return kinds
    if policy.overdue_enabled and days >= 1:
        # Due + 1, then every N days (days overdue 1, 1 + N, 1 + 2N…); N = 0: once.
        repeat = policy.overdue_repeat_days
        if (days - 1) % repeat == 0 if repeat else days == 1:
            kinds.append(NoticeKind.OVERDUE)
    if policy.escalation_enabled and days == policy.escalation_after_days:
        # On the day, not "at least": one escalation per due date in force. A missed day
        # is recovered by rerunning that day (send_reminders --date).
        kinds.append(NoticeKind.ESCALATION)
    if policy.due_soon_enabled and -days in policy.offsets:
        kinds.append(NoticeKind.DUE_SOON)
    if (
        policy.stale_enabled
        and state == TaskState.IN_PROGRESS
        # An overdue task gets overdue notices instead.
        and days <= 0
        # Silent for a whole number of periods: N, 2N, 3N… days.
        and silence >= policy.stale_after_days
        and silence % policy.stale_after_days == 0
    ):
        kinds.append(NoticeKind.STALE)
    return kinds


def _candidates(policies: PolicySet, day: datetime.date, earliest_due: datetime.date | None) -> Q:
    """The SQL side of `notice_kinds` over the annotations of `_task_facts`: true for every
    task that owes a notice on `day` (and for a few that `notice_kinds` then turns down), so
    that only those rows leave the database. Each policy adds the branch for its plans.

    Every mention of an annotation is compiled and evaluated again, so the date rules are
    turned into one list of due dates: those that owe a due-soon, escalation or overdue
    notice today. Overdue dates go back every N days to the earliest due date of any task.
    """
    candidates = Q(pk__in=[])
    for policy, governs in policies.groups():
        dates = []
        if policy.due_soon_enabled:
            dates += [day + datetime.timedelta(days=o) for o in policy.offsets]
        if policy.escalation_enabled:
            dates.append(day - datetime.timedelta(days=policy.escalation_after_days))
        if policy.overdue_enabled and earliest_due is not None:
            step = policy.overdue_repeat_days
            overdue_since = day - datetime.timedelta(days=1)  # due + 1, due + 1 + N…
            while overdue_since >= earliest_due:
                dates.append(overdue_since)
                if not step:
                    break
                overdue_since -= datetime.timedelta(days=step)
        branch = Q(due_at__in=dates) if dates else Q(pk__in=[])
        if policy.stale_enabled:
            # Cheap tests first: the silence subquery runs only for tasks that pass them.
            branch |= (
                Q(r_state=TaskState.IN_PROGRESS)
                & Q(due_at__gte=day)
                & Q(Exact(Mod(F("r_silence"), Value(policy.stale_after_days)), Value(0)))
            )
        candidates |= governs & branch
    return candidates


def _task_facts(day: datetime.date) -> TaskQuerySet:
    """Leaf tasks assigned by `day` with what was known about them at the end of `day`:
    `r_state`, `due_at` (due date in force), `r_last_report` (the day of the lead agency's
    last progress report or of the monitor's last decision, else the assignment day) and
    `r_silence` (days since then).

    Parent tasks (a plan item split per agency) are left out: each child's lead agency is
    reminded of its own child, and the parent rolls up from them. Regular tasks (no due
    date) get no reminders of any kind.

    The state and due date in force are the report's (TaskQuerySet.with_history_at,
    computed in tasks_app.categories.facts_at, short cuts included); a task without any
    update recorded by then had not started.
    """
    cutoff = end_of_day(day)
    day_value = Value(day, output_field=DateField())
    last_report = (
        StatusUpdate.objects.filter(
            task=OuterRef("pk"),
            recorded_at__lt=cutoff,
            # A coordinating agency's contribution is not the lead agency's report.
            kind__in=[UpdateKind.REPORT, UpdateKind.CONFIRMATION],
        )
        .order_by("-recorded_at", "-pk")
        .annotate(on=TruncDate("recorded_at", tzinfo=local_tz()))
        .values("on")[:1]
    )
    return (
        Task.objects.leaves()
        # A due date in force implies an original due date: a cheap, indexed first cut.
        .filter(assigned_on__lte=day, original_due__isnull=False)
        .with_history_at(day)
        .annotate(r_state=Coalesce(F("state_at"), Value(TaskState.NOT_STARTED)))
        .annotate(r_last_report=Coalesce(Subquery(last_report), F("assigned_on")))
        .annotate(r_silence=DaysBetween(day_value, F("r_last_report")))
        .filter(r_state__in=OPEN_STATES)
    )


def _tasks_owing_notices(day: datetime.date, policies: PolicySet) -> list[dict]:
    """One query for the candidate tasks, then `notice_kinds` on each: the tasks owing at
    least one notice on `day`, each with its list of `kinds`."""
    earliest_due = Task.objects.aggregate(earliest=Min("original_due"))["earliest"]
    query = (
        _task_facts(day)
        .filter(_candidates(policies, day, earliest_due))
        .values(
            "pk",
            "code",
            "plan_id",
            "lead_agency_id",
            "lead_agency__parent_id",
            "needs_reassignment",
            "lead_agency__valid_to",
            "r_state",
            "due_at",
            "r_last_report",
        )
        .order_by("pk")
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The planner prices every history subquery as if it ran for every row (the
            # CASE short cuts make them rare), which switches JIT compilation on: about 3 s
            # of compiling for a 0.7 s scan of 200,000 tasks. Off for this transaction only.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        rows = list(query)
    owing = []
    for row in rows:
        row["r_days"] = (day - row["due_at"]).days
        row["kinds"] = notice_kinds(
            policies.for_plan(row["plan_id"]),
            state=row["r_state"],
            days=row["r_days"],
            silence=(day - row["r_last_report"]).days,
        )
        if row["kinds"]:
            owing.append(row)
    return owing


def _recipients(memberships: Iterable[Mapping[str, Any]]) -> dict[tuple[int, str], list[Recipient]]:
    people: dict[tuple[int, str], list[Recipient]] = defaultdict(list)
    for row in memberships:
        full_name = person_name(row["user__last_name"], row["user__first_name"])
        people[(row["agency_id"], row["role"])].append(
            Recipient(row["user_id"], row["user__username"], row["user__email"], full_name)
        )
    return people


def reminder_notices_due(*, day: datetime.date) -> list[DueNotice]:
    """Every (task, kind, due date in force, recipient, occurrence) notice owed on `day`,
    ordered by recipient, kind (overdue first) and due date. `is_new` is False for notices
    already recorded by an earlier run.

    Queries: policies, the earliest due date, tasks (in a transaction with a SET LOCAL on
    PostgreSQL), coordinating agencies (only when a policy asks), people, and the notices
    already recorded: a fixed handful, whatever the number of tasks.

    Recipients:
    - due soon, overdue, no progress: managers and officers of the lead agency, plus those of
      the coordinating agencies when the task's policy includes them;
    - escalation: managers of the lead agency's parent agency and every monitoring officer;
    - a task flagged "cần giao lại" (needs_reassignment) whose lead agency had ceased to
      exist by `day`: every kind goes to the monitoring officers instead of the lead agency
      and its parent, until the task has a new lead agency (issue 14); coordinating
      agencies keep theirs. A run for a day when the agency still existed reminds it, as
      that day's run did.
    Inactive users get nothing. A person reached by several routes gets the notice once.
    """
    policies = reminder_policies()
    rows = _tasks_owing_notices(day, policies)
    if not rows:
        return []

    # 1. Which tasks need their coordinating agencies' people.
    with_coordinators = [
        row["pk"]
        for row in rows
        if policies.for_plan(row["plan_id"]).include_coordinating_agencies
        and any(kind in WORK_KINDS for kind in row["kinds"])
    ]
    coordinators: dict[int, set[int]] = defaultdict(set)
    if with_coordinators:
        through = Task.coordinating_agencies.through
        for task_id, agency_id in through.objects.filter(task_id__in=with_coordinators).values_list(
            "task_id", "agency_id"
        ):
            coordinators[task_id].add(agency_id)

    # 2. The people of every agency involved, and the monitors, in one query. A flagged
    # task's former lead agency (and its parent) is not involved any more.
    for row in rows:
        ended = row["lead_agency__valid_to"]
        row["orphaned"] = row["needs_reassignment"] and ended is not None and ended < day
    led = [row for row in rows if not row["orphaned"]]
    agency_ids = {row["lead_agency_id"] for row in led}
    agency_ids |= {row["lead_agency__parent_id"] for row in led} - {None}
    for agencies in coordinators.values():
        agency_ids |= agencies
    people = _recipients(
        # The memberships in force on the day of the run.
        Membership.objects.valid_on(day)
        .filter(
            Q(agency_id__in=agency_ids, role__in=STAFF_ROLES) | Q(role=Role.MONITOR),
            user__is_active=True,
        )
        .values(
            "agency_id",
            "role",
            "user_id",
            "user__username",
            "user__email",
            "user__first_name",
            "user__last_name",
        )
        .order_by("user_id")
    )
    monitors = {r.id: r for (_, role), rs in people.items() if role == Role.MONITOR for r in rs}

    def staff(agency_id: int) -> list[Recipient]:
        return [r for role in STAFF_ROLES for r in people.get((agency_id, role), [])]

    # 3. Expand each (task, kind) to its recipients.
    notices: dict[tuple, DueNotice] = {}
    for row in rows:
        for kind in row["kinds"]:
            if row["orphaned"]:
                # No agency answers for the task until the monitors give it a new one.
                recipients = list(monitors.values())
                if kind in WORK_KINDS:
                    for agency_id in coordinators.get(row["pk"], ()):
                        recipients += staff(agency_id)
            elif kind == NoticeKind.ESCALATION:
                managers = people.get((row["lead_agency__parent_id"], Role.MANAGER), [])
                recipients = [*managers, *monitors.values()]
            else:
                recipients = staff(row["lead_agency_id"])
                for agency_id in coordinators.get(row["pk"], ()):
                    recipients += staff(agency_id)
            for recipient in recipients:
                notice = DueNotice(
                    task_id=row["pk"],
                    task_code=row["code"],
                    kind=kind,
                    due=row["due_at"],
                    occurrence=_occurrence(kind, day, row["r_days"]),
                    days_from_due=row["r_days"],
                    recipient=recipient,
                )
                notices.setdefault(notice.key, notice)

    # 4. Mark what earlier runs recorded already. Every key owed on `day` is raised only by
    # a run for `day` (the occurrence pins the day), except the one escalation per due date,
    # whose day moves when an administrator changes the policy; hence the filter.
    escalated = {n.task_id for n in notices.values() if n.kind == NoticeKind.ESCALATION}
    existing = set(
        Notification.objects.filter(
            Q(fire_day=day) | Q(kind=NoticeKind.ESCALATION, task_id__in=escalated)
        ).values_list("task_id", "kind", "due", "recipient_id", "occurrence")
    )
    for key, notice in notices.items():
        notice.is_new = key not in existing
    return sorted(
        notices.values(),
        key=lambda n: (n.recipient.id, KIND_ORDER[n.kind], n.due, n.task_code),
    )


def _occurrence(kind: str, day: datetime.date, days_from_due: int) -> int:
    """The part of the key that tells repeats of one kind apart (see Notification)."""
    if kind == NoticeKind.DUE_SOON:
        return -days_from_due  # days left: 7, 3, 1
    if kind == NoticeKind.OVERDUE:
        return days_from_due  # days overdue: 1, 8, 15…
    if kind == NoticeKind.ESCALATION:
        return 0  # once per due date in force
    return day.toordinal()  # no progress: a new report restarts the count, so the day


# --- Notification list ------------------------------------------------------------------------


def notification_list_for(*, user) -> QuerySet[Notification]:
    """The user's notifications, newest day first, most urgent kind first within a day, with
    the task and its lead agency joined."""
    kind_rank = Case(
        *(When(kind=kind, then=Value(rank)) for kind, rank in KIND_ORDER.items()),
        output_field=IntegerField(),
    )
    return (
        Notification.objects.filter(recipient=user)
        .select_related("task", "task__lead_agency")
        .annotate(kind_rank=kind_rank)
        .order_by("-fire_day", "kind_rank", "due", "task__code")
    )


def notification_unread_count(*, user) -> int:
    """How many of the user's notifications are unread (0 for anonymous users)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def user_get(*, user_id: int):
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()
