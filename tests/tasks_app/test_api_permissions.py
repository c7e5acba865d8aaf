"""The permission matrix of API v1: every endpoint × role × own/other agency.

The people (tests/conftest.py): `monitor` (Sở TT&TT), `leader` (UBND tỉnh), `manager` of the
Hải Hậu district, `commune_manager` of xã Hải Trung (a commune of Hải Hậu), `outsider` (Giao
Thủy district), and an anonymous client. The tasks: one led by Hải Hậu ("district"), one led
by its commune ("commune"), one led by Sở TT&TT that Hải Hậu coordinates ("coordinated") and
one led by Giao Thủy ("other").

The rule (DESIGN.md, "Permissions"): no credentials → 401; a task outside the user's scope →
404, whatever the action; a visible task and a refused action → 403; else the action runs.
"""

import contextlib
import datetime

import pytest
import time_machine

from tasks_app import services
from tasks_app.choices import TaskState
from tasks_app.models import Agency
from tests.factories import asked_in_time
from tests.tasks_app.conftest import PDF_BYTES

pytestmark = pytest.mark.django_db

TASKS = ("district", "commune", "coordinated", "other")
USERS = ("monitor", "leader", "manager", "commune_manager", "outsider", "anonymous")

# Who sees which task (tasks_visible_to): lead or coordinating agency in their subtree.
VISIBLE = {
    "monitor": set(TASKS),
    "leader": set(TASKS),
    "manager": {"district", "commune", "coordinated"},
    "commune_manager": {"commune"},
    "outsider": {"other"},
    "anonymous": set(),
}
# Staff of the lead agency: report progress, ask for extensions.
LEAD_STAFF = {("manager", "district"), ("commune_manager", "commune"), ("outsider", "other")}
# Staff of a coordinating agency: add contributions.
COORDINATING_STAFF = {("manager", "coordinated")}


def manage(user, task):
    return user == "monitor"


def decide(user, task):
    return user in ("monitor", "leader")


def read(user, task):
    return True


def lead(user, task):
    return (user, task) in LEAD_STAFF


def coordinate(user, task):
    return (user, task) in COORDINATING_STAFF


def expected(user: str, task: str, allowed, success: int) -> int:
    if user == "anonymous":
        return 401
    if task not in VISIBLE[user]:
        return 404
    return success if allowed(user, task) else 403


@pytest.fixture
def world(make_task, agencies, monitor, leader, manager, commune_manager, outsider):
    """The four tasks, each with an evidence file and a pending extension request."""
    tasks = {
        "district": make_task(code="HH", lead_agency=agencies["haihau"]),
        "commune": make_task(code="HT", lead_agency=agencies["haitrung"]),
        "coordinated": make_task(code="ST", lead_agency=agencies["stttt"]),
        "other": make_task(code="GT", lead_agency=agencies["giaothuy"]),
    }
    tasks["coordinated"].coordinating_agencies.set([agencies["haihau"]])
    evidence, extensions = {}, {}
    for key, task in tasks.items():
        update = services.status_update_record(
            task=task,
            author=monitor,
            state=TaskState.IN_PROGRESS,
            progress=10,
            evidence=[services.EvidenceUpload("bien-ban.pdf", "application/pdf", PDF_BYTES)],
        )
        evidence[key] = update.evidence.get()
        extensions[key] = services.extension_request(
            task=task,
            requested_by=monitor,
            proposed_due=datetime.date(2022, 9, 30),
            reason="x",
            requested_at=asked_in_time(task),
        )
        task.refresh_from_db()
    users = {
        "monitor": monitor,
        "leader": leader,
        "manager": manager,
        "commune_manager": commune_manager,
        "outsider": outsider,
        "anonymous": None,
    }
    return {"tasks": tasks, "evidence": evidence, "extensions": extensions, "users": users}


def _task_body(kind):
    """Request bodies that pass validation, so that only the permission decides."""

    def body(world, key):
        task = world["tasks"][key]
        version = task.version
        return {
            "patch": {"version": version, "title": "Tiêu đề mới"},
            "assign": {"agencies": [Agency.objects.get(code="UBND_GIAOTHUY").pk]},
            "update": {"version": version, "state": "in_progress", "progress": 50},
            "contribution": {"result": "Đã phối hợp"},
            # Confirm and return need a reported completion: a monitor gets 400 (the state),
            # which proves the permission let the request through.
            "confirm": {"version": version},
            "return": {"version": version, "reason": "Thiếu hồ sơ"},
            "withdraw": {"version": version, "reason": "Không còn phù hợp"},
            "extension": {"proposed_due": "2022-12-31", "reason": "Chờ kinh phí"},
            "decide": {"note": "Đồng ý"},
        }[kind]

    return body


# endpoint: (method, URL of the object, body, who may, status on success)
TASK_ENDPOINTS = {
    "task detail": ("get", "/api/v1/tasks/{task}/", None, read, 200),
    "task change": ("patch", "/api/v1/tasks/{task}/", _task_body("patch"), manage, 200),
    "task assign": ("post", "/api/v1/tasks/{task}/assign/", _task_body("assign"), manage, 201),
    "updates list": ("get", "/api/v1/tasks/{task}/updates/", None, read, 200),
    "update create": ("post", "/api/v1/tasks/{task}/updates/", _task_body("update"), lead, 201),
    "contribution": (
        "post",
        "/api/v1/tasks/{task}/contributions/",
        _task_body("contribution"),
        coordinate,
        201,
    ),
    "confirm": ("post", "/api/v1/tasks/{task}/confirm/", _task_body("confirm"), manage, 400),
    "return": ("post", "/api/v1/tasks/{task}/return/", _task_body("return"), manage, 400),
    "withdraw": ("post", "/api/v1/tasks/{task}/withdraw/", _task_body("withdraw"), manage, 200),
    "extensions list": ("get", "/api/v1/tasks/{task}/extensions/", None, read, 200),
    # The pending request on each task is withdrawn first: one request may wait at a time.
    "extension request": (
        "post",
        "/api/v1/tasks/{task}/extensions/",
        _task_body("extension"),
        lead,
        201,
    ),
    "extension detail": ("get", "/api/v1/extensions/{extension}/", None, read, 200),
    "extension approve": (
        "post",
        "/api/v1/extensions/{extension}/approve/",
        _task_body("decide"),
        decide,
        200,
    ),
    "extension reject": (
        "post",
        "/api/v1/extensions/{extension}/reject/",
        _task_body("decide"),
        decide,
        200,
    ),
    "evidence download": ("get", "/api/v1/evidence/{evidence}/download/", None, read, 200),
}


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("endpoint", list(TASK_ENDPOINTS))
def test_each_endpoint_answers_each_role_as_the_design_says(
    endpoint, user, world, api_client, monitor
):
    method, url, body, allowed, success = TASK_ENDPOINTS[endpoint]
    if endpoint == "extension request":
        # Decide the waiting requests so that a new one may be filed.
        for extension in world["extensions"].values():
            services.extension_reject(extension=extension, decided_by=monitor, note="Không")
    client = api_client(world["users"][user])
    got, want = {}, {}
    # An extension is asked for on or before the due date in force: file it on that day.
    asking = endpoint == "extension request"
    clock = time_machine.travel(asked_in_time(world["tasks"]["district"]), tick=False)
    with clock if asking else contextlib.nullcontext():
        _call_each_task(client, method, url, body, allowed, success, user, world, got, want)
    assert got == want


def _call_each_task(client, method, url, body, allowed, success, user, world, got, want):
    for key in TASKS:
        world["tasks"][key].refresh_from_db()
        path = url.format(
            task=world["tasks"][key].pk,
            extension=world["extensions"][key].pk,
            evidence=world["evidence"][key].pk,
        )
        data = body(world, key) if body else None
        response = getattr(client, method)(path, data, format="json")
        if response.streaming:
            # Read the file to the end: that closes it (the test client's way; calling
            # close() again would also close the test's database connection).
            b"".join(response.streaming_content)
        got[key] = response.status_code
        want[key] = expected(user, key, allowed, success)


COLLECTION_ENDPOINTS = {
    "task list": "/api/v1/tasks/",
    "agency list": "/api/v1/agencies/",
    "plan list": "/api/v1/plans/",
    "priority area list": "/api/v1/priority-areas/",
    "extension list": "/api/v1/extensions/",
    "me": "/api/v1/me/",
    "dashboard summary": "/api/v1/dashboard/summary/",
}


@pytest.mark.parametrize("user", USERS)
@pytest.mark.parametrize("endpoint", list(COLLECTION_ENDPOINTS))
def test_collections_need_credentials_and_answer_every_signed_in_user(
    endpoint, user, world, api_client
):
    response = api_client(world["users"][user]).get(COLLECTION_ENDPOINTS[endpoint])
    assert response.status_code == (401 if user == "anonymous" else 200)


@pytest.mark.parametrize("user", USERS)
def test_only_monitors_create_tasks(user, world, api_client, plan, area, agencies):
    body = {
        "plan": plan.pk,
        "priority_area": area.pk,
        "code": f"NEW-{user}",
        "title": "Nhiệm vụ mới",
        "lead_agency": agencies["haihau"].pk,
        "assigned_on": "2022-03-01",
        "due": "2022-09-30",
    }
    response = api_client(world["users"][user]).post("/api/v1/tasks/", body, format="json")
    want = {"monitor": 201, "anonymous": 401}.get(user, 403)
    assert response.status_code == want


@pytest.mark.parametrize("user", USERS)
def test_lists_hold_exactly_the_visible_tasks_extensions_and_agencies(user, world, api_client):
    client = api_client(world["users"][user])
    if user == "anonymous":
        assert client.get("/api/v1/tasks/").status_code == 401
        return
    codes = {row["code"] for row in client.get("/api/v1/tasks/").json()["results"]}
    assert codes == {world["tasks"][key].code for key in VISIBLE[user]}
    extensions = {row["task"] for row in client.get("/api/v1/extensions/").json()["results"]}
    assert extensions == {world["tasks"][key].pk for key in VISIBLE[user]}
    summary = client.get("/api/v1/dashboard/summary/?as_of=2022-03-01").json()
    assert summary["totals"]["total"] == len(VISIBLE[user])


AGENCY_VISIBLE = {
    "monitor": {"province", "stttt", "haihau", "haitrung", "giaothuy"},
    "leader": {"province", "stttt", "haihau", "haitrung", "giaothuy"},
    "manager": {"haihau", "haitrung"},
    "commune_manager": {"haitrung"},
    "outsider": {"giaothuy"},
}


@pytest.mark.parametrize("user", [u for u in USERS if u != "anonymous"])
def test_an_agency_outside_the_users_subtrees_answers_404(user, world, api_client, agencies):
    client = api_client(world["users"][user])
    got = {key: client.get(f"/api/v1/agencies/{a.pk}/").status_code for key, a in agencies.items()}
    want = {key: 200 if key in AGENCY_VISIBLE[user] else 404 for key in agencies}
    assert got == want


def test_a_hai_hau_manager_may_contribute_but_not_change_a_task_hai_hau_only_coordinates(
    world, api_client, manager
):
    client = api_client(manager)
    task = world["tasks"]["coordinated"]
    refused = client.post(
        f"/api/v1/tasks/{task.pk}/updates/",
        {"version": task.version, "state": "in_progress", "progress": 50},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert refused.status_code == 403
    assert refused.json()["detail"] == "Only the lead agency of this task can report its progress."
    accepted = client.post(
        f"/api/v1/tasks/{task.pk}/contributions/",
        {"result": "Đã cử cán bộ phối hợp"},
        format="json",
    )
    assert accepted.status_code == 201
    assert accepted.json()["update"]["agency"]["code"] == "UBND_HAIHAU"
    task.refresh_from_db()
    assert task.progress == 10  # a contribution leaves the state alone


def test_a_leader_reads_everything_and_writes_only_extension_decisions(world, api_client, leader):
    client = api_client(leader)
    task = world["tasks"]["district"]
    assert client.get(f"/api/v1/tasks/{task.pk}/").status_code == 200
    assert (
        client.patch(
            f"/api/v1/tasks/{task.pk}/", {"version": task.version, "title": "x"}, format="json"
        ).status_code
        == 403
    )
    extension = world["extensions"]["district"]
    response = client.post(f"/api/v1/extensions/{extension.pk}/approve/", {}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
