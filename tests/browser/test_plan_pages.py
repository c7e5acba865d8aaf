"""The monitoring agency's plan pages in a real browser (Debian's chromium, headless).

sotttt (a monitor) creates a plan, adds a priority area and a task, and splits the task to
two districts; each district's manager then finds their own part in their task list. The
plan page fits a 360 px phone without sideways scrolling. Screenshots of the plan page go to
screenshots/ at the repository root.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tasks_app.models import Plan, Task
from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.django_db(transaction=True)


def no_sideways_scroll(page: Page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_sotttt_authors_a_plan_and_splits_a_task_to_two_districts(
    page: Page, live_server, login, demo, agencies, screenshots_dir
):
    login("sotttt")
    # The menu leads to the plans.
    page.click("#main-nav a[href='/plans/']")
    page.wait_for_url(f"{live_server.url}/plans/")

    # 1. A new plan: the province's People's Committee is already chosen as the issuer.
    page.click("a[href='/plans/new/']")
    expect(page.locator("#id_issuing_agency")).to_have_value(str(agencies["province"].pk))
    page.fill("#id_code", "CDS-2027")
    page.fill("#id_title", "Kế hoạch chuyển đổi số tỉnh Nam Định năm 2027")
    page.fill("#id_year", "2027")
    page.fill("#id_number", "15/KH-UBND")
    # The picker's filter box finds the monitoring agency without diacritics.
    page.fill("#id_monitor_agency_filter", "so thong tin")
    page.select_option("#id_monitor_agency", str(agencies["stttt"].pk))
    page.click("form.plan-form button[type=submit]")
    plan = Plan.objects.get(code="CDS-2027")
    page.wait_for_url(f"{live_server.url}/plans/{plan.pk}/")

    # 2. A priority area.
    page.click("#add-area")
    page.fill("#id_code", "CQS")
    page.fill("#id_name", "Phát triển chính quyền số")
    page.click("form.area-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/plans/{plan.pk}/#areas$"))
    expect(page.locator("#areas-section")).to_contain_text("Phát triển chính quyền số")

    # 3. A task led by the monitoring agency itself.
    page.click("#add-task")
    page.fill("#id_code", "CQS-01")
    page.fill("#id_title", "Triển khai họp trực tuyến đến cấp huyện")
    page.select_option("#id_priority_area", label="Phát triển chính quyền số")
    page.select_option("#id_lead_agency", str(agencies["stttt"].pk))
    page.fill("#id_assigned_on", "2027-01-15")
    page.fill("#id_due", "2027-06-30")
    page.click("form.task-form button[type=submit]")
    task = Task.objects.get(plan=plan, code="CQS-01")
    page.wait_for_url(f"{live_server.url}/tasks/{task.pk}/")

    # 4. Split it to the two districts: the codes are shown before anything is created.
    page.click("#task-split-link")
    page.select_option("#id_agencies", [str(agencies["haihau"].pk), str(agencies["giaothuy"].pk)])
    page.click("form.task-form button[name=preview]")
    preview = page.locator("#split-preview")
    expect(preview).to_contain_text("CQS-01.UBND_HAIHAU")
    expect(preview).to_contain_text("CQS-01.UBND_GIAOTHUY")
    assert not task.children.exists()
    page.click("#confirm-split")
    page.wait_for_url(f"{live_server.url}/tasks/{task.pk}/")
    expect(page.locator("#children-heading")).to_be_visible()
    assert sorted(task.children.values_list("code", flat=True)) == [
        "CQS-01.UBND_GIAOTHUY",
        "CQS-01.UBND_HAIHAU",
    ]

    # The plan page lists the task with its children, and fits a phone.
    page.goto(f"{live_server.url}/plans/{plan.pk}/")
    expect(page.locator("#plan-tasks tr.task-child")).to_have_count(2)
    page.screenshot(path=str(screenshots_dir / "plan_detail_1280.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.reload()
    assert no_sideways_scroll(page)
    page.screenshot(path=str(screenshots_dir / "plan_detail_360.png"), full_page=True)
    page.set_viewport_size(DESKTOP)

    # 5. Each district's manager sees their own part, and not the other district's.
    page.context.clear_cookies()
    for username, mine, theirs in (
        ("haihau", "CQS-01.UBND_HAIHAU", "CQS-01.UBND_GIAOTHUY"),
        ("giaothuy", "CQS-01.UBND_GIAOTHUY", "CQS-01.UBND_HAIHAU"),
    ):
        login(username)
        page.fill("#id_q", "CQS-01")
        results = page.locator("#task-results")
        expect(results).to_contain_text(mine)
        expect(results).not_to_contain_text(theirs)
        page.context.clear_cookies()


def test_a_district_manager_is_refused_the_plan_pages(page: Page, live_server, login, demo):
    login("haihau")
    expect(page.locator("#main-nav a[href='/plans/']")).to_have_count(0)
    assert page.goto(f"{live_server.url}/plans/").status == 403
