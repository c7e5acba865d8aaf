"""Browser tests: Debian's chromium, headless, driven by Playwright against pytest-django's
live server (which also serves the static files, node_modules assets included).

Playwright's sync API runs an event loop in the test thread, so Django would refuse ORM
calls there; DJANGO_ALLOW_ASYNC_UNSAFE lets the tests build their data and check results.
The live server runs in another thread, so the tests use django_db(transaction=True).

The accounts mirror the demo ones (`haihau`, `giaothuy`; password demo-2022), built here so
the tests do not depend on the demo loader.
"""

import datetime
import os
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from tasks_app import services  # noqa: E402
from tasks_app.choices import Role, TaskState  # noqa: E402
from tests.factories import (  # noqa: E402
    MembershipFactory,
    PlanFactory,
    PriorityAreaFactory,
    TaskFactory,
    UserFactory,
    asked_in_time,
)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Flags for a container without a GPU, a sandbox or network access (ENVIRONMENT.md).
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]
PASSWORD = "demo-2022"
SCREENSHOTS = Path(settings.BASE_DIR) / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not shutil.which(CHROMIUM):
        pytest.fail(
            f"No chromium at {CHROMIUM}: install Debian's package (apt-get install chromium) "
            "or set CHROMIUM_PATH."
        )
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_FLAGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # Vietnamese first, as the users see it; dates shown in the product's time zone.
    return {
        **browser_context_args,
        "locale": "vi-VN",
        "timezone_id": "Asia/Ho_Chi_Minh",
        "viewport": DESKTOP,
    }


@pytest.fixture
def screenshots_dir():
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(autouse=True)
def _plain_http_cookies(settings):
    # The live server speaks plain http; secure-only cookies would not come back.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture
def login(page, live_server):
    """Log in through the login page, as a person would."""

    def do(username: str) -> None:
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("main form button[type=submit]")
        # The leadership lands on the dashboard, everyone else on the task list.
        page.wait_for_url(re.compile(rf"^{re.escape(live_server.url)}/(tasks|dashboard)/"))

    return do


def person(username, first, last, agency, role, **membership):
    """A user who logs in with PASSWORD, holding `role` in `agency` (`membership`: more
    fields of the membership, e.g. valid_from). Vietnamese names as the demo accounts store
    them: first_name is the given name (tên), last_name the family and middle names."""
    user = UserFactory(username=username, first_name=first, last_name=last, password=PASSWORD)
    MembershipFactory(user=user, agency=agency, role=role, **membership)
    return user


@pytest.fixture
def demo(agencies):
    """A small, realistic picture of Hải Hậu's tasks at today's date: one task in each
    report category, an extended one, one it coordinates, and a Giao Thủy task it must not
    see. Returns the people and the tasks the tests use."""
    today = timezone.localdate()

    def days(n):
        return today + datetime.timedelta(days=n)

    haihau = person("haihau", "Hậu", "Trần Văn", agencies["haihau"], Role.MANAGER)
    officer = person("hh_canbo", "Lan", "Nguyễn Thị", agencies["haihau"], Role.OFFICER)
    giaothuy = person("giaothuy", "Thủy", "Phạm Văn", agencies["giaothuy"], Role.MANAGER)
    monitor = person("sotttt", "Minh", "Lê Văn", agencies["stttt"], Role.MONITOR)

    plan = PlanFactory(
        code="CDS-ND",
        title=f"Kế hoạch chuyển đổi số tỉnh Nam Định năm {today.year}",
        issuing_agency=agencies["province"],
        monitor_agency=agencies["stttt"],
        period_start=days(-200),
        period_end=days(200),
    )
    cqdt = PriorityAreaFactory(
        plan=plan, code="CQDT", name="Phát triển chính quyền điện tử, chính quyền số", order=1
    )
    dttm = PriorityAreaFactory(plan=plan, code="DTTM", name="Xây dựng đô thị thông minh", order=2)
    ntcds = PriorityAreaFactory(
        plan=plan, code="NTCDS", name="Nâng cao nhận thức về chuyển đổi số", order=3
    )

    def task(code, title, area, lead=None, due=None, **kwargs):
        return TaskFactory(
            plan=plan,
            priority_area=area,
            code=code,
            title=title,
            lead_agency=lead or agencies["haihau"],
            assigned_on=days(-180),
            original_due=due,
            due=due,
            **kwargs,
        )

    def report(t, progress, state=TaskState.IN_PROGRESS, **kwargs):
        services.status_update_record(
            task=t,
            author=haihau,
            agency=t.lead_agency,
            state=state,
            progress=progress,
            **kwargs,
        )

    one_stop = task(
        "CQDT-01",
        "Triển khai hệ thống thông tin giải quyết thủ tục hành chính cấp huyện",
        cqdt,
        due=days(20),
        expected_output="Hệ thống vận hành tại bộ phận một cửa huyện và 34 xã, thị trấn",
        kpi_target=100,
        kpi_unit="% thủ tục tiếp nhận trực tuyến",
    )
    one_stop.coordinating_agencies.set([agencies["stttt"]])
    report(one_stop, 30, result="Đã cài đặt phần mềm tại bộ phận một cửa huyện", kpi_actual=35)

    digitise = task(
        "CQDT-02", "Số hóa kết quả giải quyết thủ tục hành chính còn hiệu lực", cqdt, due=days(-12)
    )
    report(digitise, 70, result="Đã số hóa 70% hồ sơ", difficulties="Thiếu máy quét")

    civil = task(
        "CQDT-03",
        "Xây dựng cơ sở dữ liệu hộ tịch điện tử xã Hải Trung",
        cqdt,
        lead=agencies["haitrung"],
        due=days(45),
    )

    training = task(
        "NTCDS-01", "Tập huấn kỹ năng số cho cán bộ, công chức cấp xã", ntcds, due=days(-40)
    )
    report(
        training,
        100,
        state=TaskState.COMPLETED,
        completed_on=days(-45),
        result="Đã tập huấn 3 lớp cho 210 cán bộ",
    )

    wifi = task(
        "DTTM-01", "Phủ sóng wifi miễn phí tại trung tâm hành chính huyện", dttm, due=days(-30)
    )
    report(wifi, 100, state=TaskState.COMPLETED, completed_on=days(-10), result="Đã lắp 12 điểm")

    outreach = task(
        "NTCDS-02", "Tuyên truyền về chuyển đổi số trên hệ thống thông tin cơ sở", ntcds
    )
    report(outreach, 50, result="Phát 24 tin bài trên đài truyền thanh")

    camera = task(
        "DTTM-02", "Lắp đặt camera giám sát an ninh trật tự thị trấn Yên Định", dttm, due=days(-5)
    )
    extension = services.extension_request(
        task=camera,
        requested_by=haihau,
        proposed_due=days(25),
        reason="Chờ bố trí kinh phí",
        requested_at=asked_in_time(camera),  # asked on the due date, decided today
    )
    services.extension_approve(extension=extension, decided_by=monitor)
    report(camera, 40, result="Đã lắp 8/20 camera")

    ioc = task(
        "DTTM-03",
        "Xây dựng Trung tâm giám sát, điều hành đô thị thông minh tỉnh",
        dttm,
        lead=agencies["stttt"],
        due=days(100),
    )
    ioc.coordinating_agencies.set([agencies["haihau"], agencies["giaothuy"]])

    hidden = task(
        "CQDT-09",
        "Số hóa hồ sơ đất đai huyện Giao Thủy",
        cqdt,
        lead=agencies["giaothuy"],
        due=days(60),
    )
    return {
        "haihau": haihau,
        "officer": officer,
        "giaothuy": giaothuy,
        "monitor": monitor,
        "one_stop": one_stop,
        "digitise": digitise,
        "civil": civil,
        "hidden": hidden,
    }


# Every violation the page sees is passed to Python; init scripts run before the page's own
# and are not subject to its policy.
LISTEN_FOR_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.reportViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline"} on ${location.pathname}`
  );
});
"""


@pytest.fixture
def problems(page):
    """Violations, console errors and warnings, and uncaught script errors of every page."""
    found: list[str] = []
    page.expose_function("reportViolation", lambda text: found.append(f"CSP: {text}"))
    page.add_init_script(LISTEN_FOR_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            found.append(f"console {message.type}: {message.text} ({page.url})")
            if message.type in ("error", "warning")
            else None
        ),
    )
    page.on("pageerror", lambda error: found.append(f"script error: {error} ({page.url})"))
    return found
