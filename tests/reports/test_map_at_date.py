"""The past stays true, levels are data: the dashboard, its filters, its API and the monthly
report at a date D show the map of agencies and levels in force at D.

The plan spans the 2025 reform: the district level and UBND huyện Hải Hậu end on
30/06/2025, the communes xã Hải Hậu and xã Hải Anh begin on 01/07/2025. On 10/07/2025 the
monitor hands two of the district's tasks and the old commune's task to the new communes;
one district task is left to reassign.
"""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from reports.forms import DashboardFilterForm
from reports.selectors import NOT_IN_FORCE, DashboardFilters, dashboard_summary
from reports.services import monthly_report_context, monthly_report_generate
from tasks_app import services
from tests.factories import AgencyFactory, PlanFactory, PriorityAreaFactory, TaskFactory

# The monthly-report fixture (a fast stand-in for WeasyPrint) lives in test_pdf.py.
from tests.reports.test_pdf import fake_pdf  # noqa: F401

pytestmark = pytest.mark.django_db

D = datetime.date
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
END_OF_JUNE = D(2025, 6, 30)
END_OF_JULY = D(2025, 7, 31)
REFORM = D(2025, 7, 1)


def at(day: datetime.date, hour: int = 9) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=TZ)


@pytest.fixture
def plan_2025(map_2025):
    plan = PlanFactory(
        code="CDS-2025",
        issuing_agency=map_2025["province"],
        monitor_agency=map_2025["stttt"],
        period_start=D(2025, 1, 1),
        period_end=D(2025, 12, 31),
    )
    area = PriorityAreaFactory(plan=plan, code="CQS", name="Chính quyền số")

    def task(code, lead, due):
        return TaskFactory(
            priority_area=area,
            code=code,
            lead_agency=lead,
            assigned_on=D(2025, 1, 2),
            original_due=due,
            due=due,
        )

    return {
        "plan": plan,
        # Hải Hậu: one overdue at 30/06 (due 31/05), two due later.
        "overdue": task("T-01", map_2025["haihau"], D(2025, 5, 31)),
        "later": task("T-02", map_2025["haihau"], D(2025, 9, 30)),
        "left": task("T-03", map_2025["haihau"], D(2025, 12, 31)),  # never reassigned
        "commune": task("T-04", map_2025["haitrung"], D(2025, 12, 31)),
        "department": task("T-05", map_2025["stttt"], D(2025, 12, 31)),
    }


def reassign(plan_2025, map_2025, monitor):
    """10/07/2025: the monitor hands the tasks to the successors, with a reason."""
    moves = [
        ("overdue", "xa_haihau"),
        ("later", "xa_haianh"),
        ("commune", "xa_haihau"),
    ]
    with time_machine.travel(at(D(2025, 7, 10)), tick=False):
        for task_key, agency_key in moves:
            task = plan_2025[task_key]
            task.refresh_from_db()
            services.task_update_fields(
                task=task,
                expected_version=task.version,
                author=monitor,
                reason="Sắp xếp đơn vị hành chính hai cấp từ 01/07/2025",
                lead_agency=map_2025[agency_key],
            )


def board_at(user, plan, day):
    return dashboard_summary(user=user, filters=DashboardFilters(plan=plan, as_of=day))


def ranking_map(board) -> dict[str, list[tuple]]:
    """Level code → (agency code, parent label, tasks, overdue, rank) of each row."""
    return {
        ranking.code: [
            (row.code, row.parent_label, row.counts.total, row.counts.overdue, row.rank)
            for row in ranking.agencies
        ]
        for ranking in board.rankings
    }


def test_the_dashboard_ranks_the_agencies_of_the_map_at_each_date(
    plan_2025, map_2025, leader, monitor
):
    plan = plan_2025["plan"]
    reassign(plan_2025, map_2025, monitor)
    with time_machine.travel(at(D(2025, 8, 5)), tick=False):
        june = board_at(leader, plan, END_OF_JUNE)
        july = board_at(leader, plan, END_OF_JULY)

    # 30/06: three levels. The district ranks Hải Hậu (3 tasks, one overdue) and Giao Thủy
    # (in force, no task); xã Hải Trung is under Hải Hậu; the new communes do not exist yet.
    assert [r.code for r in june.rankings] == ["province", "district", "commune"]
    june_map = ranking_map(june)
    assert june_map["district"] == [
        ("UBND_HAIHAU", "UBND tỉnh", 3, 1, 1),
        ("UBND_GIAOTHUY", "UBND tỉnh", 0, 0, None),
    ]
    assert june_map["commune"] == [("HH_HAITRUNG", "UBND huyện Hải Hậu", 1, 0, None)]
    assert {code for code, *_ in june_map["province"]} == {"UBND_TINH", "STTTT"}
    assert june.totals.total == 5

    # 31/07: no district level. The new communes are ranked under the province; the task
    # left with the abolished district stays counted, listed apart and unranked.
    assert [r.code for r in july.rankings] == ["province", "commune", NOT_IN_FORCE]
    july_map = ranking_map(july)
    assert sorted(july_map["commune"]) == [
        ("NB_XA_HAIANH", "UBND tỉnh", 1, 0, None),
        ("NB_XA_HAIHAU", "UBND tỉnh", 2, 1, 1),
    ]
    assert july_map[NOT_IN_FORCE] == [("UBND_HAIHAU", "UBND tỉnh", 1, 0, None)]
    gone = july.rankings[-1]
    assert gone.id is None and not gone.in_force
    assert gone.name == "Cơ quan không còn tồn tại tại ngày báo cáo"
    assert july.totals.total == 5
    assert sum(row.counts.total for r in july.rankings for row in r.agencies) == 5


def test_june_figures_do_not_change_when_tasks_are_reassigned_in_july(
    plan_2025, map_2025, leader, monitor
):
    plan = plan_2025["plan"]
    with time_machine.travel(at(D(2025, 7, 5)), tick=False):
        before = board_at(leader, plan, END_OF_JUNE)
    reassign(plan_2025, map_2025, monitor)
    plan_2025["overdue"].refresh_from_db()
    assert plan_2025["overdue"].lead_agency == map_2025["xa_haihau"]
    with time_machine.travel(at(D(2025, 7, 20)), tick=False):
        after = board_at(leader, plan, END_OF_JUNE)
    assert ranking_map(after) == ranking_map(before)
    assert after.totals.category_counts() == before.totals.category_counts()
    assert [(t.code, t.lead_agency) for t in after.overdue] == [("T-01", "UBND huyện Hải Hậu")]


def test_the_filters_offer_the_levels_and_agencies_of_the_date(plan_2025, map_2025, leader):
    def choices(day):
        form = DashboardFilterForm({"as_of": day.isoformat()}, user=leader)
        return (
            [level.code for level in form.fields["level"].queryset],
            [agency.code for agency in form.fields["agency"].queryset],
        )

    with time_machine.travel(at(D(2025, 8, 5)), tick=False):
        june_levels, june_agencies = choices(END_OF_JUNE)
        july_levels, july_agencies = choices(END_OF_JULY)
    assert june_levels == ["province", "district", "commune"]
    assert july_levels == ["province", "commune"]
    # Vietnamese order of the labels (short names).
    assert june_agencies == ["STTTT", "UBND_GIAOTHUY", "UBND_HAIHAU", "UBND_TINH", "HH_HAITRUNG"]
    assert july_agencies == ["STTTT", "UBND_TINH", "NB_XA_HAIANH", "NB_XA_HAIHAU"]


def test_a_level_or_agency_not_in_force_is_refused_with_the_date(
    plan_2025, map_2025, leader, levels, client
):
    plan = plan_2025["plan"]
    api = APIClient()
    api.force_authenticate(leader)
    url = reverse("dashboard-api:summary")
    with time_machine.travel(at(D(2025, 8, 5)), tick=False):
        district = api.get(
            url, {"plan": plan.pk, "as_of": "2025-07-31", "level": levels["district"].pk}
        )
        commune = api.get(
            url, {"plan": plan.pk, "as_of": "2025-06-30", "agency": map_2025["xa_haihau"].pk}
        )
        still = api.get(
            url, {"plan": plan.pk, "as_of": "2025-06-30", "level": levels["district"].pk}
        )
        client.force_login(leader)
        page = client.get(
            reverse("reports:dashboard"),
            {"plan": plan.pk, "as_of": "2025-07-31", "level": levels["district"].pk},
        )
    assert district.status_code == 400
    assert district.json() == {
        "level": ["Hãy chọn một cấp hành chính còn tồn tại vào ngày 31/07/2025."]
    }
    assert commune.status_code == 400
    assert commune.json() == {
        "agency": ["Hãy chọn một cơ quan thuộc phạm vi của bạn còn tồn tại vào ngày 30/06/2025."]
    }
    assert still.status_code == 200
    assert [r["code"] for r in still.json()["rankings"]] == ["district"]
    # The page drops the filter and says why, next to the field.
    assert page.status_code == 200
    assert page.context["filters"].level is None
    assert "Hãy chọn một cấp hành chính còn tồn tại vào ngày 31/07/2025." in page.content.decode()


@pytest.mark.parametrize("day", [END_OF_JUNE, END_OF_JULY])
def test_the_api_agrees_with_the_page(plan_2025, map_2025, leader, monitor, client, day):
    plan = plan_2025["plan"]
    reassign(plan_2025, map_2025, monitor)
    api = APIClient()
    api.force_authenticate(leader)
    client.force_login(leader)
    params = {"plan": plan.pk, "as_of": day.isoformat()}
    with time_machine.travel(at(D(2025, 8, 5)), tick=False):
        data = api.get(reverse("dashboard-api:agencies"), params).json()
        page = client.get(reverse("reports:dashboard"), params)
    board = page.context["board"]
    assert [
        (
            r["code"],
            r["in_force"],
            [(a["code"], a["rank"], a["counts"]["total"]) for a in r["agencies"]],
        )
        for r in data["rankings"]
    ] == [
        (r.code, r.in_force, [(a.code, a.rank, a.counts.total) for a in r.agencies])
        for r in board.rankings
    ]
    parents = {a["code"]: a["parent"] for r in data["rankings"] for a in r["agencies"]}
    assert parents["UBND_TINH"] is None
    assert parents["UBND_HAIHAU"] == {
        "id": map_2025["province"].pk,
        "name": "Ủy ban nhân dân tỉnh Nam Định",
        "short_name": "UBND tỉnh",
    }
    html = page.content.decode()
    assert ("data-not-in-force" in html) == (day == END_OF_JULY)
    assert ('data-level="district"' in html) == (day == END_OF_JUNE)


def test_the_monthly_reports_of_june_and_july_each_show_their_map(
    plan_2025,
    map_2025,
    monitor,
    fake_pdf,  # noqa: F811
):
    plan = plan_2025["plan"]
    reassign(plan_2025, map_2025, monitor)
    with time_machine.travel(at(D(2025, 8, 5)), tick=False):
        june = monthly_report_context(
            report=monthly_report_generate(plan=plan, period=D(2025, 6, 1))
        )
        july = monthly_report_context(
            report=monthly_report_generate(plan=plan, period=D(2025, 7, 1))
        )

    def tables(context):
        return {
            level["name"]: sorted((row["name"], row["total"]) for row in level["rows"])
            for level in context["levels"]
        }

    assert list(tables(june)) == ["Cấp tỉnh", "Cấp huyện", "Cấp xã"]
    assert tables(june)["Cấp huyện"] == [
        ("Ủy ban nhân dân huyện Giao Thủy", 0),
        ("Ủy ban nhân dân huyện Hải Hậu", 3),
    ]
    assert tables(june)["Cấp xã"] == [("Ủy ban nhân dân xã Hải Trung", 1)]
    assert list(tables(july)) == [
        "Cấp tỉnh",
        "Cấp xã",
        "Cơ quan không còn tồn tại tại ngày báo cáo",
    ]
    assert tables(july)["Cấp xã"] == [
        ("Ủy ban nhân dân xã Hải Anh", 1),
        ("Ủy ban nhân dân xã Hải Hậu", 2),
    ]
    assert tables(july)["Cơ quan không còn tồn tại tại ngày báo cáo"] == [
        ("Ủy ban nhân dân huyện Hải Hậu", 1)
    ]
    # The header: Sở TT&TT, in force in both months, issues both reports.
    assert june["issuer"] == july["issuer"] == map_2025["stttt"]


def test_the_map_costs_no_query_per_agency_or_task(
    plan_2025, map_2025, leader, monitor, levels, client, django_assert_max_num_queries
):
    plan = plan_2025["plan"]
    reassign(plan_2025, map_2025, monitor)
    area = plan.priority_areas.get()

    def count() -> int:
        with CaptureQueriesContext(connection) as context:
            fresh = type(leader).objects.get(pk=leader.pk)
            for day in (END_OF_JUNE, END_OF_JULY):
                board = board_at(fresh, plan, day)
                [row.parent_label for r in board.rankings for row in r.agencies]
        return len(context.captured_queries)

    with time_machine.travel(at(D(2025, 8, 5)), tick=False):
        small = count()
        for i in range(12):
            commune = AgencyFactory(
                level=levels["commune"], parent=map_2025["province"], valid_from=REFORM
            )
            TaskFactory(
                priority_area=area,
                lead_agency=commune if i % 2 else map_2025["giaothuy"],
                assigned_on=D(2025, 1, 2),
                original_due=D(2025, 5, 1) + datetime.timedelta(days=20 * i),
                due=D(2025, 5, 1) + datetime.timedelta(days=20 * i),
            )
        assert count() == small
        client.force_login(leader)
        with django_assert_max_num_queries(25):
            page = client.get(
                reverse("reports:dashboard"), {"plan": plan.pk, "as_of": "2025-07-31"}
            )
    july = page.context["board"]
    assert len(next(r for r in july.rankings if r.code == "commune").agencies) == 2 + 12
    # Giao Thủy's six tasks stay counted after its end, apart.
    gone = {row.code: row.counts.total for row in july.rankings[-1].agencies}
    assert gone == {"UBND_GIAOTHUY": 6, "UBND_HAIHAU": 1}
