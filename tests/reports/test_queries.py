"""A constant number of queries, whatever the amount of data."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reports.selectors import DashboardFilters, dashboard_summary
from tasks_app import services
from tasks_app.choices import TaskState
from tests.factories import AgencyFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
HCM = datetime.timezone(datetime.timedelta(hours=7))


def build(make_task, agencies, levels, manager, n: int) -> None:
    """`n` tasks over several agencies, with updates, completions and extensions."""
    communes = [
        AgencyFactory(level=levels["commune"], parent=agencies["haihau"]) for _ in range(n // 5)
    ]
    leads = [agencies["haihau"], agencies["stttt"], agencies["haitrung"], *communes]
    for i in range(n):
        task = make_task(
            code=f"Q{n}-{i}",
            lead_agency=leads[i % len(leads)],
            due=datetime.date(2022, 3, 1) + datetime.timedelta(days=7 * (i % 30)),
            kpi_target=Decimal(10) if i % 2 else None,
        )
        at = datetime.datetime(2022, 2, 1, 9, tzinfo=HCM)
        services.status_update_record(
            task=task,
            author=manager,
            state=TaskState.IN_PROGRESS,
            progress=20,
            recorded_at=at,
            kpi_actual=Decimal(4),
        )
        if i % 3 == 0:
            services.status_update_record(
                task=task,
                author=manager,
                state=TaskState.COMPLETED,
                progress=100,
                completed_on=datetime.date(2022, 4, 1),
                result="Xong",
                recorded_at=at + datetime.timedelta(days=60),
            )
        elif i % 3 == 1:
            extension = services.extension_request(
                task=task,
                requested_by=manager,
                proposed_due=task.due + datetime.timedelta(days=30),
                reason="Cần thêm thời gian",
                requested_at=at,
            )
            services.extension_approve(extension=extension, decided_by=manager, decided_at=at)


def count_queries(func) -> int:
    with CaptureQueriesContext(connection) as context:
        func()
    return len(context.captured_queries) - 1  # the fresh user


@pytest.mark.parametrize("user_fixture", ["leader", "manager"])
def test_dashboard_queries_do_not_grow_with_the_data(
    request, user_fixture, make_task, agencies, levels, manager, plan, area
):
    user = request.getfixturevalue(user_fixture)
    filters = DashboardFilters(plan=plan, as_of=datetime.date(2022, 9, 30))

    def run():
        # A fresh user object, as in a request: the roles are looked up again.
        fresh = type(user).objects.get(pk=user.pk)
        board = dashboard_summary(user=fresh, filters=filters)
        # Touch everything the page and the API read.
        [r.agencies for r in board.rankings]
        [t.lead_agency for t in board.overdue]

    build(make_task, agencies, levels, manager, 3)
    small = count_queries(run)
    build(make_task, agencies, levels, manager, 40)
    large = count_queries(run)
    assert small == large
    assert large <= 12


def test_page_and_api_queries_are_bounded(
    client, django_assert_max_num_queries, make_task, agencies, levels, manager, leader, area
):
    build(make_task, agencies, levels, manager, 30)
    client.force_login(leader)
    params = {"as_of": "2022-09-30"}
    with django_assert_max_num_queries(25):
        assert client.get(reverse("reports:dashboard"), params).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("reports:dashboard-trend"), params).status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(reverse("dashboard-api:dashboard"), params).status_code == 200
