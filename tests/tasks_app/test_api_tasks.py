"""API v1 tasks: the representation, filters, ordering, pagination, search, creation,
field changes with their version check, and splitting a task per agency."""

import datetime

import pytest
from django.utils import timezone

from tasks_app import services
from tasks_app.choices import TaskState
from tasks_app.models import Task
from tests.factories import AgencyFactory, PriorityAreaFactory, TaskFactory, asked_in_time

D = datetime.date
pytestmark = pytest.mark.django_db


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def codes(response):
    return [row["code"] for row in results(response)]


@pytest.fixture
def monitor_client(api_client, monitor):
    return api_client(monitor)


# --- Representation -----------------------------------------------------------------------------


def test_a_task_carries_its_category_at_the_as_of_date_agencies_dates_and_version(
    make_task, agencies, monitor, monitor_client
):
    task = make_task(code="T1", due=D(2022, 3, 31))
    task.coordinating_agencies.set([agencies["stttt"]])
    request = services.extension_request(
        task=task,
        requested_by=monitor,
        proposed_due=D(2022, 6, 30),
        reason="Chờ vốn",
        requested_at=asked_in_time(task),
    )
    services.extension_approve(extension=request, decided_by=monitor)

    row = monitor_client.get(f"/api/v1/tasks/{task.pk}/?as_of=2022-04-15").json()

    assert row["lead_agency"] == {
        "id": agencies["haihau"].pk,
        "code": "UBND_HAIHAU",
        "name": "Ủy ban nhân dân huyện Hải Hậu",
        "short_name": "UBND huyện Hải Hậu",
    }
    assert [a["code"] for a in row["coordinating_agencies"]] == ["STTTT"]
    assert (row["original_due"], row["due"]) == ("2022-03-31", "2022-06-30")
    # Approved today, so in April 2022 the original date was in force: overdue then.
    assert row["category"] == "overdue"
    assert row["version"] == 2
    assert row["parent"] is None and row["is_parent"] is False


def test_the_category_defaults_to_today(make_task, monitor_client):
    task = make_task(code="T1", due=timezone.localdate() + datetime.timedelta(days=30))
    assert monitor_client.get(f"/api/v1/tasks/{task.pk}/").json()["category"] == "not_started"


def test_a_malformed_or_out_of_range_as_of_is_refused(make_task, monitor_client):
    make_task(code="T1")
    assert monitor_client.get("/api/v1/tasks/?as_of=30/06/2022").status_code == 400
    response = monitor_client.get("/api/v1/tasks/?as_of=9999-12-31", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == {"as_of": ["Enter a date between 01/01/1900 and 31/12/2999."]}


def test_the_detail_lists_only_the_children_the_user_may_see(
    make_task, agencies, api_client, manager, monitor
):
    parent = make_task(code="P", lead_agency=agencies["stttt"])
    parent.coordinating_agencies.set([agencies["haihau"]])
    services.task_split(task=parent, agencies=[agencies["haihau"], agencies["giaothuy"]])

    as_manager = api_client(manager).get(f"/api/v1/tasks/{parent.pk}/").json()
    as_monitor = api_client(monitor).get(f"/api/v1/tasks/{parent.pk}/").json()

    assert [c["code"] for c in as_manager["children"]] == ["P.UBND_HAIHAU"]
    assert [c["code"] for c in as_monitor["children"]] == ["P.UBND_GIAOTHUY", "P.UBND_HAIHAU"]
    assert as_manager["is_parent"] is True
    assert as_manager["my_permissions"] == {
        "can_report_progress": False,
        "can_contribute": True,
        "can_request_extension": False,
        "can_manage": False,
        "can_decide_extensions": False,
    }


# --- Filters, ordering, search, pagination --------------------------------------------------------


@pytest.fixture
def spread(make_task, agencies, area, plan, manager):
    """Tasks across agencies, states, due dates and priority areas."""
    other_area = PriorityAreaFactory(plan=plan, code="YTE", name="Y tế số")
    tasks = {
        "a": make_task(code="A", title="Cổng dịch vụ công", due=D(2022, 3, 31)),
        "b": make_task(
            code="B", title="Chuyển đổi số xã", lead_agency=agencies["haitrung"], due=D(2022, 9, 30)
        ),
        "c": make_task(
            code="C", title="Bệnh án điện tử", lead_agency=agencies["giaothuy"], due=None
        ),
        "d": TaskFactory(
            code="D",
            title="Họp trực tuyến",
            priority_area=other_area,
            lead_agency=agencies["haihau"],
            original_due=D(2022, 6, 1),
        ),
    }
    tasks["d"].coordinating_agencies.set([agencies["giaothuy"]])
    services.status_update_record(
        task=tasks["a"], author=manager, state=TaskState.IN_PROGRESS, progress=40
    )
    return tasks


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["A", "B", "C", "D"]),
        ("priority_area={other_area}", ["D"]),
        ("lead_agency={haihau}", ["A", "D"]),
        ("lead_agency={haihau}&subtree=true", ["A", "B", "D"]),
        ("coordinating_agency={giaothuy}", ["D"]),
        ("level=commune", ["B"]),
        ("state=in_progress", ["A"]),
        ("state=in_progress&state=not_started", ["A", "B", "C", "D"]),
        ("due_after=2022-05-01", ["B", "D"]),
        ("due_before=2022-05-01", ["A"]),
        ("due_after=2022-04-01&due_before=2022-08-31", ["D"]),
        ("as_of=2022-07-15&overdue=true", ["A", "D"]),
        ("as_of=2022-07-15&overdue=false", ["B", "C"]),
        ("as_of=2022-07-15&category=regular", ["C"]),
        ("as_of=2022-07-15&category=overdue&category=regular", ["A", "C", "D"]),
        ("q=chuyen doi so", ["B"]),
        ("q=CHUYỂN ĐỔI", ["B"]),
        ("q=benh an", ["C"]),
        ("top_level=true", ["A", "B", "C", "D"]),
    ],
)
def test_task_filters_narrow_the_list(query, expected, spread, agencies, monitor_client):
    query = query.format(
        other_area=spread["d"].priority_area_id,
        haihau=agencies["haihau"].pk,
        giaothuy=agencies["giaothuy"].pk,
    )
    assert sorted(codes(monitor_client.get(f"/api/v1/tasks/?{query}"))) == expected


def test_filters_never_widen_the_users_scope(spread, agencies, api_client, manager):
    client = api_client(manager)
    assert codes(client.get(f"/api/v1/tasks/?lead_agency={agencies['giaothuy'].pk}")) == []
    assert sorted(codes(client.get("/api/v1/tasks/"))) == ["A", "B", "D"]


def test_the_plan_filter_keeps_other_plans_out(spread, monitor_client, plan):
    assert len(codes(monitor_client.get(f"/api/v1/tasks/?plan={plan.pk}"))) == 4
    assert codes(monitor_client.get(f"/api/v1/tasks/?plan={plan.pk + 1000}")) == []


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("due", ["A", "D", "B", "C"]),  # the regular task (no due date) last
        ("-due", ["B", "D", "A", "C"]),  # …either way
        ("code", ["A", "B", "C", "D"]),
        ("-progress,code", ["A", "B", "C", "D"]),
    ],
)
def test_tasks_are_ordered_as_asked(ordering, expected, spread, monitor_client):
    assert codes(monitor_client.get(f"/api/v1/tasks/?ordering={ordering}")) == expected


def test_pages_hold_the_page_size_asked_for_up_to_200(make_task, monitor_client):
    for n in range(7):
        make_task(code=f"T{n}")
    page = monitor_client.get("/api/v1/tasks/?page_size=5&page=2").json()
    assert (page["count"], len(page["results"])) == (7, 2)
    assert page["previous"] and page["next"] is None
    assert monitor_client.get("/api/v1/tasks/?page=9").status_code == 404
    from tasks_app.api.pagination import Pagination

    assert Pagination.max_page_size == 200


@pytest.mark.parametrize("page_size", [5, 50])
def test_the_task_list_runs_a_constant_number_of_queries(
    page_size, make_task, agencies, api_client, manager, django_assert_max_num_queries
):
    for n in range(60):
        task = make_task(code=f"T{n:02d}", lead_agency=agencies["haitrung"])
        task.coordinating_agencies.set([agencies["stttt"], agencies["giaothuy"]])
    client = api_client(manager)
    # token, roles, agencies of the scope (2), count, page, coordinating agencies
    with django_assert_max_num_queries(8):
        response = client.get(f"/api/v1/tasks/?page_size={page_size}&ordering=due")
    assert len(response.json()["results"]) == page_size


@pytest.mark.parametrize("page_size", [5, 50])
def test_other_lists_run_a_constant_number_of_queries(
    page_size, make_task, agencies, api_client, manager, monitor, django_assert_max_num_queries
):
    task = make_task(code="T")
    for n in range(60):
        AgencyFactory(code=f"X{n}", parent=agencies["haihau"], level=agencies["haihau"].level)
        services.status_update_record(
            task=task, author=manager, state=TaskState.IN_PROGRESS, progress=n % 100 + 1
        )
    client, monitor_client = api_client(manager), api_client(monitor)
    with django_assert_max_num_queries(8):
        assert client.get(f"/api/v1/agencies/?page_size={page_size}").status_code == 200
    with django_assert_max_num_queries(9):
        page = client.get(f"/api/v1/tasks/{task.pk}/updates/?page_size={page_size}").json()
    assert len(page["results"]) == page_size
    with django_assert_max_num_queries(8):
        response = monitor_client.get(f"/api/v1/extensions/?page_size={page_size}")
    assert response.status_code == 200


# --- Creating, changing, splitting ----------------------------------------------------------------


def test_a_monitor_creates_a_task_whose_original_due_is_its_due(
    plan, area, agencies, monitor_client
):
    response = monitor_client.post(
        "/api/v1/tasks/",
        {
            "plan": plan.pk,
            "priority_area": area.pk,
            "code": "CDS22-99",
            "title": "Số hóa hồ sơ một cửa",
            "lead_agency": agencies["haihau"].pk,
            "coordinating_agencies": [agencies["stttt"].pk],
            "assigned_on": "2022-02-01",
            "due": "2022-10-31",
            "kpi_target": "100.00",
            "kpi_unit": "%",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["original_due"], body["due"], body["version"]) == ("2022-10-31", "2022-10-31", 1)
    assert body["coordinating_agencies"][0]["code"] == "STTTT"
    assert Task.objects.get(code="CDS22-99").lead_agency == agencies["haihau"]


def test_creating_a_task_with_a_priority_area_of_another_plan_is_a_400_per_field(
    plan, agencies, monitor_client
):
    elsewhere = PriorityAreaFactory(code="X")
    response = monitor_client.post(
        "/api/v1/tasks/",
        {
            "plan": plan.pk,
            "priority_area": elsewhere.pk,
            "code": "X1",
            "title": "x",
            "lead_agency": agencies["haihau"].pk,
            "assigned_on": "2022-02-01",
            "due": "2022-01-01",
        },
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    # Every refusal at once, each beside its field.
    assert response.json() == {
        "priority_area": ["The priority area belongs to another plan."],
        "due": ["The due date cannot be before the assignment date."],
    }
    assert not Task.objects.filter(code="X1").exists()


def test_a_duplicate_task_code_in_a_plan_is_a_400(plan, area, agencies, make_task, monitor_client):
    make_task(code="DUP")
    response = monitor_client.post(
        "/api/v1/tasks/",
        {
            "plan": plan.pk,
            "priority_area": area.pk,
            "code": "DUP",
            "title": "x",
            "lead_agency": agencies["haihau"].pk,
            "assigned_on": "2022-02-01",
        },
        format="json",
    )
    assert response.status_code == 400
    # The error names the field, in the user's language.
    assert list(response.json()) == ["code"]
    assert "DUP" in response.json()["code"][0]


def test_patch_changes_fields_and_bumps_the_version(task, agencies, monitor_client):
    response = monitor_client.patch(
        f"/api/v1/tasks/{task.pk}/",
        {
            "version": 1,
            "title": "Tên mới",
            "lead_agency": agencies["giaothuy"].pk,
            "coordinating_agencies": [agencies["haihau"].pk],
            "reason": "Quyết định 12/QĐ-UBND",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["version"], body["lead_agency"]["code"]) == (
        "Tên mới",
        2,
        "UBND_GIAOTHUY",
    )
    assert [a["code"] for a in body["coordinating_agencies"]] == ["UBND_HAIHAU"]


def test_patch_with_a_stale_version_is_a_409_with_the_current_task_and_writes_nothing(
    task, manager, monitor_client
):
    services.status_update_record(task=task, author=manager, state="in_progress", progress=20)
    response = monitor_client.patch(
        f"/api/v1/tasks/{task.pk}/", {"version": 1, "title": "Ghi đè"}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["current"]["version"] == 2
    assert body["current"]["progress"] == 20
    assert body["detail"]
    task.refresh_from_db()
    assert (task.title, task.version) != ("Ghi đè", 3)
    assert task.version == 2


def test_patch_needs_the_version_and_refuses_to_move_the_due_date(task, monitor_client):
    response = monitor_client.patch(
        f"/api/v1/tasks/{task.pk}/", {"due": "2023-01-01"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.json() == {"version": ["This field is required."]}
    response = monitor_client.patch(
        f"/api/v1/tasks/{task.pk}/",
        {"version": 1, "due": "2023-01-01"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.json() == {
        "due": [
            "The due date changes only through an approved extension or an adjustment (adjust-due)."
        ]
    }


def test_put_is_not_offered(task, monitor_client):
    assert monitor_client.put(f"/api/v1/tasks/{task.pk}/", {}, format="json").status_code == 405


def test_assign_splits_a_task_per_agency_once(task, agencies, monitor_client):
    ids = [agencies["haihau"].pk, agencies["giaothuy"].pk, agencies["haihau"].pk]
    first = monitor_client.post(
        f"/api/v1/tasks/{task.pk}/assign/", {"agencies": ids}, format="json"
    )
    assert first.status_code == 201, first.content
    body = first.json()
    assert [c["lead_agency"]["code"] for c in body["children"]] == ["UBND_GIAOTHUY", "UBND_HAIHAU"]
    assert body["task"]["is_parent"] is True
    again = monitor_client.post(
        f"/api/v1/tasks/{task.pk}/assign/", {"agencies": ids}, format="json"
    )
    assert again.status_code == 201
    assert task.children.count() == 2


def test_a_child_task_cannot_be_split_again(task, agencies, monitor_client):
    child = services.task_split(task=task, agencies=[agencies["haihau"]])[0]
    response = monitor_client.post(
        f"/api/v1/tasks/{child.pk}/assign/",
        {"agencies": [agencies["giaothuy"].pk]},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["A child task cannot be split again."]}


def test_an_unknown_agency_id_is_a_400_not_a_500(task, monitor_client):
    response = monitor_client.post(
        f"/api/v1/tasks/{task.pk}/assign/", {"agencies": [999999]}, format="json"
    )
    assert response.status_code == 400
    assert "agencies" in response.json()


# --- Agencies, plans, priority areas --------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=hai hau", ["UBND_HAIHAU"]),
        ("q=Hải Hậu", ["UBND_HAIHAU"]),
        ("q=HAI TRUNG", ["HH_HAITRUNG"]),
        # In Vietnamese alphabetical order of their names: Giao Thủy before Hải Hậu,
        # "Sở" before "Ủy ban", huyện before tỉnh before xã.
        ("level=district", ["UBND_GIAOTHUY", "UBND_HAIHAU"]),
        ("parent={province}", ["STTTT", "UBND_GIAOTHUY", "UBND_HAIHAU"]),
        ("subtree={haihau}", ["UBND_HAIHAU", "HH_HAITRUNG"]),
        ("valid_on=2026-01-01", ["STTTT", "UBND_HAIHAU", "UBND_TINH", "HH_HAITRUNG"]),
    ],
)
def test_agency_filters_and_search_ignore_case_and_diacritics(
    query, expected, agencies, monitor_client
):
    agencies["giaothuy"].valid_to = D(2025, 6, 30)
    agencies["giaothuy"].save()
    query = query.format(province=agencies["province"].pk, haihau=agencies["haihau"].pk)
    assert codes(monitor_client.get(f"/api/v1/agencies/?{query}")) == expected


def test_plans_and_their_priority_areas_are_listed(plan, area, api_client, outsider):
    client = api_client(outsider)
    assert [p["code"] for p in results(client.get("/api/v1/plans/"))] == ["CDS-TEST"]
    PriorityAreaFactory(code="OTHER")
    rows = results(client.get(f"/api/v1/priority-areas/?plan={plan.pk}"))
    assert [(r["code"], r["plan"]) for r in rows] == [("CQDT", plan.pk)]
