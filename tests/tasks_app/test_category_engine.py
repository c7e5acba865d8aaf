"""Differential test of the category engine (tasks_app/categories.py).

One plan whose tasks walk every rule of the status table (DESIGN.md, "Status"), built
through the services with the clock at each event, so the task rows are written when the
history happened (the short cut "a row last written before the end of D mirrors what was
known then" is exercised, not bypassed). At several dates, past and today, every reader
must agree with the category written by hand in `SCENARIOS`:

- the Python form, over facts read from the history rows by this test;
- the history form (SQL), today's form (SQL, today only), `with_category` (parents too);
- the state and due date in force at D (`with_history_at`) and the reminders' view;
- the dashboard's counts, the API's categories and the monthly PDF's figures.

Breaking a rule of the table fails the hand-written expectations; breaking one form (or a
reader's own derivation) fails the comparison with the others.
"""

import datetime
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tasks_app import services
from tasks_app.categories import (
    TaskFacts,
    category_of,
    current_category_expression,
    end_of_day,
    history_category_expression,
    parent_category,
)
from tasks_app.choices import ExtensionStatus, TaskState
from tasks_app.choices import ReportCategory as C
from tasks_app.models import DeadlineExtension, StatusUpdate, Task

# The fixtures of the monthly report's tests (WeasyPrint replaced by a stand-in there).
from tests.reports.test_pdf import fake_pdf  # noqa: F401

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
D = datetime.date
TODAY = D(2022, 7, 15)
MAR, MAY, JUNE = D(2022, 3, 31), D(2022, 5, 31), D(2022, 6, 30)
DATES = (MAR, MAY, D(2022, 6, 15), JUNE, TODAY)
NS, IP, OD, REG = C.NOT_STARTED, C.IN_PROGRESS, C.OVERDUE, C.REGULAR
ON_TIME, LATE, WD = C.COMPLETED_ON_TIME, C.COMPLETED_LATE, C.WITHDRAWN

pytestmark = pytest.mark.django_db


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=HCM)


# Each scenario: the task (code, due date, assignment day), its events in time order, and
# the category expected at each of DATES (MAR, MAY, 15 June, JUNE, TODAY).
#   ("report", day, state, progress[, completed_on]); ("withdraw", day);
#   ("extend", requested on, approved on, new due)
SCENARIOS = {
    "not-assigned-yet": (D(2022, 8, 31), D(2022, 6, 1), [], [None, None, NS, NS, NS]),
    "withdrawn": (
        D(2022, 9, 30),
        None,
        [("report", D(2022, 3, 1), TaskState.IN_PROGRESS, 20), ("withdraw", D(2022, 6, 10))],
        [IP, IP, WD, WD, WD],
    ),
    "on-time": (
        D(2022, 5, 31),
        None,
        [
            ("report", D(2022, 4, 1), TaskState.IN_PROGRESS, 50),
            ("report", D(2022, 5, 20), TaskState.COMPLETED, 100, D(2022, 5, 20)),
        ],
        [NS, ON_TIME, ON_TIME, ON_TIME, ON_TIME],
    ),
    "late": (
        D(2022, 4, 30),
        None,
        [("report", D(2022, 5, 10), TaskState.COMPLETED, 100, D(2022, 5, 10))],
        [NS, LATE, LATE, LATE, LATE],
    ),
    # Done on 28 June, reported on 2 July: not known to be done at the end of June.
    "reported-after-d": (
        D(2022, 6, 30),
        None,
        [
            ("report", D(2022, 2, 1), TaskState.IN_PROGRESS, 10),
            ("report", D(2022, 7, 2), TaskState.COMPLETED, 100, D(2022, 6, 28)),
        ],
        [IP, IP, IP, IP, ON_TIME],
    ),
    "regular": (
        None,
        None,
        [("report", D(2022, 5, 1), TaskState.IN_PROGRESS, 30)],
        [REG, REG, REG, REG, REG],
    ),
    "regular-done": (
        None,
        None,
        [("report", D(2022, 6, 1), TaskState.COMPLETED, 100, D(2022, 6, 1))],
        [REG, REG, ON_TIME, ON_TIME, ON_TIME],
    ),
    "overdue-started": (
        D(2022, 5, 15),
        None,
        [("report", D(2022, 3, 10), TaskState.IN_PROGRESS, 40)],
        [IP, OD, OD, OD, OD],
    ),
    "overdue-never-started": (D(2022, 6, 15), None, [], [NS, NS, NS, OD, OD]),
    "in-progress": (
        D(2022, 9, 30),
        None,
        # Progress 0 on purpose: the started state alone makes it in progress.
        [("report", D(2022, 5, 5), TaskState.IN_PROGRESS, 0)],
        [NS, IP, IP, IP, IP],
    ),
    # Reported done, not yet confirmed: still in progress (the service records 100 %).
    "awaiting-confirmation": (
        D(2022, 9, 30),
        None,
        [("report", D(2022, 6, 20), TaskState.AWAITING_CONFIRMATION, 100, D(2022, 6, 20))],
        [NS, NS, NS, IP, IP],
    ),
    "not-started": (D(2022, 12, 31), None, [], [NS, NS, NS, NS, NS]),
    # Approved before D: the new date is in force from the approval; the completion is
    # judged against the date in force on its day.
    "extended-before": (
        D(2022, 5, 31),
        None,
        [
            ("report", D(2022, 3, 15), TaskState.IN_PROGRESS, 30),
            ("extend", D(2022, 5, 20), D(2022, 5, 25), D(2022, 8, 31)),
            ("report", D(2022, 7, 10), TaskState.COMPLETED, 100, D(2022, 7, 10)),
        ],
        [IP, IP, IP, IP, ON_TIME],
    ),
    # Approved after D: D's category keeps the old date.
    "extended-after": (
        D(2022, 6, 15),
        None,
        [
            ("report", D(2022, 4, 1), TaskState.IN_PROGRESS, 60),
            ("extend", D(2022, 6, 10), D(2022, 7, 5), D(2022, 9, 30)),
        ],
        [NS, IP, IP, OD, IP],
    ),
    "extended-still-late": (
        D(2022, 4, 15),
        None,
        [
            ("extend", D(2022, 4, 10), D(2022, 4, 12), D(2022, 6, 15)),
            ("report", D(2022, 6, 20), TaskState.COMPLETED, 100, D(2022, 6, 20)),
        ],
        [NS, NS, NS, LATE, LATE],
    ),
}
# A plan item split per agency (task_split): the parent rolls its children up.
PARENT = ("split", D(2022, 6, 30))
CHILDREN = {
    "haihau": (
        [("report", D(2022, 6, 20), TaskState.COMPLETED, 100, D(2022, 6, 20))],
        [NS, NS, NS, ON_TIME, ON_TIME],
    ),
    "giaothuy": (
        [("report", D(2022, 5, 2), TaskState.IN_PROGRESS, 20)],
        [NS, IP, IP, IP, OD],
    ),
}
PARENT_EXPECTED = [NS, IP, IP, IP, OD]


def _run(task, events, *, manager, monitor) -> None:
    for event in events:
        kind, day = event[0], event[1]
        with time_machine.travel(at(day), tick=False):
            task.refresh_from_db()
            if kind == "report":
                _kind, _day, state, progress, *done = event
                services.status_update_record(
                    task=task,
                    author=manager,
                    state=state,
                    progress=progress,
                    completed_on=done[0] if done else None,
                    result="Đã hoàn thành" if done else "",
                )
            elif kind == "withdraw":
                services.task_withdraw(task=task, user=monitor, reason="Không còn phù hợp")
            else:
                _kind, _requested, approved, new_due = event
                extension = services.extension_request(
                    task=task, requested_by=manager, proposed_due=new_due, reason="Chờ kinh phí"
                )
                with time_machine.travel(at(approved), tick=False):
                    services.extension_approve(extension=extension, decided_by=monitor)


@pytest.fixture
def world(make_task, agencies, manager, monitor, outsider):
    """The scenarios' tasks, built in time order; returns {code: expected categories}."""
    expected = {}
    for code, (due, assigned_on, events, categories) in SCENARIOS.items():
        with time_machine.travel(at(D(2022, 1, 10)), tick=False):
            task = make_task(
                code=code,
                due=due,
                assigned_on=assigned_on or D(2022, 1, 10),
                state=TaskState.NOT_STARTED,
                progress=0,
            )
        _run(task, events, manager=manager, monitor=monitor)
        expected[code] = categories
    with time_machine.travel(at(D(2022, 1, 10)), tick=False):
        parent = make_task(code=PARENT[0], due=PARENT[1], assigned_on=D(2022, 1, 10))
        children = services.task_split(
            task=parent, agencies=[agencies["haihau"], agencies["giaothuy"]]
        )
    people = {"haihau": manager, "giaothuy": outsider}
    for child in children:
        place = "haihau" if child.lead_agency == agencies["haihau"] else "giaothuy"
        events, categories = CHILDREN[place]
        _run(child, events, manager=people[place], monitor=monitor)
        with time_machine.travel(at(events[-1][1], 10), tick=False):
            services.task_rollup(parent=Task.objects.get(pk=parent.pk))
        expected[child.code] = categories
    expected[parent.code] = PARENT_EXPECTED
    return expected


def _python_facts(task: Task, as_of: datetime.date) -> TaskFacts:
    """What was known at the end of `as_of`, read from the history rows in Python: the
    oracle the SQL facts are compared with."""
    cutoff = end_of_day(as_of)
    latest = (
        StatusUpdate.objects.filter(task=task, recorded_at__lt=cutoff)
        .order_by("-recorded_at", "-pk")
        .first()
    )
    approved = DeadlineExtension.objects.filter(
        task=task, status=ExtensionStatus.APPROVED
    ).order_by("-decided_at", "-pk")
    by_then = approved.filter(decided_at__lt=cutoff).first()
    completed_on = latest.completed_on if latest else None
    on_completion = None
    if completed_on is not None:
        on_completion = next(
            (e for e in approved if e.decided_at.astimezone(HCM).date() <= completed_on), None
        )
    due = by_then.proposed_due if by_then else task.original_due
    return TaskFacts(
        as_of=as_of,
        assigned_on=task.assigned_on,
        state=latest.state if latest else None,
        progress=latest.progress if latest else None,
        completed_on=completed_on,
        due=due,
        due_at_completion=on_completion.proposed_due if on_completion else task.original_due,
    )


def _python_category(task: Task, as_of: datetime.date) -> str | None:
    children = list(task.children.all())
    if children:
        return parent_category(
            as_of=as_of,
            assigned_on=task.assigned_on,
            children_categories=[category_of(_python_facts(c, as_of)) for c in children],
        )
    return category_of(_python_facts(task, as_of))


@time_machine.travel(at(TODAY, 10), tick=False)
def test_every_form_and_every_reader_agree_on_every_rule_at_every_date(
    world,
    monitor,
    api_client,
    fake_pdf,  # noqa: F811
):
    from reminders.selectors import _task_facts
    from reports.selectors import DashboardFilters, dashboard_summary
    from reports.services import monthly_report_context, monthly_report_generate

    tasks = {task.code: task for task in Task.objects.all()}
    plan = next(iter(tasks.values())).plan
    leaves = {code for code, task in tasks.items() if not task.children.exists()}
    # Every rule of the table is hit at least once, at some date.
    hit = {category for categories in world.values() for category in categories}
    assert hit == {*C.values, None}

    for index, as_of in enumerate(DATES):
        expected = {code: categories[index] for code, categories in world.items()}
        python = {code: _python_category(task, as_of) for code, task in tasks.items()}
        assert python == expected, as_of

        # The SQL forms of a task's own category, and the roll-up.
        history = dict(
            Task.objects.annotate(c=history_category_expression(as_of)).values_list("code", "c")
        )
        assert {code: history[code] for code in leaves} == {c: expected[c] for c in leaves}
        if as_of == TODAY:
            current = dict(
                Task.objects.annotate(c=current_category_expression(as_of)).values_list("code", "c")
            )
            assert current == history
        full = dict(Task.objects.with_category(as_of).values_list("code", "category"))
        assert full == expected, as_of

        # State and due date in force at D: one place, shared by reports and reminders.
        facts = {t.code: t for t in Task.objects.with_history_at(as_of)}
        for code in leaves:
            oracle = _python_facts(tasks[code], as_of)
            assert facts[code].due_at == oracle.due, (code, as_of)
            assert (facts[code].state_at or TaskState.NOT_STARTED) == (
                oracle.state or TaskState.NOT_STARTED
            ), (code, as_of)
        reminded = {t.code: t for t in _task_facts(as_of)}
        for code, task in reminded.items():
            oracle = _python_facts(tasks[code], as_of)
            assert (task.r_state, task.due_at) == (
                oracle.state or TaskState.NOT_STARTED,
                oracle.due,
            )
        should_be_reminded = {
            code
            for code in leaves
            if tasks[code].original_due is not None
            and expected[code] is not None
            and (_python_facts(tasks[code], as_of).state or TaskState.NOT_STARTED)
            in (TaskState.NOT_STARTED, TaskState.IN_PROGRESS)
        }
        assert set(reminded) == should_be_reminded, as_of

        # The dashboard counts leaf tasks; the totals leave withdrawn tasks out.
        counted = Counter(expected[code] for code in leaves if expected[code] is not None)
        board = dashboard_summary(user=monitor, filters=DashboardFilters(plan=plan, as_of=as_of))
        assert board.totals.category_counts() == {c: counted[c] for c in C.values}, as_of

        # The API: the leaf-category path with the roll-up in Python, and the full
        # expression when the request filters on the category.
        client = api_client(monitor)
        for extra in ("", "".join(f"&category={c}" for c in C.values)):
            answer = client.get(f"/api/v1/tasks/?as_of={as_of}&page_size=100{extra}").json()
            api = {row["code"]: row["category"] for row in answer["results"]}
            assert api == {c: e for c, e in expected.items() if e is not None or not extra}

        # The monthly PDF's figures, at the month ends.
        if as_of in (MAY, JUNE):
            report = monthly_report_generate(plan=plan, period=as_of.replace(day=1))
            totals = monthly_report_context(report=report)["totals"]
            assert {c: totals[c] for c in C.values} == {c: counted[c] for c in C.values}
            assert totals["total"] == sum(n for c, n in counted.items() if c != C.WITHDRAWN)
