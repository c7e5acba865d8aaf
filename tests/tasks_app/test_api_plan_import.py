"""API of the plan workbook import: upload → preview, apply once, monitors only."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tasks_app.models import SheetUpload, Task, TaskChange
from tasks_app.plan_excel import plan_workbook
from tasks_app.spreadsheets import XLSX_CONTENT_TYPE
from tests.tasks_app.plan_workbooks import edit, make_plan, snapshot, task_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(agencies):
    return make_plan(agencies)


URL = "/api/v1/plan-imports/"


def xlsx(content: bytes, name: str = "ke-hoach.xlsx"):
    return SimpleUploadedFile(name, content, content_type=XLSX_CONTENT_TYPE)


def test_a_monitor_uploads_a_workbook_and_gets_its_preview(api_client, plan, monitor):
    content = plan_workbook(plan)
    content = edit(content, {"Nhiệm vụ": {f"B{task_row(content, '2')}": "Tên mới"}})

    response = api_client(monitor).post(URL, {"file": xlsx(content)}, format="multipart")

    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["upload"] == SheetUpload.objects.get().pk
    assert data["plan"]["code"] == "KH-2026" and data["plan"]["status"] == "unchanged"
    assert data["task_counts"] == {"new": 0, "changed": 1, "unchanged": 4, "error": 0, "missing": 0}
    changed = next(row for row in data["tasks"] if row["status"] == "changed")
    assert changed["code"] == "2"
    assert changed["changes"][0]["new"] == "Tên mới"
    assert data["has_errors"] is False


def test_a_row_error_is_answered_with_its_cell_and_cannot_be_applied(api_client, plan, monitor):
    content = plan_workbook(plan)
    row = task_row(content, "1")
    content = edit(content, {"Nhiệm vụ": {f"G{row}": "31/02/2026"}})
    client = api_client(monitor)

    preview = client.post(URL, {"file": xlsx(content)}, format="multipart").json()
    assert preview["has_errors"] is True
    error = preview["errors"][0]
    assert (error["sheet"], error["row"], error["column"], error["cell"]) == (
        "Nhiệm vụ",
        row,
        "G",
        f"Nhiệm vụ!G{row}",
    )

    before = snapshot()
    response = client.post(f"{URL}{preview['upload']}/apply/")
    assert response.status_code == 400
    assert response.json()["errors"][0]["cell"] == f"Nhiệm vụ!G{row}"
    assert snapshot() == before


def test_a_refused_file_answers_400_with_the_errors_and_nothing_is_stored(
    api_client, plan, monitor
):
    content = edit(plan_workbook(plan), {"Nhiệm vụ": {"I2": "=1+1"}})

    response = api_client(monitor).post(URL, {"file": xlsx(content)}, format="multipart")

    assert response.status_code == 400
    assert response.json()["errors"][0]["cell"] == "Nhiệm vụ!I2"
    assert not SheetUpload.objects.exists()


def test_apply_answers_the_summary_then_409(api_client, plan, monitor):
    content = edit(plan_workbook(plan), {"Nhiệm vụ": {"B2": "Tên mới"}})
    client = api_client(monitor)
    upload = client.post(URL, {"file": xlsx(content)}, format="multipart").json()["upload"]

    response = client.post(f"{URL}{upload}/apply/")
    assert response.status_code == 200
    assert response.json()["tasks_updated"] == 1
    assert Task.objects.get(plan=plan, code="1").title == "Tên mới"
    assert TaskChange.objects.get().source == "import"

    again = client.post(f"{URL}{upload}/apply/")
    assert again.status_code == 409
    assert TaskChange.objects.count() == 1


def test_other_users_are_refused(api_client, plan, manager, monitor):
    content = plan_workbook(plan)
    upload = api_client(monitor).post(URL, {"file": xlsx(content)}, format="multipart").json()
    client = api_client(manager)

    assert client.post(URL, {"file": xlsx(content)}, format="multipart").status_code == 403
    assert client.post(f"{URL}{upload['upload']}/apply/").status_code == 403
    assert api_client().post(URL, {"file": xlsx(content)}, format="multipart").status_code == 401
    assert SheetUpload.objects.get().applied_at is None


def test_an_unknown_upload_answers_404(api_client, monitor):
    assert api_client(monitor).post(f"{URL}999/apply/").status_code == 404
    assert api_client(monitor).post(f"{URL}x/apply/").status_code == 404


def test_a_request_without_a_file_answers_400(api_client, monitor):
    response = api_client(monitor).post(URL, {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["detail"]
