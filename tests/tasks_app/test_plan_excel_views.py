"""Pages of the plan workbook: downloads, upload, preview, apply (monitors only)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tasks_app.models import SheetUpload, Task
from tasks_app.plan_excel import plan_workbook
from tasks_app.spreadsheets import XLSX_CONTENT_TYPE
from tests.tasks_app.plan_workbooks import edit, make_plan, snapshot, task_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(agencies):
    return make_plan(agencies)


@pytest.fixture
def monitor_client(client, monitor):
    client.force_login(monitor)
    return client


def upload(client, content: bytes, name: str = "ke-hoach.xlsx"):
    return client.post(
        reverse("tasks_app:plan-import"),
        {"file": SimpleUploadedFile(name, content, content_type=XLSX_CONTENT_TYPE)},
        HTTP_ACCEPT_LANGUAGE="vi",
    )


def test_the_template_and_the_export_download_as_xlsx(monitor_client, plan):
    template = monitor_client.get(reverse("tasks_app:plan-template"))
    export = monitor_client.get(reverse("tasks_app:plan-export", args=[plan.pk]))

    for response in (template, export):
        assert response.status_code == 200
        assert response["Content-Type"] == XLSX_CONTENT_TYPE
        assert response.content[:2] == b"PK"
    assert 'filename="KH-2026.xlsx"' in export["Content-Disposition"]


def test_a_good_file_is_kept_and_its_preview_shows_old_and_new(monitor_client, plan):
    content = plan_workbook(plan)
    content = edit(content, {"Nhiệm vụ": {f"B{task_row(content, '2')}": "Tên mới"}})

    response = upload(monitor_client, content)

    stored = SheetUpload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tasks_app:plan-import-preview", args=[stored.pk])
    page = monitor_client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="vi")
    html = page.content.decode()
    assert "Duy trì cổng thông tin" in html and "Tên mới" in html
    assert 'id="apply-form"' in html


def test_applying_from_the_preview_changes_the_task_once(monitor_client, plan):
    content = edit(plan_workbook(plan), {"Nhiệm vụ": {"B2": "Tên mới"}})
    upload(monitor_client, content)
    url = reverse("tasks_app:plan-import-preview", args=[SheetUpload.objects.get().pk])

    response = monitor_client.post(url)

    assert response.status_code == 302
    assert Task.objects.get(plan=plan, code="1").title == "Tên mới"
    before = snapshot()
    again = monitor_client.post(url, follow=True, HTTP_ACCEPT_LANGUAGE="vi")
    assert "đã được áp dụng" in again.content.decode()
    assert snapshot() == before


def test_a_preview_with_errors_has_no_apply_button(monitor_client, plan):
    content = edit(plan_workbook(plan), {"Nhiệm vụ": {"D2": "KHONG_CO"}})
    upload(monitor_client, content)
    page = monitor_client.get(
        reverse("tasks_app:plan-import-preview", args=[SheetUpload.objects.get().pk]),
        HTTP_ACCEPT_LANGUAGE="vi",
    )
    html = page.content.decode()
    assert "Nhiệm vụ!D2" in html and "KHONG_CO" in html
    assert 'id="apply-form"' not in html


def test_a_refused_file_shows_its_errors_on_the_form_and_is_not_kept(monitor_client, plan):
    content = edit(plan_workbook(plan), {"Nhiệm vụ": {"I2": "=1+1"}})

    response = upload(monitor_client, content)

    assert response.status_code == 400
    assert "Nhiệm vụ!I2" in response.content.decode()
    assert not SheetUpload.objects.exists()


def test_the_pages_are_for_monitors_only(client, manager, plan):
    client.force_login(manager)
    for url in (
        reverse("tasks_app:plan-template"),
        reverse("tasks_app:plan-export", args=[plan.pk]),
        reverse("tasks_app:plan-import"),
    ):
        assert client.get(url).status_code == 403
