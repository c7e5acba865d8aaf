"""The 2025 reorganisation in a real browser (issue 14's "done when"): the monitor sees which
tasks still need a new owner and hands them over; the manager of a new commune logs in,
finds the work its predecessors left open and carries it on.

The map is tests/conftest.py's `map_2025`: huyện Hải Hậu (abolished) and xã Hải Trung
(merged into xã Hải Hậu) ended on 30/06/2025; today is after that day.
"""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tasks_app import services
from tasks_app.choices import Role, TaskState
from tasks_app.models import StatusUpdate, Task
from tests.browser.conftest import person
from tests.conftest import REFORM_2025
from tests.factories import (
    PlanFactory,
    PriorityAreaFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def handover(map_2025):
    """This year's plan with work left by agencies that no longer exist: an open task of the
    abolished district, an open and a completed one of the merged commune, an open one of
    Giao Thủy; the province's monitor and the new commune's manager."""
    today = timezone.localdate()
    monitor = person("sotttt", "Minh", "Lê Văn", map_2025["stttt"], Role.MONITOR)
    manager = person(
        "xahaihau", "Hà", "Đặng Thu", map_2025["xa_haihau"], Role.MANAGER, valid_from=REFORM_2025
    )
    plan = PlanFactory(
        code="CDS-NB",
        issuing_agency=map_2025["province"],
        monitor_agency=map_2025["stttt"],
        period_start=datetime.date(2025, 1, 1),
        period_end=today + datetime.timedelta(days=200),
    )
    area = PriorityAreaFactory(plan=plan, code="CQS", name="Phát triển chính quyền số")

    def task(code, title, lead, **fields):
        due = fields.pop("due", today + datetime.timedelta(days=30))
        return TaskFactory(
            plan=plan,
            priority_area=area,
            code=code,
            title=title,
            lead_agency=map_2025[lead],
            assigned_on=datetime.date(2025, 2, 1),
            original_due=due,
            due=due,
            **fields,
        )

    tasks = {
        "district": task(
            "HH-01",
            "Số hóa hồ sơ địa chính huyện Hải Hậu",
            "haihau",
            state=TaskState.IN_PROGRESS,
            progress=40,
        ),
        "commune": task("HT-01", "Xây dựng cơ sở dữ liệu hộ tịch xã Hải Trung", "haitrung"),
        "closed": task(
            "HT-00",
            "Lắp đặt wifi công cộng tại trụ sở xã Hải Trung",
            "haitrung",
            due=datetime.date(2025, 5, 31),
            state=TaskState.COMPLETED,
            progress=100,
            completed_on=datetime.date(2025, 5, 20),
        ),
        "elsewhere": task("GT-01", "Tuyên truyền chuyển đổi số huyện Giao Thủy", "giaothuy"),
    }
    assert services.tasks_flag_orphaned(on=today) == 3
    return {"monitor": monitor, "manager": manager, **tasks}


def hand_over(page: Page, former, tasks, successor, reason: str) -> None:
    """In the group of the former lead agency: tick the tasks, choose the successor, give the
    reason, submit."""
    group = page.locator(f"#group-{former.pk}")
    for task in tasks:
        group.locator(f"#task-{task.pk}").check()
    page.select_option(f"#id_g{former.pk}_lead_agency", str(successor.pk))
    page.fill(f"#id_g{former.pk}_reason", reason)
    group.locator("button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()


def test_the_monitor_hands_over_and_the_new_commune_carries_on(
    page: Page, live_server, login, handover, map_2025
):
    district, commune, closed = handover["district"], handover["commune"], handover["closed"]
    xa_haihau = map_2025["xa_haihau"]

    # The monitor sees how many tasks need a new owner, and from which agencies.
    login("sotttt")
    nav = page.locator("a.nav-link[href='/tasks/reassign/']")
    expect(nav.locator(".badge")).to_contain_text("3")
    nav.click()
    page.wait_for_url(f"{live_server.url}/tasks/reassign/")
    expect(page.locator(".reassign-group")).to_have_count(3)
    # The merged commune's group names its successor.
    expect(page.locator(f"#group-{map_2025['haitrung'].pk} .suggested")).to_contain_text(
        "Xã Hải Hậu"
    )

    hand_over(
        page,
        map_2025["haitrung"],
        [commune],
        xa_haihau,
        "Xã Hải Trung hợp nhất vào xã Hải Hậu từ 01/07/2025.",
    )
    hand_over(
        page,
        map_2025["haihau"],
        [district],
        xa_haihau,
        "Huyện Hải Hậu kết thúc hoạt động; xã Hải Hậu tiếp nhận.",
    )
    # Giao Thủy's task is what is left to decide.
    expect(page.locator(".reassign-group")).to_have_count(1)
    expect(page.locator(f"#group-{map_2025['giaothuy'].pk}")).to_be_visible()
    expect(nav.locator(".badge")).to_contain_text("1")

    # The new commune's manager logs in and finds the work left open, and the merged
    # commune's closed task, but nothing of Giao Thủy.
    page.context.clear_cookies()
    login("xahaihau")
    page.goto(f"{live_server.url}/tasks/")
    results = page.locator("#task-results")
    for task in (district, commune, closed):
        expect(results.locator(f"a[href='/tasks/{task.pk}/']").first).to_be_visible()
    expect(results).not_to_contain_text("GT-01")

    # The handed-over task shows who handed it over and why, and takes a report.
    page.goto(f"{live_server.url}/tasks/{district.pk}/")
    expect(page.locator("body")).to_contain_text("Huyện Hải Hậu kết thúc hoạt động")
    page.click(f"a[href='/tasks/{district.pk}/progress/']")
    page.wait_for_url(f"{live_server.url}/tasks/{district.pk}/progress/")
    page.check(f"input[name=state][value={TaskState.IN_PROGRESS}]")
    page.fill("#id_progress", "65")
    page.fill("#id_result", "Xã Hải Hậu đã số hóa thêm 2.000 hồ sơ địa chính.")
    page.click("form.progress-form button[type=submit]")
    page.wait_for_url(re.compile(rf"/tasks/{district.pk}/#history$"))
    expect(page.locator(".timeline .timeline-item").first).to_contain_text("65%")
    update = StatusUpdate.objects.filter(task=district).latest()
    assert (update.author.username, update.agency_id, update.progress) == (
        "xahaihau",
        xa_haihau.pk,
        65,
    )

    # The predecessor's completed task is there to read, not to report on.
    page.goto(f"{live_server.url}/tasks/{closed.pk}/")
    expect(page.locator("h1")).to_have_text(closed.title)
    expect(page.locator(f"a[href='/tasks/{closed.pk}/progress/']")).to_have_count(0)
    assert Task.objects.get(pk=closed.pk).lead_agency == map_2025["haitrung"]
