"""The staff pages in a real browser (Debian's chromium, headless).

The tests find things by ids, names and URLs rather than by text, so they pass whatever
the Vietnamese catalog says. They save screenshots of the task list and the task page at
phone (360 px) and desktop (1280 px) width into screenshots/ at the repository root.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from tasks_app.choices import TaskState
from tasks_app.models import StatusUpdate, Task
from tests.browser.conftest import DESKTOP, PHONE

pytestmark = pytest.mark.django_db(transaction=True)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def screenshot(page: Page, folder, name: str) -> None:
    """Save the whole page at desktop and at phone width, then go back to desktop."""
    for label, size in (("1280", DESKTOP), ("360", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(folder / f"{name}_{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def rows(page: Page):
    return page.locator("#task-results tbody tr")


def test_static_files_are_served_by_the_live_server(page: Page, live_server):
    for path in (
        "/static/vendor/bootstrap/css/bootstrap.min.css",
        "/static/vendor/htmx/htmx.min.js",
        "/static/css/app.css",
        "/static/js/app.js",
    ):
        response = page.request.get(f"{live_server.url}{path}")
        assert response.status == 200, path


def test_haihau_filters_opens_a_task_and_reports_60_percent_with_a_file(
    page: Page, live_server, login, demo, screenshots_dir, tmp_path
):
    login("haihau")
    # Its own tasks, its commune's and the one it coordinates; not Giao Thủy's.
    expect(rows(page)).to_have_count(8)
    expect(page.locator("#task-results")).not_to_contain_text("CQDT-09")
    # The styles and htmx were loaded.
    assert page.evaluate("typeof window.htmx") == "object"
    screenshot(page, screenshots_dir, "task_list")

    # Filter by priority area: htmx swaps the table in and the address keeps the filter.
    page.select_option("#id_priority_area", label="Phát triển chính quyền điện tử, chính quyền số")
    expect(rows(page)).to_have_count(3)
    expect(page).to_have_url(re.compile(r"priority_area=\d+"))
    # Search without diacritics.
    page.fill("#id_q", "giai quyet thu tuc hanh chinh cap huyen")
    expect(rows(page)).to_have_count(1)

    task = demo["one_stop"]
    page.click(f"#task-results a[href='/tasks/{task.pk}/']")
    page.wait_for_url(f"{live_server.url}/tasks/{task.pk}/")
    expect(page.locator("h1")).to_have_text(task.title)

    page.click(f"a[href='/tasks/{task.pk}/progress/']")
    page.wait_for_url(f"{live_server.url}/tasks/{task.pk}/progress/")
    page.check(f"input[name=state][value={TaskState.IN_PROGRESS}]")
    page.fill("#id_progress", "60")
    page.fill("#id_kpi_actual", "62")
    page.fill("#id_result", "Đã kết nối 20/34 xã, thị trấn với hệ thống một cửa điện tử")
    evidence = tmp_path / "bien-ban-kiem-tra.pdf"
    evidence.write_bytes(PDF)
    page.set_input_files("#id_evidence", str(evidence))
    page.click("form.progress-form button[type=submit]")

    page.wait_for_url(re.compile(rf"/tasks/{task.pk}/#history$"))
    newest = page.locator(".timeline .timeline-item").first
    expect(newest).to_contain_text("60%")
    expect(newest).to_contain_text("Đã kết nối 20/34 xã")
    link = newest.locator("a.evidence-link")
    expect(link).to_have_text("bien-ban-kiem-tra.pdf")
    expect(page.locator(".area-progress progress")).to_have_attribute("value", "60")

    # The file downloads through the permission-checked view.
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == "bien-ban-kiem-tra.pdf"

    update = StatusUpdate.objects.filter(task=task).latest()
    assert (update.progress, update.author.username) == (60, "haihau")
    assert [e.original_name for e in update.evidence.all()] == ["bien-ban-kiem-tra.pdf"]

    page.reload()
    screenshot(page, screenshots_dir, "task_detail")


def test_giaothuy_cannot_open_a_hai_hau_task(page: Page, live_server, login, demo, screenshots_dir):
    login("giaothuy")
    task = demo["one_stop"]
    expect(page.locator("#task-results")).not_to_contain_text(task.code)
    response = page.goto(f"{live_server.url}/tasks/{task.pk}/")
    assert response.status == 404
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text(task.title)
    page.screenshot(path=str(screenshots_dir / "not_found_1280.png"), full_page=True)
    # Nor its progress form, nor a way round through the file downloads.
    assert page.goto(f"{live_server.url}/tasks/{task.pk}/progress/").status == 404


def test_a_stale_progress_form_is_refused_and_shows_the_other_change(
    page: Page, live_server, login, demo, screenshots_dir
):
    from tasks_app import services

    login("haihau")
    task = demo["one_stop"]
    page.goto(f"{live_server.url}/tasks/{task.pk}/progress/")
    page.fill("#id_progress", "60")
    page.fill("#id_result", "Báo cáo của anh Hậu")

    # Meanwhile a colleague of the same agency saves the task.
    services.status_update_record(
        task=Task.objects.get(pk=task.pk),
        author=demo["officer"],
        agency=task.lead_agency,
        state=TaskState.IN_PROGRESS,
        progress=45,
        result="Cập nhật của chị Lan",
    )
    page.click("form.progress-form button[type=submit]")

    notice = page.locator("#stale-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Nguyễn Thị Lan")
    expect(notice).to_contain_text("45%")
    expect(notice).to_contain_text("Cập nhật của chị Lan")
    # The form keeps what haihau typed, and nothing of it was saved.
    expect(page.locator("#id_progress")).to_have_value("60")
    expect(page.locator("#id_result")).to_have_value("Báo cáo của anh Hậu")
    latest = StatusUpdate.objects.filter(task=task).latest()
    assert (latest.progress, latest.author.username) == (45, "hh_canbo")
    assert not StatusUpdate.objects.filter(task=task, progress=60).exists()
    screenshot(page, screenshots_dir, "stale_progress_form")


def test_filters_stay_in_the_grid_when_set_and_fold_away_on_a_phone(
    page: Page, live_server, login, demo
):
    login("haihau")
    page.goto(f"{live_server.url}/tasks/?category=overdue")
    expect(rows(page)).to_have_count(1)
    # Desktop: the filters share rows with the search box.
    search = page.locator("#id_q").bounding_box()
    area = page.locator("#id_priority_area").bounding_box()
    assert abs(search["y"] - area["y"]) < 2
    # Phone: only the search shows until the filter button opens the rest; with a filter
    # set they start open.
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/tasks/")
    expect(page.locator("#id_category")).to_be_hidden()
    page.click("button[data-bs-target='#more-filters']")
    expect(page.locator("#id_category")).to_be_visible()
    page.goto(f"{live_server.url}/tasks/?category=overdue")
    expect(page.locator("#id_category")).to_be_visible()
