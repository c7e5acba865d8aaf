"""The change history of task fields (TaskChange) and the monitor's due-date adjustments:
what is recorded, what is refused, and that figures at a past date use the lead agency and
due date in force then."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError

from reports.selectors import DashboardFilters, dashboard_summary
from tasks_app import services
from tasks_app.choices import ChangeSource, ExtensionKind, ExtensionStatus
from tasks_app.models import DeadlineExtension, Task, TaskChange
from tasks_app.permissions import WHOLE_PLAN
from tests.factories import AgencyFactory, TaskFactory, UserFactory, asked_in_time

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def at(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=TZ)


def test_each_changed_field_is_recorded_with_who_why_and_old_and_new():
    officer = UserFactory(username="sotttt")
    task = TaskFactory(title="Khảo sát", kpi_target=None)
    new_lead = AgencyFactory(name="Sở Y tế", short_name="Sở Y tế")
    old_lead = str(task.lead_agency)

    services.task_update_fields(
        task=task,
        expected_version=task.version,
        author=officer,
        reason="Điều chỉnh theo Quyết định 12/QĐ-UBND",
        title="Khảo sát hiện trạng",
        lead_agency=new_lead,
        kpi_target=None,
    )

    changes = {c.field: c for c in TaskChange.objects.filter(task=task)}
    assert set(changes) == {"title", "lead_agency"}
    assert (changes["title"].old_text, changes["title"].new_text) == (
        "Khảo sát",
        "Khảo sát hiện trạng",
    )
    assert (changes["lead_agency"].old_text, changes["lead_agency"].new_text) == (
        old_lead,
        "Sở Y tế",
    )
    assert changes["lead_agency"].new_value == str(new_lead.pk)
    assert {c.author for c in changes.values()} == {officer}
    assert {c.reason for c in changes.values()} == {"Điều chỉnh theo Quyết định 12/QĐ-UBND"}
    assert {c.source for c in changes.values()} == {ChangeSource.PAGE}


def test_saving_the_same_values_records_nothing_and_keeps_the_version():
    task = TaskFactory(title="Khảo sát")

    services.task_update_fields(task=task, expected_version=task.version, title="Khảo sát")

    task.refresh_from_db()
    assert task.version == 1
    assert not TaskChange.objects.exists()


def test_coordinating_agencies_are_recorded_in_vietnamese_order():
    task = TaskFactory()
    dan = AgencyFactory(name="Sở Dân tộc", short_name="")
    dao = AgencyFactory(name="Sở Đào tạo", short_name="")
    an = AgencyFactory(name="Sở An ninh", short_name="")

    services.task_update_fields(
        task=task, expected_version=None, coordinating_agencies=[dao, an, dan]
    )

    change = TaskChange.objects.get(task=task, field="coordinating_agencies")
    assert change.old_text == ""
    assert change.new_text == "Sở An ninh, Sở Dân tộc, Sở Đào tạo"


def test_an_adjustment_moves_the_due_date_keeps_the_original_and_is_in_the_history():
    officer = UserFactory()
    task = TaskFactory(original_due=datetime.date(2022, 6, 30))

    adjustment = services.task_adjust_due(
        task=task,
        due=datetime.date(2022, 5, 31),
        author=officer,
        reason="Rút ngắn theo chỉ đạo của UBND tỉnh",
        expected_version=task.version,
    )

    task.refresh_from_db()
    assert (task.original_due, task.due, task.version) == (
        datetime.date(2022, 6, 30),
        datetime.date(2022, 5, 31),
        2,
    )
    assert (adjustment.kind, adjustment.status) == (
        ExtensionKind.ADJUSTMENT,
        ExtensionStatus.APPROVED,
    )
    change = TaskChange.objects.get(task=task)
    assert (change.field, change.old_text, change.new_text) == ("due", "30/06/2022", "31/05/2022")
    assert change.reason == "Rút ngắn theo chỉ đạo của UBND tỉnh"


@pytest.mark.parametrize(
    ("task_kwargs", "due", "reason", "field"),
    [
        ({"original_due": None}, datetime.date(2022, 6, 1), "Lý do", "due"),
        ({}, datetime.date(2022, 6, 30), "Lý do", "due"),
        ({}, datetime.date(2021, 12, 31), "Lý do", "due"),
        ({}, datetime.date(2022, 7, 31), "  ", "reason"),
    ],
    ids=["regular task", "same date", "before assignment", "no reason"],
)
def test_a_refused_adjustment_writes_nothing(task_kwargs, due, reason, field):
    task = TaskFactory(**task_kwargs)

    with pytest.raises(ValidationError) as error:
        services.task_adjust_due(task=task, due=due, author=UserFactory(), reason=reason)

    assert field in error.value.message_dict
    assert not DeadlineExtension.objects.exists()
    assert not TaskChange.objects.exists()
    assert Task.objects.get(pk=task.pk).version == 1


def test_no_adjustment_while_an_agency_request_waits():
    task = TaskFactory()
    services.extension_request(
        task=task,
        requested_by=UserFactory(),
        proposed_due=datetime.date(2022, 8, 31),
        reason="Chờ kinh phí",
        requested_at=asked_in_time(task),
    )

    with pytest.raises(ValidationError) as error:
        services.task_adjust_due(
            task=task, due=datetime.date(2022, 7, 31), author=UserFactory(), reason="Lý do"
        )

    assert "task" in error.value.message_dict
    assert Task.objects.get(pk=task.pk).due == datetime.date(2022, 6, 30)


def test_an_approved_extension_appears_in_the_change_history():
    task = TaskFactory()
    extension = services.extension_request(
        task=task,
        requested_by=UserFactory(),
        proposed_due=datetime.date(2022, 8, 31),
        reason="Chờ kinh phí",
        requested_at=asked_in_time(task),
    )

    services.extension_approve(extension=extension, decided_by=UserFactory())

    change = TaskChange.objects.get(task=task)
    assert (change.field, change.old_text, change.new_text) == ("due", "30/06/2022", "31/08/2022")
    assert "Chờ kinh phí" in change.reason


def _ranked(board) -> dict[str, int]:
    """Tasks per lead agency code in the dashboard's rankings."""
    return {
        row.code: row.counts.total
        for ranking in board.rankings
        for row in ranking.agencies
        if row.counts.total
    }


def test_figures_at_a_past_date_count_a_task_under_the_lead_agency_of_that_date():
    before, after = AgencyFactory(code="SYT"), AgencyFactory(code="SKHCN")
    task = TaskFactory(lead_agency=before)
    with time_machine.travel(at(datetime.date(2022, 3, 15)), tick=False):
        services.task_update_fields(
            task=task, expected_version=None, lead_agency=after, reason="Giao lại"
        )

    with time_machine.travel(at(datetime.date(2022, 4, 1)), tick=False):
        on_march_1 = dashboard_summary(
            user=WHOLE_PLAN,
            filters=DashboardFilters(plan=task.plan, as_of=datetime.date(2022, 3, 1)),
            with_trend=False,
        )
        filtered = dashboard_summary(
            user=WHOLE_PLAN,
            filters=DashboardFilters(
                plan=task.plan, as_of=datetime.date(2022, 3, 1), agency=before
            ),
            with_trend=False,
        )
        today = dashboard_summary(
            user=WHOLE_PLAN,
            filters=DashboardFilters(plan=task.plan, as_of=datetime.date(2022, 4, 1)),
            with_trend=False,
        )

    assert _ranked(on_march_1) == {"SYT": 1}
    assert filtered.totals.total == 1
    assert _ranked(today) == {"SKHCN": 1}


def test_a_due_date_brought_forward_makes_the_task_overdue_from_the_new_date_only():
    task = TaskFactory(original_due=datetime.date(2022, 6, 30))
    with time_machine.travel(at(datetime.date(2022, 3, 1)), tick=False):
        services.task_adjust_due(
            task=task, due=datetime.date(2022, 3, 31), author=UserFactory(), reason="Rút ngắn"
        )

    def overdue_on(day: datetime.date) -> list[str]:
        board = dashboard_summary(
            user=WHOLE_PLAN,
            filters=DashboardFilters(plan=task.plan, as_of=day),
            with_trend=False,
        )
        return [row.code for row in board.overdue]

    with time_machine.travel(at(datetime.date(2022, 5, 10)), tick=False):
        assert overdue_on(datetime.date(2022, 2, 28)) == []
        assert overdue_on(datetime.date(2022, 3, 31)) == []
        assert overdue_on(datetime.date(2022, 4, 1)) == [task.code]
        assert overdue_on(datetime.date(2022, 5, 10)) == [task.code]
        board = dashboard_summary(
            user=WHOLE_PLAN,
            filters=DashboardFilters(plan=task.plan, as_of=datetime.date(2022, 5, 10)),
            with_trend=False,
        )
    # The monitor's adjustment is not an extension granted to the agency.
    assert (board.extensions_granted, board.extended_tasks) == (0, 0)
