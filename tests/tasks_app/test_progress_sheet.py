"""The agencies' progress sheet (tasks_app/progress_sheet.py and its pages): download the
open tasks, fill them in Excel, upload, preview, record; stale rows, bad cells, other
agencies' tasks and formulas are refused with nothing recorded."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from tasks_app import progress_sheet, services
from tasks_app.choices import Role, TaskState
from tasks_app.models import SheetUpload, StatusUpdate, Task
from tasks_app.progress_sheet import (
    COMPLETED_ON,
    NEW_STATE,
    PROGRESS,
    RESULT,
    SHEET,
    SheetNotApplied,
    progress_apply,
    progress_preview,
    progress_workbook,
)
from tasks_app.spreadsheets import upload_store
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
TODAY = datetime.datetime(2022, 5, 16, 9, 0, tzinfo=HCM)
IN_PROGRESS = "Đang thực hiện"
AWAITING = "Đã hoàn thành: gửi cơ quan theo dõi xác nhận"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False), translation.override("vi"):
        yield


@pytest.fixture
def open_tasks(make_task):
    """Ten open tasks of Hải Hậu (codes HH-01 … HH-10, created out of order)."""
    return [make_task(code=f"HH-{n:02d}") for n in (3, 1, 2, 10, 4, 5, 6, 7, 8, 9)]


def sheet_rows(content: bytes) -> list[dict]:
    sheet = load_workbook(io.BytesIO(content))[SHEET]
    headers = [cell.value for cell in sheet[1]]
    return [dict(zip(headers, row, strict=True)) for row in sheet.iter_rows(2, values_only=True)]


def fill(content: bytes, values: dict[str, dict]) -> bytes:
    """The downloaded sheet with the cells of `values` ({code: {header: value}}) typed in."""
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook[SHEET]
    headers = {cell.value: cell.column for cell in sheet[1]}
    for row in sheet.iter_rows(min_row=2):
        for header, value in values.get(row[0].value, {}).items():
            sheet.cell(row=row[0].row, column=headers[header], value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def add_row(content: bytes, cells: list) -> bytes:
    workbook = load_workbook(io.BytesIO(content))
    workbook[SHEET].append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ten_updates(tasks) -> dict[str, dict]:
    values = {
        task.code: {NEW_STATE: IN_PROGRESS, PROGRESS: 10 * (n + 1), RESULT: f"Kết quả {n}"}
        for n, task in enumerate(sorted(tasks, key=lambda t: t.code)[:9])
    }
    last = max(tasks, key=lambda t: t.code)
    values[last.code] = {
        NEW_STATE: AWAITING,
        COMPLETED_ON: datetime.date(2022, 5, 10),
        RESULT: "Đã triển khai xong",
    }
    return values


def upload_file(client, agency, content: bytes, name: str = "tien-do.xlsx"):
    return client.post(
        reverse("tasks_app:progress-sheet"),
        {"agency": agency.pk, "file": SimpleUploadedFile(name, content)},
    )


def test_a_manager_downloads_ten_tasks_fills_them_previews_and_records_ten_updates(
    client, manager, agencies, open_tasks, make_task
):
    # Not on the sheet: a completed task, a stopped one, a commune's task, and a task split
    # per agency (its child of Hải Hậu is on it).
    make_task(code="HH-90", state=TaskState.COMPLETED, completed_on=datetime.date(2022, 3, 1))
    make_task(code="HH-91", state=TaskState.WITHDRAWN)
    make_task(code="HT-01", lead_agency=agencies["haitrung"])
    parent = make_task(code="HH-50")
    child = make_task(code="HH-50.UBND_HAIHAU", parent=parent)
    client.force_login(manager)

    page = client.get(reverse("tasks_app:progress-sheet"))
    assert page.status_code == 200
    download = reverse("tasks_app:progress-sheet-download", args=[agencies["haihau"].pk])
    assert download in page.content.decode()
    response = client.get(download)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    content = b"".join(response.streaming_content)
    rows = sheet_rows(content)
    expected = sorted([t.code for t in open_tasks] + [child.code])
    assert [row["Mã nhiệm vụ"] for row in rows] == expected
    first = rows[0]
    assert first["Phiên bản"] == 1
    assert first["Trạng thái hiện tại"] == "Chưa thực hiện"
    assert first["Tiến độ hiện tại (%)"] == 0
    assert first[NEW_STATE] is None and first[PROGRESS] is None

    filled = fill(content, ten_updates(open_tasks))
    response = upload_file(client, agencies["haihau"], filled)
    upload = SheetUpload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("tasks_app:progress-sheet-preview", args=[upload.pk])
    assert upload.agency == agencies["haihau"] and upload.uploaded_by == manager

    page = client.get(response["Location"])
    preview = page.context["preview"]
    assert len(preview.updates) == 10
    assert len(preview.unchanged) == 1  # the split task's child, left empty
    assert preview.can_apply and page.context["may_apply"]
    assert "Ghi nhận cập nhật" in page.content.decode()
    assert not StatusUpdate.objects.exists()  # a preview records nothing

    response = client.post(reverse("tasks_app:progress-sheet-preview", args=[upload.pk]))
    assert response.status_code == 302
    updates = StatusUpdate.objects.order_by("task__code")
    assert updates.count() == 10
    assert {u.author for u in updates} == {manager}
    assert {u.agency for u in updates} == {agencies["haihau"]}
    tasks = {t.code: t for t in Task.objects.filter(code__startswith="HH-")}
    assert tasks["HH-01"].state == TaskState.IN_PROGRESS and tasks["HH-01"].progress == 10
    assert tasks["HH-09"].progress == 90 and tasks["HH-09"].result == ""
    done = tasks["HH-10"]
    assert done.state == TaskState.AWAITING_CONFIRMATION and done.progress == 100
    assert done.completed_on == datetime.date(2022, 5, 10)
    assert done.result == "Đã triển khai xong"
    assert {tasks[t.code].version for t in open_tasks} == {2}
    assert tasks[child.code].version == 1
    upload.refresh_from_db()
    assert upload.applied_at is not None and upload.summary["updates"] == 10

    # The page now says what was recorded, and the task list shows the new progress.
    page = client.get(reverse("tasks_app:progress-sheet-preview", args=[upload.pk]))
    assert page.context["preview"] is None and "HH-10" in page.content.decode()
    task_list = client.get(reverse("tasks_app:task-list"))
    assert reverse("tasks_app:progress-sheet") in task_list.content.decode()


def test_a_task_changed_after_the_download_is_refused_naming_who_changed_it(
    manager, colleague, agencies, open_tasks
):
    content = progress_workbook(manager, agencies["haihau"])
    colleague.last_name, colleague.first_name = "Nguyễn Thị", "Lan"
    colleague.save()
    changed = min(open_tasks, key=lambda t: t.code)
    with time_machine.travel(TODAY + datetime.timedelta(hours=1), tick=False):
        services.status_update_record(
            task=changed, author=colleague, state=TaskState.IN_PROGRESS, progress=40
        )
    filled = fill(content, ten_updates(open_tasks))
    upload = upload_store(
        kind=SheetUpload.Kind.PROGRESS,
        name="tien-do.xlsx",
        content=filled,
        user=manager,
        agency=agencies["haihau"],
    )

    preview = progress_preview(filled, "tien-do.xlsx", manager, agencies["haihau"])
    assert len(preview.updates) == 9
    (stale,) = preview.stale
    assert stale.code == changed.code and stale.number == 2
    assert stale.stale.author == "Nguyễn Thị Lan"
    assert stale.stale.changed_at == TODAY + datetime.timedelta(hours=1)
    assert (stale.stale.sheet_version, stale.stale.version) == (1, 2)
    assert not preview.can_apply

    with pytest.raises(SheetNotApplied):
        progress_apply(upload, manager)
    assert StatusUpdate.objects.count() == 1  # only the colleague's
    assert set(Task.objects.exclude(pk=changed.pk).values_list("version", flat=True)) == {1}
    upload.refresh_from_db()
    assert upload.applied_at is None


def test_a_page_shows_the_stale_row_with_the_name_and_offers_no_button(
    client, manager, colleague, agencies, open_tasks
):
    content = progress_workbook(manager, agencies["haihau"])
    colleague.last_name, colleague.first_name = "Nguyễn Thị", "Lan"
    colleague.save()
    task = open_tasks[0]
    services.task_update_fields(task=task, expected_version=1, author=colleague, title="Tên mới")
    client.force_login(manager)
    upload_file(client, agencies["haihau"], fill(content, ten_updates(open_tasks)))
    page = client.get(
        reverse("tasks_app:progress-sheet-preview", args=[SheetUpload.objects.get().pk])
    )
    text = page.content.decode()
    assert "Nguyễn Thị Lan" in text and task.code in text
    assert not page.context["may_apply"] and 'id="apply-sheet"' not in text


def test_a_task_changed_between_the_preview_and_the_record_undoes_everything(
    manager, colleague, agencies, open_tasks, monkeypatch
):
    """A change that slips in after the file was checked: the service's version check
    refuses it, and the updates already made in the transaction are undone."""
    filled = fill(progress_workbook(manager, agencies["haihau"]), ten_updates(open_tasks))
    upload = upload_store(
        kind=SheetUpload.Kind.PROGRESS,
        name="x.xlsx",
        content=filled,
        user=manager,
        agency=agencies["haihau"],
    )
    last = max(open_tasks, key=lambda t: t.code)
    record = services.status_update_record

    def record_after_a_colleague(**kwargs):
        if kwargs["task"].code == last.code:
            Task.objects.filter(pk=last.pk).update(version=5)
        return record(**kwargs)

    monkeypatch.setattr(services, "status_update_record", record_after_a_colleague)
    with pytest.raises(services.StaleVersionError):
        progress_apply(upload, manager)
    assert not StatusUpdate.objects.exists()
    assert set(Task.objects.exclude(pk=last.pk).values_list("version", flat=True)) == {1}
    upload.refresh_from_db()
    assert upload.applied_at is None


def test_bad_cells_are_named_by_sheet_row_column_and_header(manager, agencies, open_tasks):
    codes = sorted(t.code for t in open_tasks)
    content = fill(
        progress_workbook(manager, agencies["haihau"]),
        {
            codes[0]: {NEW_STATE: IN_PROGRESS, PROGRESS: 150},
            codes[1]: {NEW_STATE: AWAITING, COMPLETED_ON: "31/02/2022", RESULT: "Xong"},
            codes[2]: {NEW_STATE: AWAITING, COMPLETED_ON: "20/05/2022", RESULT: "Xong"},
            codes[3]: {NEW_STATE: "Đã xong rồi"},
            codes[4]: {NEW_STATE: AWAITING, COMPLETED_ON: "10/05/2022"},
            codes[5]: {NEW_STATE: IN_PROGRESS, PROGRESS: 30},
        },
    )
    preview = progress_preview(content, "x.xlsx", manager, agencies["haihau"])
    errors = {error.cell: error for error in preview.errors}
    assert set(errors) == {
        "Tiến độ!H2",
        "Tiến độ!I3",
        "Tiến độ!I4",
        "Tiến độ!G5",
        "Tiến độ!J6",
    }
    assert str(errors["Tiến độ!H2"]) == (
        "Trang “Tiến độ”, dòng 2, cột H (Tiến độ (%)): Tiến độ phải trong khoảng từ 0 đến 100%."
    )
    assert "31/02/2022" in str(errors["Tiến độ!I3"])
    assert errors["Tiến độ!I3"].header == "Ngày hoàn thành"
    assert "không được sau ngày hiện tại" in errors["Tiến độ!I4"].message
    assert "Đã xong rồi" in errors["Tiến độ!G5"].message
    assert errors["Tiến độ!J6"].header == "Kết quả"
    assert len(preview.updates) == 1 and not preview.can_apply


def test_a_code_of_another_agency_a_duplicate_and_an_unknown_code_are_refused(
    manager, agencies, open_tasks, make_task
):
    hidden = make_task(code="GT-01", lead_agency=agencies["giaothuy"])
    commune = make_task(code="HT-01", lead_agency=agencies["haitrung"])
    content = progress_workbook(manager, agencies["haihau"])
    content = fill(content, {"HH-01": {NEW_STATE: IN_PROGRESS, PROGRESS: 20}})
    content = add_row(content, [hidden.code, "", "", 1, "", 0, IN_PROGRESS, 20])
    content = add_row(content, [commune.code, "", "", 1, "", 0, IN_PROGRESS, 20])
    content = add_row(content, ["HH-01", "", "", 1, "", 0, IN_PROGRESS, 30])
    content = add_row(content, ["KHONG-CO", "", "", 1, "", 0, IN_PROGRESS, 30])
    preview = progress_preview(content, "x.xlsx", manager, agencies["haihau"])
    messages = {error.cell: error.message for error in preview.errors}
    assert set(messages) == {"Tiến độ!A12", "Tiến độ!A13", "Tiến độ!A14", "Tiến độ!A15"}
    # A hidden task is refused as unknown: its existence is not revealed.
    assert messages["Tiến độ!A12"] == messages["Tiến độ!A15"].replace("KHONG-CO", "GT-01")
    assert "do Xã Hải Trung chủ trì" in messages["Tiến độ!A13"]
    assert "dòng 2" in messages["Tiến độ!A14"]
    assert not preview.can_apply


def test_a_formula_is_refused_at_upload_and_nothing_is_kept(client, manager, agencies, open_tasks):
    content = fill(
        progress_workbook(manager, agencies["haihau"]),
        {"HH-01": {NEW_STATE: IN_PROGRESS, PROGRESS: "=10*5"}},
    )
    client.force_login(manager)
    response = upload_file(client, agencies["haihau"], content)
    assert response.status_code == 400
    (error,) = response.context["file_errors"]
    assert error.cell == "Tiến độ!H2" and "=10*5" in error.message
    assert not SheetUpload.objects.exists()


def test_a_macro_workbook_and_a_sheet_without_its_columns_are_refused(
    client, manager, agencies, open_tasks
):
    client.force_login(manager)
    content = progress_workbook(manager, agencies["haihau"])
    response = upload_file(client, agencies["haihau"], content, name="tien-do.xlsm")
    assert "macro" in str(response.context["file_errors"][0])
    workbook = load_workbook(io.BytesIO(content))
    workbook[SHEET].delete_cols(4)  # Phiên bản
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload_file(client, agencies["haihau"], buffer.getvalue())
    assert "Phiên bản" in str(response.context["file_errors"][0])
    assert not SheetUpload.objects.exists()


def test_recording_a_file_twice_is_refused(client, manager, agencies, open_tasks):
    filled = fill(progress_workbook(manager, agencies["haihau"]), ten_updates(open_tasks))
    upload = upload_store(
        kind=SheetUpload.Kind.PROGRESS,
        name="x.xlsx",
        content=filled,
        user=manager,
        agency=agencies["haihau"],
    )
    assert progress_apply(upload, manager)["updates"] == 10
    with pytest.raises(SheetNotApplied):
        progress_apply(SheetUpload.objects.get(pk=upload.pk), manager)
    client.force_login(manager)
    response = client.post(reverse("tasks_app:progress-sheet-preview", args=[upload.pk]))
    assert response.status_code == 409
    assert "đã được ghi nhận" in response.context["refusal"]
    assert StatusUpdate.objects.count() == 10


def test_only_the_uploader_or_a_monitor_sees_an_upload(
    client, manager, colleague, monitor, outsider, agencies, open_tasks
):
    filled = fill(progress_workbook(manager, agencies["haihau"]), ten_updates(open_tasks))
    upload = upload_store(
        kind=SheetUpload.Kind.PROGRESS,
        name="x.xlsx",
        content=filled,
        user=manager,
        agency=agencies["haihau"],
    )
    url = reverse("tasks_app:progress-sheet-preview", args=[upload.pk])
    for other in (colleague, outsider):
        client.force_login(other)
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    client.force_login(monitor)
    page = client.get(url)
    assert page.status_code == 200 and not page.context["may_apply"]
    assert client.post(url).status_code == 403
    assert not StatusUpdate.objects.exists()
    # A sheet is downloaded only for an agency one reports for.
    client.force_login(outsider)
    download = reverse("tasks_app:progress-sheet-download", args=[agencies["haihau"].pk])
    assert client.get(download).status_code == 404


def test_a_commune_officer_of_two_agencies_downloads_each_agency_s_sheet(
    client, agencies, make_task
):
    person = UserFactory(username="both")
    MembershipFactory(user=person, agency=agencies["haihau"], role=Role.OFFICER)
    MembershipFactory(user=person, agency=agencies["haitrung"], role=Role.MANAGER)
    make_task(code="HH-01")
    make_task(code="HT-01", lead_agency=agencies["haitrung"])
    client.force_login(person)
    page = client.get(reverse("tasks_app:progress-sheet"))
    assert [a.code for a in page.context["agencies"]] == ["UBND_HAIHAU", "HH_HAITRUNG"]
    for agency, code in ((agencies["haihau"], "HH-01"), (agencies["haitrung"], "HT-01")):
        response = client.get(reverse("tasks_app:progress-sheet-download", args=[agency.pk]))
        rows = sheet_rows(b"".join(response.streaming_content))
        assert [row["Mã nhiệm vụ"] for row in rows] == [code]


@pytest.mark.parametrize("count", [5, 25])
def test_the_preview_reads_the_tasks_in_a_constant_number_of_queries(
    count, manager, colleague, agencies, make_task, django_assert_max_num_queries
):
    tasks = [make_task(code=f"Q-{n:02d}") for n in range(count)]
    content = progress_workbook(manager, agencies["haihau"])
    # Two stale rows: who changed them is read in constant queries too.
    for task in tasks[:2]:
        services.status_update_record(
            task=task, author=colleague, state=TaskState.IN_PROGRESS, progress=5
        )
    content = fill(content, {t.code: {NEW_STATE: IN_PROGRESS, PROGRESS: 50} for t in tasks})
    fresh = type(manager).objects.get(pk=manager.pk)
    with django_assert_max_num_queries(6):
        preview = progress_preview(content, "x.xlsx", fresh, agencies["haihau"])
    assert len(preview.updates) == count - 2 and len(preview.stale) == 2
    assert all(row.stale.author == "colleague" for row in preview.stale)


def test_the_page_lists_the_states_an_agency_may_choose(client, manager, agencies):
    client.force_login(manager)
    text = client.get(reverse("tasks_app:progress-sheet")).content.decode()
    assert IN_PROGRESS in text and AWAITING in text
    assert progress_sheet.state_labels()[TaskState.IN_PROGRESS] == IN_PROGRESS
