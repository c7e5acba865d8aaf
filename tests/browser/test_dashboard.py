"""The leadership dashboard in a real browser (Debian's chromium, headless).

`lanhdao` (provincial leadership) opens the dashboard of the demo plan at 30/06/2022,
changes a filter (htmx swaps the body in), waits for the trend fragment, and clicks from a
number to the tasks behind it. Screenshots go to screenshots/ (gitignored):
dashboard_2022-06-30_1280.png, dashboard_2022-06-30_360.png, dashboard_area_filter.png,
dashboard_to_tasks.png.
"""

import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.django_db(transaction=True)

PLAN_FILE = Path(settings.BASE_DIR) / "data" / "plan_2022.yaml"


@pytest.fixture
def demo_plan_loaded():
    call_command("load_plan", str(PLAN_FILE), "--demo", stdout=io.StringIO())


def test_leader_opens_the_dashboard_at_30_june_and_clicks_through_to_the_tasks(
    page: Page, live_server, login, demo_plan_loaded, screenshots_dir
):
    login("lanhdao")
    page.goto(f"{live_server.url}/dashboard/?as_of=2022-06-30")

    # Headline figures at 30/06/2022 (worked out by hand in tests/reports/test_selectors.py).
    expect(page.locator(".figure-total .figure-value")).to_have_text("61")
    expect(page.locator(".figure-in_progress .figure-value")).to_have_text("40")
    expect(page.locator(".figure-not_started .figure-value")).to_have_text("13")
    expect(page.locator(".figure-overdue .figure-value")).to_have_text("1")
    expect(page.locator(".computed-at")).to_contain_text(re.compile(r"\d\d:\d\d \d\d/\d\d/\d{4}"))
    # The charts are inline SVG with a title, and the trend arrives by htmx.
    expect(page.locator("svg[role=img] > title").first).not_to_be_empty()
    expect(page.locator("#dashboard-trend svg")).to_be_visible()
    for label, size in (("1280", DESKTOP), ("360", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(
            path=str(screenshots_dir / f"dashboard_2022-06-30_{label}.png"), full_page=True
        )
    page.set_viewport_size(DESKTOP)

    # A filter refreshes the body in place (htmx) and keeps the address shareable.
    page.select_option(
        "#id_priority_area",
        label="Thông tin tuyên truyền, phát ngôn và cung cấp thông tin cho báo chí",
    )
    expect(page).to_have_url(re.compile(r"priority_area=\d+"))
    expect(page.locator(".figure-total .figure-value")).to_have_text("8")
    page.screenshot(path=str(screenshots_dir / "dashboard_area_filter.png"), full_page=True)

    # Click the overdue count of the most overdue agency: the task list behind it.
    link = page.locator("a[data-most-overdue]")
    expect(link).to_contain_text("Sở TT&TT")
    link.click()
    page.wait_for_url(re.compile(r"/tasks/\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["category"] == ["overdue"]
    assert query["as_of"] == ["2022-06-30"]
    assert query["leaves"] == ["1"]
    assert "lead_agency" in query and "priority_area" in query
    expect(page.locator("main")).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "dashboard_to_tasks.png"), full_page=True)


def test_leader_lands_on_the_dashboard_and_reaches_the_most_overdue_agencys_tasks_in_one_click(
    page: Page, live_server, login, demo_plan_loaded, screenshots_dir
):
    login("lanhdao")  # lands on the dashboard, today
    expect(page).to_have_url(f"{live_server.url}/dashboard/")
    expect(page.locator(".computed-at")).to_be_visible()
    # The leader's numbers cover the whole plan: no "your agency only" note.
    expect(page.locator(".computed-at")).not_to_contain_text("·")
    expect(page.locator("#dashboard-trend svg")).to_be_visible()
    page.screenshot(path=str(screenshots_dir / "dashboard_today_1280.png"), full_page=True)
    page.click("a[data-most-overdue]")  # one click: that agency's overdue tasks
    page.wait_for_url(re.compile(r"/tasks/\?"))
    query = parse_qs(urlsplit(page.url).query)
    assert query["category"] == ["overdue"] and "lead_agency" in query
