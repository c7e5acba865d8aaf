"""API v1 around the tasks: `me/`, the dashboard summary, and throttling (tokens:
test_api_tokens.py)."""

import datetime

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tasks_app import services
from tasks_app.choices import TaskState
from tests.factories import PriorityAreaFactory

D = datetime.date
pytestmark = pytest.mark.django_db


# --- me/ ------------------------------------------------------------------------------------------


def test_me_tells_the_agencies_roles_and_capabilities(api_client, manager, agencies):
    body = api_client(manager).get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["username"] == "manager"
    assert body["memberships"] == [
        {
            "agency": {
                "id": agencies["haihau"].pk,
                "code": "UBND_HAIHAU",
                "name": "Ủy ban nhân dân huyện Hải Hậu",
                "short_name": "UBND huyện Hải Hậu",
            },
            "role": "manager",
            "role_label": "Manager",
        }
    ]
    assert body["capabilities"] == {
        "sees_everything": False,
        "can_manage_tasks": False,
        "can_decide_extensions": False,
        "is_monitor": False,
        "is_leader": False,
    }


@pytest.mark.parametrize(
    ("who", "manage", "decide"), [("monitor", True, True), ("leader", False, True)]
)
def test_me_of_monitors_and_leaders(who, manage, decide, api_client, request):
    body = api_client(request.getfixturevalue(who)).get("/api/v1/me/").json()
    assert body["capabilities"]["sees_everything"] is True
    assert body["capabilities"]["can_manage_tasks"] is manage
    assert body["capabilities"]["can_decide_extensions"] is decide


# --- Dashboard summary ----------------------------------------------------------------------------


@pytest.fixture
def counted(make_task, agencies, plan, area, manager, monitor):
    """At 2022-07-15: in Chính quyền số, Hải Hậu has one task in progress and one overdue,
    Giao Thủy one not started; in Y tế số, Hải Hậu a withdrawn one. A split plan item is
    counted by its children only."""
    health = PriorityAreaFactory(plan=plan, code="YTE", name="Y tế số", order=2)
    in_progress = make_task(code="A", due=D(2022, 9, 30))
    services.status_update_record(
        task=in_progress,
        author=manager,
        state=TaskState.IN_PROGRESS,
        progress=30,
        recorded_at=datetime.datetime(2022, 7, 1, 9, tzinfo=datetime.UTC),
    )
    make_task(code="B", due=D(2022, 6, 30))
    make_task(code="C", due=D(2022, 12, 31), lead_agency=agencies["giaothuy"])
    withdrawn = make_task(code="D", due=D(2022, 12, 31))
    withdrawn.priority_area = health
    withdrawn.save()
    services.task_withdraw(task=withdrawn, user=monitor, reason="Dừng")
    parent = make_task(code="P", lead_agency=agencies["stttt"], due=D(2022, 12, 31))
    services.task_split(task=parent, agencies=[agencies["giaothuy"]])
    return {"health": health}


def _by_area(body) -> dict:
    return {row["code"]: row["counts"] for row in body["areas"]}


def _by_agency(body) -> dict:
    return {row["code"]: row["counts"] for level in body["rankings"] for row in level["agencies"]}


def test_the_summary_counts_leaf_tasks_per_category_by_area_and_agency(
    counted, api_client, leader, area, agencies, django_assert_max_num_queries
):
    client = api_client(leader)
    # A constant number, whatever the number of tasks (tests/reports/test_queries.py).
    with django_assert_max_num_queries(10):
        body = client.get("/api/v1/dashboard/summary/?as_of=2022-07-15").json()
    assert body["filters"]["as_of"] == "2022-07-15"
    totals = body["totals"]
    assert (totals["in_progress"], totals["overdue"], totals["not_started"]) == (1, 1, 3)
    # Withdrawn today: at 2022-07-15 task D was still open.
    assert (totals["withdrawn"], totals["total"]) == (0, 5)
    assert _by_area(body)["CQDT"]["total"] == 4
    assert _by_area(body)["YTE"]["not_started"] == 1
    by_agency = {code: counts["total"] for code, counts in _by_agency(body).items()}
    # Every agency in force at D is listed (the map at D), those without a task with 0.
    assert by_agency == {
        "UBND_HAIHAU": 3,
        "UBND_GIAOTHUY": 2,
        "UBND_TINH": 0,
        "STTTT": 0,
        "HH_HAITRUNG": 0,
    }
    assert [c["code"] for c in body["categories"]][:2] == ["completed_on_time", "completed_late"]


def test_the_summary_is_the_dashboards_numbers(counted, api_client, leader):
    """One aggregation: the summary, the dashboard API and its categories and agencies
    answers give the same counts."""
    client = api_client(leader)
    query = "?as_of=2022-07-15"
    summary = client.get(f"/api/v1/dashboard/summary/{query}").json()
    board = client.get(f"/api/v1/dashboard/{query}").json()
    categories = client.get(f"/api/v1/dashboard/categories/{query}").json()
    agencies = client.get(f"/api/v1/dashboard/agencies/{query}").json()
    for other in (board, categories):
        assert other["totals"] == summary["totals"]
        assert other["areas"] == summary["areas"]
    assert board["rankings"] == agencies["rankings"] == summary["rankings"]


def test_the_summary_counts_withdrawn_tasks_apart(counted, api_client, leader):
    body = api_client(leader).get("/api/v1/dashboard/summary/").json()
    assert body["totals"]["withdrawn"] == 1
    assert body["totals"]["total"] == 4


def test_the_summary_only_counts_what_the_user_sees(counted, api_client, outsider):
    body = api_client(outsider).get("/api/v1/dashboard/summary/?as_of=2022-07-15").json()
    assert body["totals"]["total"] == 2
    assert list(_by_agency(body)) == ["UBND_GIAOTHUY"]


def test_the_summary_takes_a_plan_and_refuses_an_unknown_one(counted, api_client, leader, plan):
    client = api_client(leader)
    body = client.get(f"/api/v1/dashboard/summary/?plan={plan.pk}").json()
    assert body["filters"]["plan"] == plan.pk
    response = client.get(f"/api/v1/dashboard/summary/?plan={plan.pk + 99}")
    assert response.status_code == 400
    assert "plan" in response.json()


# --- Throttling -----------------------------------------------------------------------------------


def test_anonymous_and_signed_in_clients_are_throttled_at_the_configured_rates(
    db, settings, manager
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": "3/min"},
    }
    cache.clear()
    anonymous = APIClient()
    login = {"username": "manager", "password": "wrong"}
    statuses = [anonymous.post("/api/v1/auth/token/", login).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
    signed_in = APIClient()
    signed_in.force_authenticate(manager)
    assert [signed_in.get("/api/v1/me/").status_code for _ in range(4)] == [200, 200, 200, 429]
    cache.clear()


def test_throttle_rates_come_from_the_environment_with_generous_defaults():
    from plan_tracker import settings as project_settings

    rates = project_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert rates == {"anon": "60/min", "user": "2000/min"}


def test_with_the_cache_unreachable_the_api_still_reads_and_writes(
    db, settings, manager, area, caplog
):
    # Redis (the throttles' cache) down: a closed local port. The throttles let requests
    # through and say so in the log; reads and writes answer as usual, none with 500.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/1",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": "3/min"},
    }
    task = services.task_create(
        plan=area.plan,
        priority_area=area,
        code="T-1",
        title="Số hóa hồ sơ",
        lead_agency=manager.memberships.get().agency,
        assigned_on=D(2022, 1, 10),
        due=D(2022, 12, 31),
    )
    client = APIClient()
    client.force_authenticate(manager)
    reads = [client.get("/api/v1/me/").status_code for _ in range(5)]
    assert reads == [200] * 5  # above the rate: nothing counts while the cache is down
    written = client.post(
        f"/api/v1/tasks/{task.pk}/updates/",
        {"version": task.version, "state": TaskState.IN_PROGRESS, "progress": 30},
        format="json",
    )
    assert written.status_code == 201
    assert "throttle cache unreachable" in caplog.text
    anonymous = APIClient().post("/api/v1/auth/token/", {"username": "manager", "password": "x"})
    assert anonymous.status_code == 400
