"""Issue 13's whole path in a real browser: the monitor downloads the empty plan template,
fills it in as a Sở officer would (in Excel; here with openpyxl), uploads it, reads the
preview, applies it, then adjusts one task's due date and finds the change in the task's
history."""

import datetime
import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tasks_app.models import Plan, Task, TaskChange

pytestmark = pytest.mark.django_db(transaction=True)


def filled_template(template: bytes) -> bytes:
    """The downloaded template with a plan, one priority area and three tasks typed in."""
    book = load_workbook(io.BytesIO(template))
    plan = book["Kế hoạch"]
    values = {
        "Mã kế hoạch": "CDS-2027",
        "Tên kế hoạch": "Kế hoạch chuyển đổi số tỉnh Nam Định năm 2027",
        "Năm": 2027,
        "Số/ký hiệu": "20/KH-UBND",
        "Ngày ban hành": "15/01/2027",
        "Cơ quan ban hành (mã)": "UBND_TINH",
        "Cơ quan theo dõi (mã)": "STTTT",
    }
    for row in plan.iter_rows(min_row=2):
        if row[0].value in values:
            row[1].value = values[row[0].value]
    book["Lĩnh vực"].append(["CQS", "Phát triển chính quyền số", 1])
    tasks = book["Nhiệm vụ"]
    headers = [cell.value for cell in tasks[1]]
    for task in (
        {
            "Mã nhiệm vụ": "CQS-01",
            "Tên nhiệm vụ": "Triển khai họp trực tuyến đến cấp xã",
            "Mã lĩnh vực": "CQS",
            "Cơ quan chủ trì (mã)": "STTTT",
            "Cơ quan phối hợp (mã)": "UBND_HAIHAU",
            "Ngày giao": "15/01/2027",
            "Hạn hoàn thành": "30/06/2027",
        },
        {
            "Mã nhiệm vụ": "CQS-02",
            "Tên nhiệm vụ": "Số hóa hồ sơ một cửa cấp huyện",
            "Mã lĩnh vực": "CQS",
            "Cơ quan chủ trì (mã)": "UBND_HAIHAU",
            "Ngày giao": "15/01/2027",
            "Hạn hoàn thành": "30/09/2027",
        },
        {
            "Mã nhiệm vụ": "CQS-03",
            "Tên nhiệm vụ": "Bảo đảm an toàn thông tin",
            "Mã lĩnh vực": "CQS",
            "Cơ quan chủ trì (mã)": "STTTT",
            "Ngày giao": "15/01/2027",
            "Hạn hoàn thành": "Thường xuyên",
        },
    ):
        tasks.append([task.get(header) for header in headers])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_monitor_enters_a_plan_from_excel_and_adjusts_a_task(
    page: Page, live_server, login, demo, agencies, tmp_path, screenshots_dir
):
    login("sotttt")
    page.goto(f"{live_server.url}/plans/")

    # 1. The empty template, from the plans page.
    with page.expect_download() as download:
        page.click("a[href='/plans/template.xlsx']")
    download.value.save_as(tmp_path / "mau.xlsx")
    template = (tmp_path / "mau.xlsx").read_bytes()
    (tmp_path / "ke-hoach-2027.xlsx").write_bytes(filled_template(template))

    # 2. Upload: the preview shows what will be created, and nothing is written yet.
    page.click("#import-plan")
    page.set_input_files("input[type=file]", str(tmp_path / "ke-hoach-2027.xlsx"))
    page.click("main form[enctype] button[type=submit]")
    expect(page.locator("#import-summary")).to_be_visible()
    rows = page.locator("#task-rows")
    for code in ("CQS-01", "CQS-02", "CQS-03"):
        expect(rows).to_contain_text(code)
    expect(page.locator("#preview-errors")).to_have_count(0)
    assert not Plan.objects.filter(code="CDS-2027").exists()
    page.screenshot(path=str(screenshots_dir / "plan_import_preview_1280.png"), full_page=True)

    # 3. Apply: the plan and its tasks exist, and the plan page lists them.
    page.click("#apply-form button[type=submit]")
    plan = Plan.objects.get(code="CDS-2027")
    page.wait_for_url(f"{live_server.url}/plans/{plan.pk}/")
    expect(page.locator("#plan-tasks")).to_contain_text("CQS-02")
    assert plan.tasks.count() == 3
    task = Task.objects.get(plan=plan, code="CQS-01")
    assert task.due == datetime.date(2027, 6, 30)

    # 4. Adjust one task's due date, with the reason.
    page.goto(f"{live_server.url}/tasks/{task.pk}/")
    page.click("#task-due-link")
    page.fill("#id_due", "2027-08-31")
    page.fill("#id_reason", "Điều chỉnh theo Văn bản số 321/UBND-VP của UBND tỉnh")
    page.click("form.task-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/tasks/{task.pk}/(#changes)?$"))

    # 5. The change is in the task's history: old → new, the reason, who made it.
    history = page.locator("#changes-section")
    expect(history).to_contain_text("30/06/2027")
    expect(history).to_contain_text("31/08/2027")
    expect(history).to_contain_text("Văn bản số 321/UBND-VP")
    change = TaskChange.objects.get(task=task, field="due")
    assert change.author.username == "sotttt"
    task.refresh_from_db()
    assert (task.original_due, task.due) == (datetime.date(2027, 6, 30), datetime.date(2027, 8, 31))
