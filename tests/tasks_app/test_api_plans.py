"""API v1, plans authored in the product (issue 13): monitors create and change plans, their
basis documents and priority areas; task field changes are recorded with who, why and where
(`/tasks/{id}/changes/`); monitors move a due date with `adjust-due`. Everyone else is
refused, and refused input writes nothing."""

import datetime

import pytest

from tasks_app import services
from tasks_app.choices import ChangeSource, ExtensionKind
from tasks_app.models import DeadlineExtension, Plan, PlanDocument, PriorityArea, TaskChange
from tests.factories import UserFactory, asked_in_time
from tests.tasks_app.conftest import EXE_BYTES, PDF_BYTES, upload

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def monitor_client(api_client, monitor):
    return api_client(monitor)


def _plan_body(agencies, **fields):
    body = {
        "code": "CDS-2025",
        "title": "Kế hoạch chuyển đổi số năm 2025",
        "year": 2025,
        "number": "45/KH-UBND",
        "issued_on": "2025-01-15",
        "issuing_agency": agencies["province"].pk,
        "monitor_agency": agencies["stttt"].pk,
    }
    body.update(fields)
    return {name: value for name, value in body.items() if value is not None}


# --- Plans ------------------------------------------------------------------------------------


def test_a_monitor_creates_a_plan_for_a_year(agencies, monitor_client):
    response = monitor_client.post("/api/v1/plans/", _plan_body(agencies), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["code"], body["period_start"], body["period_end"]) == (
        "CDS-2025",
        "2025-01-01",
        "2025-12-31",
    )
    assert body["issuing_agency"]["code"] == "UBND_TINH"
    assert body["monitor_agency"]["code"] == "STTTT"
    assert body["documents"] == []
    plan = Plan.objects.get(code="CDS-2025")
    assert (plan.number, plan.issued_on) == ("45/KH-UBND", D(2025, 1, 15))
    # Readable by everyone signed in, at once.
    assert monitor_client.get(f"/api/v1/plans/{plan.pk}/").json()["title"] == plan.title


def test_a_plan_may_cover_a_period_of_several_years(agencies, monitor_client):
    body = _plan_body(agencies, year=None, period_start="2021-01-01", period_end="2025-12-31")
    response = monitor_client.post("/api/v1/plans/", body, format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["period_start"], response.json()["period_end"]) == (
        "2021-01-01",
        "2025-12-31",
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"period_start": "2025-01-01", "period_end": "2025-12-31"},
            {
                "year": [
                    "Chỉ nhập năm hoặc ngày bắt đầu và ngày kết thúc của giai đoạn, "
                    "không nhập cả hai."
                ]
            },
        ),
        (
            {"year": None},
            {
                "year": [
                    "Nhập năm của kế hoạch, hoặc ngày bắt đầu và ngày kết thúc của giai "
                    "đoạn kế hoạch."
                ]
            },
        ),
        (
            {"year": None, "period_start": "2025-06-01"},
            {
                "period_end": [
                    "Nhập năm của kế hoạch, hoặc ngày bắt đầu và ngày kết thúc của giai "
                    "đoạn kế hoạch."
                ]
            },
        ),
        (
            {"year": None, "period_start": "2025-06-01", "period_end": "2025-01-01"},
            {"period_end": ["Ngày kết thúc giai đoạn không được trước ngày bắt đầu."]},
        ),
        ({"code": "cds-test"}, {"code": ["Đã có kế hoạch mang mã “cds-test”."]}),
        ({"title": ""}, {"title": ["Trường này không được để trống."]}),
    ],
)
def test_a_refused_plan_says_why_in_vietnamese_and_writes_nothing(
    fields, expected, plan, agencies, monitor_client
):
    before = Plan.objects.count()
    response = monitor_client.post("/api/v1/plans/", _plan_body(agencies, **fields), format="json")
    assert response.status_code == 400
    assert response.json() == expected
    assert Plan.objects.count() == before


def test_a_monitor_changes_a_plan_but_not_its_code(plan, agencies, monitor_client):
    response = monitor_client.patch(
        f"/api/v1/plans/{plan.pk}/",
        {"title": "Kế hoạch đã sửa", "year": 2023, "monitor_agency": None},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["title"], body["period_start"], body["monitor_agency"]) == (
        "Kế hoạch đã sửa",
        "2023-01-01",
        None,
    )

    refused = monitor_client.patch(
        f"/api/v1/plans/{plan.pk}/", {"code": "KHAC", "title": "Tên khác"}, format="json"
    )
    assert refused.status_code == 400
    assert refused.json() == {"code": ["Không thể thay đổi mã của kế hoạch."]}
    backwards = monitor_client.patch(
        f"/api/v1/plans/{plan.pk}/", {"period_end": "2022-12-31"}, format="json"
    )
    assert backwards.status_code == 400
    assert backwards.json() == {
        "period_end": ["Ngày kết thúc giai đoạn không được trước ngày bắt đầu."]
    }
    plan.refresh_from_db()
    assert (plan.code, plan.title, plan.period_end) == (
        "CDS-TEST",
        "Kế hoạch đã sửa",
        D(2023, 12, 31),
    )


def test_a_missing_or_malformed_plan_is_a_404(monitor_client):
    for pk in ("999999", "x"):
        response = monitor_client.patch(f"/api/v1/plans/{pk}/", {"title": "x"}, format="json")
        assert response.status_code == 404


# --- Basis documents ----------------------------------------------------------------------------


def test_a_basis_document_with_its_file_is_listed_on_the_plan_and_downloadable(
    plan, api_client, monitor_client, manager
):
    response = monitor_client.post(
        f"/api/v1/plans/{plan.pk}/documents/",
        {
            "number": "12/NQ-TU",
            "title": "Nghị quyết về chuyển đổi số",
            "issued_on": "2021-10-05",
            "issuer": "Tỉnh ủy Nam Định",
            "file": upload("nghi-quyet.pdf", PDF_BYTES),
        },
        format="multipart",
    )

    assert response.status_code == 201, response.content
    (document,) = response.json()["documents"]
    assert {k: v for k, v in document.items() if k not in ("id", "file_url")} == {
        "number": "12/NQ-TU",
        "issued_on": "2021-10-05",
        "issuer": "Tỉnh ủy Nam Định",
        "title": "Nghị quyết về chuyển đổi số",
    }
    # Any signed-in user reads the plan's documents and downloads their files.
    reader = api_client(manager)
    listed = reader.get(f"/api/v1/plans/{plan.pk}/").json()["documents"]
    assert listed == [document]
    download = reader.get(document["file_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == PDF_BYTES


def test_a_document_without_a_file_has_no_file_url(plan, monitor_client):
    response = monitor_client.post(
        f"/api/v1/plans/{plan.pk}/documents/",
        {"number": "749/QĐ-TTg", "title": "Chương trình Chuyển đổi số quốc gia"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["documents"][0]["file_url"] is None
    document = PlanDocument.objects.get()
    assert monitor_client.get(f"/api/v1/plan-documents/{document.pk}/download/").status_code == 404


def test_a_refused_document_says_why_and_writes_nothing(plan, monitor_client):
    PlanDocument.objects.create(plan=plan, number="12/NQ-TU", title="Nghị quyết")

    duplicate = monitor_client.post(
        f"/api/v1/plans/{plan.pk}/documents/",
        {"number": "12/nq-tu", "title": "Nghị quyết khác"},
        format="json",
    )
    assert duplicate.status_code == 400
    assert duplicate.json() == {"number": ["Kế hoạch đã có văn bản số “12/nq-tu”."]}
    program = monitor_client.post(
        f"/api/v1/plans/{plan.pk}/documents/",
        {"number": "1/QĐ", "title": "Quyết định", "file": upload("quyet-dinh.pdf", EXE_BYTES)},
        format="multipart",
    )
    assert program.status_code == 400
    assert list(program.json()) == ["file"]
    assert program.json()["file"][0].startswith("Tệp “quyet-dinh.pdf” không được chấp nhận")
    assert PlanDocument.objects.count() == 1


# --- Priority areas ---------------------------------------------------------------------------


def test_a_monitor_adds_a_priority_area_last_and_changes_it(plan, area, monitor_client):
    response = monitor_client.post(
        "/api/v1/priority-areas/",
        {"plan": plan.pk, "code": "KTS", "name": "Kinh tế số"},
        format="json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["plan"], created["code"], created["order"]) == (plan.pk, "KTS", area.order + 1)

    changed = monitor_client.patch(
        f"/api/v1/priority-areas/{created['id']}/",
        {"name": "Phát triển kinh tế số", "order": 7},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    assert (changed.json()["name"], changed.json()["order"]) == ("Phát triển kinh tế số", 7)
    stored = monitor_client.get(f"/api/v1/priority-areas/{created['id']}/").json()
    assert (stored["code"], stored["name"], stored["order"]) == ("KTS", "Phát triển kinh tế số", 7)


def test_a_refused_priority_area_says_why_and_writes_nothing(plan, area, monitor_client):
    duplicate = monitor_client.post(
        "/api/v1/priority-areas/",
        {"plan": plan.pk, "code": "cqdt", "name": "Trùng mã"},
        format="json",
    )
    assert duplicate.status_code == 400
    assert duplicate.json() == {"code": ["Kế hoạch đã có lĩnh vực ưu tiên “cqdt”."]}
    unnamed = monitor_client.post(
        "/api/v1/priority-areas/", {"plan": plan.pk, "code": "XHS"}, format="json"
    )
    assert unnamed.status_code == 400
    assert unnamed.json() == {"name": ["Trường này là bắt buộc."]}
    assert PriorityArea.objects.count() == 1

    other = PriorityArea.objects.create(plan=plan, code="XHS", name="Xã hội số", order=2)
    taken = monitor_client.patch(
        f"/api/v1/priority-areas/{other.pk}/", {"code": "CQDT"}, format="json"
    )
    assert taken.status_code == 400
    assert taken.json() == {"code": ["Kế hoạch đã có lĩnh vực ưu tiên “CQDT”."]}
    moved = monitor_client.patch(
        f"/api/v1/priority-areas/{other.pk}/", {"plan": plan.pk + 1}, format="json"
    )
    assert moved.status_code == 400
    assert moved.json() == {"plan": ["Lĩnh vực ưu tiên không thể chuyển sang kế hoạch khác."]}
    other.refresh_from_db()
    assert (other.plan_id, other.code) == (plan.pk, "XHS")


# --- Who may write -------------------------------------------------------------------------------


@pytest.fixture
def writes(plan, area, task, agencies):
    return [
        ("post", "/api/v1/plans/", _plan_body(agencies)),
        ("patch", f"/api/v1/plans/{plan.pk}/", {"title": "x"}),
        ("post", f"/api/v1/plans/{plan.pk}/documents/", {"number": "1", "title": "x"}),
        ("post", "/api/v1/priority-areas/", {"plan": plan.pk, "code": "X", "name": "x"}),
        ("patch", f"/api/v1/priority-areas/{area.pk}/", {"name": "x"}),
        (
            "post",
            f"/api/v1/tasks/{task.pk}/adjust-due/",
            {"version": task.version, "due": "2022-09-30", "reason": "x"},
        ),
    ]


@pytest.mark.parametrize("who", ["manager", "officer", "leader"])
def test_only_the_monitoring_agency_writes_plans_areas_and_due_dates(
    who, writes, api_client, request
):
    client = api_client(request.getfixturevalue(who))
    for method, path, body in writes:
        response = getattr(client, method)(path, body, format="json")
        assert response.status_code == 403, (method, path)
    assert Plan.objects.count() == 1
    assert PlanDocument.objects.count() == 0
    assert PriorityArea.objects.count() == 1
    assert not DeadlineExtension.objects.exists()


def test_anonymous_writes_are_a_401(writes, api_client):
    client = api_client()
    for method, path, body in writes:
        assert getattr(client, method)(path, body, format="json").status_code == 401, path


def test_plans_stay_readable_by_every_signed_in_user(plan, area, api_client, officer):
    client = api_client(officer)
    assert [row["code"] for row in client.get("/api/v1/plans/").json()["results"]] == ["CDS-TEST"]
    assert client.get(f"/api/v1/priority-areas/{area.pk}/").status_code == 200


# --- Task changes and their history -----------------------------------------------------------


def test_a_new_lead_agency_needs_a_reason(task, agencies, monitor_client):
    response = monitor_client.patch(
        f"/api/v1/tasks/{task.pk}/",
        {"version": 1, "lead_agency": agencies["giaothuy"].pk, "reason": "  "},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"reason": ["Nêu lý do thay đổi cơ quan chủ trì."]}
    task.refresh_from_db()
    assert (task.lead_agency, task.version) == (agencies["haihau"], 1)
    assert not TaskChange.objects.exists()
    # The lead it already has is no change: no reason needed.
    same = monitor_client.patch(
        f"/api/v1/tasks/{task.pk}/",
        {"version": 1, "lead_agency": agencies["haihau"].pk, "title": "Tên mới"},
        format="json",
    )
    assert same.status_code == 200, same.content


def test_a_lead_change_is_in_the_change_history_with_old_new_reason_and_author(
    task, agencies, monitor, monitor_client
):
    response = monitor_client.patch(
        f"/api/v1/tasks/{task.pk}/",
        {
            "version": 1,
            "lead_agency": agencies["giaothuy"].pk,
            "reason": "Quyết định 12/QĐ-UBND giao lại nhiệm vụ",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["lead_agency"]["code"] == "UBND_GIAOTHUY"

    changes = monitor_client.get(f"/api/v1/tasks/{task.pk}/changes/")

    assert changes.status_code == 200
    (row,) = changes.json()["results"]
    assert {k: v for k, v in row.items() if k not in ("id", "changed_at", "author")} == {
        "field": "lead_agency",
        "field_label": "cơ quan chủ trì",
        "old_value": str(agencies["haihau"].pk),
        "new_value": str(agencies["giaothuy"].pk),
        "old_text": "UBND huyện Hải Hậu",
        "new_text": "UBND huyện Giao Thủy",
        "reason": "Quyết định 12/QĐ-UBND giao lại nhiệm vụ",
        "source": "api",
        "source_label": "API",
    }
    assert row["author"]["id"] == monitor.pk
    assert row["author"]["full_name"]


def test_the_change_history_is_newest_first_and_hidden_with_its_task(
    task, agencies, monitor_client, api_client, manager, outsider
):
    for title in ("Tên thứ nhất", "Tên thứ hai"):
        task.refresh_from_db()
        services.task_update_fields(
            task=task, expected_version=task.version, title=title, source=ChangeSource.PAGE
        )
    rows = monitor_client.get(f"/api/v1/tasks/{task.pk}/changes/").json()["results"]
    assert [row["new_text"] for row in rows] == ["Tên thứ hai", "Tên thứ nhất"]
    assert [row["source"] for row in rows] == ["page", "page"]
    # The lead agency's staff read it; an agency that does not see the task gets a 404.
    assert api_client(manager).get(f"/api/v1/tasks/{task.pk}/changes/").status_code == 200
    assert api_client(outsider).get(f"/api/v1/tasks/{task.pk}/changes/").status_code == 404


@pytest.mark.parametrize("rows", [2, 30])
def test_the_change_history_takes_the_same_queries_for_any_number_of_rows(
    rows, task, monitor_client, django_assert_max_num_queries
):
    for n in range(rows):
        task.refresh_from_db()
        services.task_update_fields(
            task=task,
            expected_version=task.version,
            author=UserFactory(),
            reason=f"Lần {n}",
            title=f"Tên {n}",
        )
    with django_assert_max_num_queries(8):
        response = monitor_client.get(f"/api/v1/tasks/{task.pk}/changes/?page_size=50")
    assert response.status_code == 200
    assert response.json()["count"] == rows
    assert len({row["author"]["id"] for row in response.json()["results"]}) == rows


# --- Due date adjustments -----------------------------------------------------------------------


def test_adjust_due_moves_the_due_date_keeps_the_original_and_is_recorded(
    task, monitor, monitor_client
):
    response = monitor_client.post(
        f"/api/v1/tasks/{task.pk}/adjust-due/",
        {"version": 1, "due": "2022-09-30", "reason": "Theo Công văn 88/UBND-VP"},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["task"]["original_due"], body["task"]["due"], body["task"]["version"]) == (
        "2022-06-30",
        "2022-09-30",
        2,
    )
    adjustment = body["adjustment"]
    assert (adjustment["kind"], adjustment["status"], adjustment["previous_due"]) == (
        "adjustment",
        "approved",
        "2022-06-30",
    )
    assert adjustment["requested_by"]["id"] == monitor.pk
    task.refresh_from_db()
    assert (task.original_due, task.due) == (D(2022, 6, 30), D(2022, 9, 30))
    (change,) = monitor_client.get(f"/api/v1/tasks/{task.pk}/changes/").json()["results"]
    assert (change["field"], change["old_text"], change["new_text"], change["source"]) == (
        "due",
        "30/06/2022",
        "30/09/2022",
        "api",
    )
    assert change["reason"] == "Theo Công văn 88/UBND-VP"


def test_extensions_tell_an_adjustment_from_an_agencys_request(task, manager, monitor_client):
    services.task_adjust_due(task=task, due=D(2022, 7, 31), author=None, reason="Điều chỉnh")
    task.refresh_from_db()
    services.extension_request(
        task=task,
        requested_by=manager,
        proposed_due=D(2022, 9, 30),
        reason="Chờ kinh phí",
        requested_at=asked_in_time(task),
    )
    rows = monitor_client.get(f"/api/v1/tasks/{task.pk}/extensions/").json()["results"]
    # Newest first: the request was asked in 2022, the adjustment made today.
    assert [row["kind"] for row in rows] == [ExtensionKind.ADJUSTMENT, ExtensionKind.REQUEST]


def test_adjust_due_with_a_stale_version_is_a_409_and_writes_nothing(task, manager, monitor_client):
    services.status_update_record(task=task, author=manager, state="in_progress", progress=20)
    response = monitor_client.post(
        f"/api/v1/tasks/{task.pk}/adjust-due/",
        {"version": 1, "due": "2022-09-30", "reason": "Theo Công văn 88/UBND-VP"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["current"]["version"] == 2
    task.refresh_from_db()
    assert task.due == D(2022, 6, 30)
    assert not DeadlineExtension.objects.exists()
    assert not TaskChange.objects.exists()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"due": "2022-09-30", "reason": " "}, {"reason": ["Hãy nêu lý do điều chỉnh."]}),
        ({"due": "2022-09-30"}, {"reason": ["Trường này là bắt buộc."]}),
        (
            {"due": "2022-06-30", "reason": "x"},
            {"due": ["Hạn hoàn thành của nhiệm vụ đã là ngày 30/06/2022."]},
        ),
    ],
)
def test_a_refused_adjustment_says_why_and_writes_nothing(body, expected, task, monitor_client):
    response = monitor_client.post(
        f"/api/v1/tasks/{task.pk}/adjust-due/", {"version": 1, **body}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == expected
    task.refresh_from_db()
    assert (task.due, task.version) == (D(2022, 6, 30), 1)
    assert not DeadlineExtension.objects.exists()


def test_a_hidden_task_cannot_be_adjusted_it_is_a_404(task, api_client, outsider):
    response = api_client(outsider).post(
        f"/api/v1/tasks/{task.pk}/adjust-due/",
        {"version": 1, "due": "2022-09-30", "reason": "x"},
        format="json",
    )
    assert response.status_code == 404


# --- The schema ---------------------------------------------------------------------------------


def test_the_schema_documents_the_new_endpoints_with_their_bodies_and_errors(api_client):
    schema = api_client().get("/api/schema/?format=json").json()
    paths = schema["paths"]

    def body(path, method, code):
        response = paths[path][method]["responses"][code]
        return response["content"]["application/json"]["schema"]

    def request(path, method, media="application/json"):
        return paths[path][method]["requestBody"]["content"][media]["schema"]

    ref = "#/components/schemas/{}".format
    assert request("/api/v1/plans/", "post") == {"$ref": ref("PlanCreateInputRequest")}
    assert body("/api/v1/plans/", "post", "201") == {"$ref": ref("Plan")}
    assert request("/api/v1/plans/{id}/", "patch") == {"$ref": ref("PatchedPlanUpdateInputRequest")}
    documents = "/api/v1/plans/{id}/documents/"
    assert request(documents, "post", "multipart/form-data") == {
        "$ref": ref("PlanDocumentInputRequest")
    }
    assert request("/api/v1/priority-areas/", "post") == {"$ref": ref("AreaCreateInputRequest")}
    assert body("/api/v1/priority-areas/{id}/", "patch", "200") == {"$ref": ref("PriorityArea")}
    adjust = "/api/v1/tasks/{id}/adjust-due/"
    assert request(adjust, "post") == {"$ref": ref("TaskAdjustDueInputRequest")}
    assert body(adjust, "post", "201") == {"$ref": ref("TaskAdjustDueResult")}
    assert body(adjust, "post", "409") == {"$ref": ref("Conflict")}
    assert body("/api/v1/tasks/{id}/changes/", "get", "200") == {
        "$ref": ref("PaginatedTaskChangeList")
    }
    assert "/api/v1/plan-documents/{id}/download/" in paths
    for path in (documents, adjust, "/api/v1/plans/", "/api/v1/priority-areas/{id}/"):
        for operation in paths[path].values():
            if isinstance(operation, dict) and "responses" in operation:
                assert {"400", "401", "403", "404"} <= set(operation["responses"]), path
    components = schema["components"]["schemas"]
    assert {"request", "adjustment"} == set(components["ExtensionKindEnum"]["enum"])
    assert "kind" in components["Extension"]["properties"]
    assert "documents" in components["Plan"]["properties"]
    assert components["TaskChange"]["properties"]["source"]
