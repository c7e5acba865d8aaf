"""Issue 3, "Done when": a client that knows only the schema, with the demo accounts and the
2022 plan, goes through the API with token authentication only:

as `sotttt` create a task and assign it to three districts; as `haihau` report 50 % with a
PDF evidence file on Hải Hậu's child; as `giaothuy` fail to see it; as `lanhdao` read the
summary counts that include it.
"""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.tasks_app.conftest import PDF_BYTES, upload

pytestmark = pytest.mark.django_db

PASSWORD = "demo-2022"


def sign_in(username: str) -> APIClient:
    """A client that authenticates as the schema says: POST auth/token/, then `Token`."""
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def one(client: APIClient, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.content
    [row] = response.json()["results"]
    return row


def test_the_done_when_scenario_of_issue_3(demo_plan, api_client):
    # 1. sotttt (monitor) creates a task and assigns it to three districts.
    sotttt = sign_in("sotttt")
    me = sotttt.get("/api/v1/me/").json()
    assert me["capabilities"]["can_manage_tasks"] is True
    plan = one(sotttt, "/api/v1/plans/?page_size=1")
    areas = sotttt.get(f"/api/v1/priority-areas/?plan={plan['id']}").json()["results"]
    area = next(a for a in areas if a["code"] == "CQDT")
    stttt = one(sotttt, "/api/v1/agencies/?q=STTTT")
    districts = [
        one(sotttt, f"/api/v1/agencies/?q={name}&level=district&kind=ubnd")
        for name in ("hai hau", "giao thuy", "xuan truong")
    ]
    created = sotttt.post(
        "/api/v1/tasks/",
        {
            "plan": plan["id"],
            "priority_area": area["id"],
            "code": "CDS22-API",
            "title": "Triển khai họp trực tuyến đến cấp xã",
            "lead_agency": stttt["id"],
            "assigned_on": "2022-03-01",
            # Due in the future, so that 50 % reported today is "in progress" today.
            "due": (timezone.localdate() + datetime.timedelta(days=90)).isoformat(),
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    parent = created.json()
    assigned = sotttt.post(
        f"/api/v1/tasks/{parent['id']}/assign/",
        {"agencies": [d["id"] for d in districts]},
        format="json",
    )
    assert assigned.status_code == 201, assigned.content
    children = {c["lead_agency"]["code"]: c for c in assigned.json()["children"]}
    assert set(children) == {"UBND_HAIHAU", "UBND_GIAOTHUY", "UBND_XUANTRUONG"}

    # 2. haihau finds its child and reports 50 % with a PDF.
    haihau = sign_in("haihau")
    mine = one(haihau, f"/api/v1/tasks/?parent={parent['id']}")
    assert mine["id"] == children["UBND_HAIHAU"]["id"]
    reported = haihau.post(
        f"/api/v1/tasks/{mine['id']}/updates/",
        {
            "version": mine["version"],
            "state": "in_progress",
            "progress": 50,
            "result": "Đã lắp đặt thiết bị tại 12 xã",
            "files": [upload("bien-ban-nghiem-thu.pdf", PDF_BYTES)],
        },
        format="multipart",
    )
    assert reported.status_code == 201, reported.content
    assert reported.json()["task"]["progress"] == 50
    [evidence] = reported.json()["update"]["evidence"]
    download = haihau.get(evidence["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF_BYTES

    # 3. giaothuy cannot see Hải Hậu's child, nor its evidence.
    giaothuy = sign_in("giaothuy")
    assert giaothuy.get(f"/api/v1/tasks/{mine['id']}/").status_code == 404
    assert giaothuy.get(evidence["download_url"]).status_code == 404
    visible = giaothuy.get(f"/api/v1/tasks/?parent={parent['id']}").json()["results"]
    assert [t["lead_agency"]["code"] for t in visible] == ["UBND_GIAOTHUY"]

    # 4. lanhdao reads the summary counts, which include the reported child.
    lanhdao = sign_in("lanhdao")
    detail = lanhdao.get(f"/api/v1/tasks/{mine['id']}/").json()
    assert detail["category"] == "in_progress"
    summary = lanhdao.get(f"/api/v1/dashboard/summary/?plan={plan['id']}").json()
    by_agency = {
        row["code"]: row["counts"] for level in summary["rankings"] for row in level["agencies"]
    }
    assert by_agency["UBND_HAIHAU"]["in_progress"] >= 1
    by_area = {row["code"]: row["counts"] for row in summary["areas"]}
    # The children are leaves and counted; the split plan item is not counted again.
    before = lanhdao.get(f"/api/v1/tasks/?plan={plan['id']}&is_parent=false&page_size=1").json()
    assert summary["totals"]["total"] + summary["totals"]["withdrawn"] == before["count"]
    assert by_area["CQDT"]["in_progress"] >= 1
