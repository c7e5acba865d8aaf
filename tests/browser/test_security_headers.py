"""The Content-Security-Policy in a real browser (Debian's chromium, headless).

sotttt (the monitoring agency, also given the admin here) goes through the main pages: the
login page, the task list with a filter that htmx swaps in, a task page, the dashboard with
its charts and htmx trend, the plan pages, the report archive, the admin and the API docs
(Swagger UI). Chromium must report no CSP violation (`securitypolicyviolation` events), no
console error or warning and no script error on any of them.
"""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.django_db(transaction=True)


def visit(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    assert "Content-Security-Policy" in {name.title() for name in response.headers}, url
    page.wait_for_load_state("load")


def test_the_main_pages_run_under_the_policy_without_a_violation(
    page: Page, live_server, login, demo, problems
):
    base = live_server.url
    monitor = demo["monitor"]
    monitor.is_staff = monitor.is_superuser = True
    monitor.save()

    visit(page, f"{base}/accounts/login/")
    login("sotttt")

    # Task list: the filter is swapped in by htmx, without reloading the page.
    visit(page, f"{base}/tasks/")
    assert page.evaluate("typeof window.htmx") == "object"
    page.evaluate("window.notReloaded = true")
    rows = page.locator("#task-results tbody tr")
    expect(rows.first).to_be_visible()
    everything = rows.count()
    page.select_option("#id_priority_area", label="Phát triển chính quyền điện tử, chính quyền số")
    expect(page).to_have_url(re.compile(r"priority_area=\d+"))
    expect(rows).not_to_have_count(everything)
    assert rows.count() > 0
    expect(page.locator("#task-results")).to_contain_text("CQDT-01")
    expect(page.locator("#task-results")).not_to_contain_text("DTTM-")
    assert page.evaluate("window.notReloaded") is True

    # A task page.
    task = demo["one_stop"]
    visit(page, f"{base}/tasks/{task.pk}/")
    expect(page.locator("h1")).to_have_text(task.title)

    # The dashboard: inline SVG charts, the trend fetched by htmx, a filter swapped in.
    visit(page, f"{base}/dashboard/")
    expect(page.locator("svg[role=img]").first).to_be_visible()
    expect(page.locator("#dashboard-trend svg")).to_be_visible()
    page.select_option("#id_priority_area", label="Xây dựng đô thị thông minh")
    expect(page).to_have_url(re.compile(r"priority_area=\d+"))
    expect(page.locator("#dashboard-trend svg")).to_be_visible()

    # The plan pages and the report archive.
    visit(page, f"{base}/plans/")
    visit(page, f"{base}/plans/{task.plan_id}/")
    visit(page, f"{base}/reports/")

    # The admin: its index and a task's change form (widgets, inlines, scripts).
    visit(page, f"{base}/admin/")
    visit(page, f"{base}/admin/tasks_app/task/")
    visit(page, f"{base}/admin/tasks_app/task/{task.pk}/change/")
    expect(page.locator("#task_form")).to_be_visible()

    visit(page, f"{base}/api/docs/")
    expect(page.locator(".swagger-ui .info")).to_be_visible()
    assert problems == []
