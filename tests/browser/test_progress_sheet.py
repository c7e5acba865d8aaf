"""The progress sheet in a real browser: Hải Hậu's manager downloads the sheet of the
agency's 10 open tasks from the task list, fills it (openpyxl, as Excel would), uploads it,
sees the preview of 10 updates, records them, and the task list shows the new progress."""

import datetime
import re

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tasks_app.choices import Role
from tasks_app.models import StatusUpdate, Task
from tasks_app.progress_sheet import NEW_STATE, PROGRESS, RESULT, SHEET
from tests.browser.conftest import DESKTOP, PASSWORD, PHONE
from tests.factories import (
    MembershipFactory,
    PlanFactory,
    PriorityAreaFactory,
    TaskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ten_tasks(agencies):
    today = timezone.localdate()
    manager = UserFactory(
        username="haihau", first_name="Hậu", last_name="Trần Văn", password=PASSWORD
    )
    MembershipFactory(user=manager, agency=agencies["haihau"], role=Role.MANAGER)
    plan = PlanFactory(
        code="CDS-ND", issuing_agency=agencies["province"], monitor_agency=agencies["stttt"]
    )
    area = PriorityAreaFactory(plan=plan, code="CQDT", name="Chính quyền số")
    due = today + datetime.timedelta(days=60)
    return [
        TaskFactory(
            plan=plan,
            priority_area=area,
            code=f"CQDT-{n:02d}",
            title=f"Nhiệm vụ chuyển đổi số số {n}",
            lead_agency=agencies["haihau"],
            assigned_on=today - datetime.timedelta(days=100),
            original_due=due,
            due=due,
        )
        for n in range(1, 11)
    ]


def test_a_manager_reports_ten_tasks_with_the_downloaded_sheet(
    page: Page, live_server, login, agencies, ten_tasks, tmp_path, screenshots_dir
):
    login("haihau")
    page.click("#progress-sheet-link")
    page.wait_for_url(f"{live_server.url}/tasks/progress-sheet/")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(screenshots_dir / "progress_sheet_start_360.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    with page.expect_download() as download:
        page.click(f"#download-{agencies['haihau'].pk}")
    sheet_path = tmp_path / "tien-do.xlsx"
    download.value.save_as(sheet_path)
    assert download.value.suggested_filename.endswith(".xlsx")

    # The manager fills the sheet: 15%, 20%, … 60% for the ten tasks.
    workbook = load_workbook(sheet_path)
    sheet = workbook[SHEET]
    headers = {cell.value: cell.column for cell in sheet[1]}
    assert sheet.max_row == 11
    for row in range(2, 12):
        sheet.cell(row, headers[NEW_STATE], "Đang thực hiện")
        sheet.cell(row, headers[PROGRESS], 5 * row + 5)
        sheet.cell(row, headers[RESULT], f"Đã làm phần việc {row - 1}")
    workbook.save(sheet_path)

    page.set_input_files("#id_file", str(sheet_path))
    page.click("form.progress-sheet-upload button[type=submit]")
    page.wait_for_url(re.compile(r"/tasks/progress-sheet/\d+/$"))
    expect(page.locator("[data-count=updates]")).to_contain_text("10")
    expect(page.locator("#preview-updates tbody tr")).to_have_count(10)
    expect(page.locator("#preview-errors")).to_have_count(0)
    assert not StatusUpdate.objects.exists()
    # Usable on a phone: nothing wider than the screen.
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(screenshots_dir / "progress_sheet_preview_360.png"), full_page=True)
    page.set_viewport_size(DESKTOP)

    page.click("#apply-sheet")
    expect(page.locator("#applied")).to_be_visible()
    assert StatusUpdate.objects.count() == 10
    progress = dict(Task.objects.values_list("code", "progress"))
    assert progress == {f"CQDT-{n:02d}": 5 * (n + 1) + 5 for n in range(1, 11)}

    page.goto(f"{live_server.url}/tasks/")
    row = page.locator("#task-results tbody tr", has_text="CQDT-10")
    expect(row.locator("progress")).to_have_attribute("value", "60")
    row = page.locator("#task-results tbody tr", has_text="CQDT-01")
    expect(row.locator("progress")).to_have_attribute("value", "15")
