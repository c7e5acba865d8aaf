"""The demo's present: a plan of the merged province (Ninh Bình, since 1 July 2025) for the
current year, with live work of today's agencies (`load_plan FILE --demo`).

Everything here is ILLUSTRATIVE: invented tasks and reports on the real names of the
agencies that exist since the 2025 reform (loaded by data/plan_2022.yaml), so that the
product opened on any day shows work in progress, due soon and overdue, not tasks four
years old. The dates are counted from the day it is loaded (`today`): the tasks were
assigned some months ago and were reported on in the last weeks. It is written through the
services, like every demo record, and once per year: when the year's plan exists already,
nothing is written.
"""

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from tasks_app import plan_services
from tasks_app.choices import TaskState
from tasks_app.models import Agency, Plan
from tasks_app.querysets import local_tz
from tasks_app.services import status_update_record, task_create

ISSUER, MONITOR = "NB_UBND_TINH", "NB_SKHCN"
# Months the tasks were assigned before today (clamped to the plan's year).
ASSIGNED_DAYS_AGO = 150

AREAS = (
    ("CQS", "Phát triển chính quyền số sau hợp nhất tỉnh"),
    ("HTDL", "Hạ tầng số, dữ liệu và an toàn thông tin"),
    ("XHS", "Phát triển xã hội số ở cấp xã"),
)


@dataclass(frozen=True)
class Report:
    """A report `days_ago` days before today: progress, or a completion `done_days_ago`."""

    days_ago: int
    progress: int
    text: str
    state: str = TaskState.IN_PROGRESS
    done_days_ago: int | None = None
    difficulties: str = ""


@dataclass(frozen=True)
class CurrentTask:
    code: str
    area: str
    lead: str
    title: str
    due_in: int | None  # days from today; None: a regular task
    reports: tuple[Report, ...] = ()
    coordinators: tuple[str, ...] = ()


def current_tasks() -> tuple[CurrentTask, ...]:
    """The year's tasks: every report category occurs among them on any day."""
    done = TaskState.COMPLETED
    return (
        CurrentTask(
            "01", "CQS", MONITOR,
            "Vận hành Trung tâm giám sát, điều hành thông minh (IOC) của tỉnh sau hợp nhất",
            25,
            (
                Report(60, 40, "Đã kết nối dữ liệu phản ánh hiện trường của ba tỉnh cũ."),
                Report(10, 75, "Đã đưa 12 chỉ tiêu kinh tế - xã hội lên bảng điều hành."),
            ),
        ),
        CurrentTask(
            "02", "CQS", MONITOR,
            "Hợp nhất Hệ thống thông tin giải quyết thủ tục hành chính của ba tỉnh cũ",
            -12,
            (
                Report(45, 50, "Đã chuyển đổi danh mục thủ tục hành chính dùng chung."),
                Report(
                    20, 80, "Đã chuyển 85% hồ sơ đang giải quyết sang hệ thống hợp nhất.",
                    difficulties="Dữ liệu hồ sơ của ba tỉnh cũ khác cấu trúc, phải làm sạch "
                    "thủ công.",
                ),
            ),
            ("NB_UBND_TINH",),
        ),
        CurrentTask(
            "03", "HTDL", MONITOR,
            "Cấp chứng thư chữ ký số cho cán bộ, công chức các xã mới thành lập",
            -30,
            (
                Report(50, 60, "Đã cấp 640 chứng thư số."),
                Report(
                    35, 100, "Đã cấp đủ chứng thư số cho cán bộ, công chức các xã.",
                    state=done, done_days_ago=35,
                ),
            ),
        ),
        CurrentTask(
            "04", "XHS", "NB_XA_HAIHAU",
            "Số hóa hồ sơ địa chính xã Hải Hậu sau sắp xếp đơn vị hành chính",
            60,
            (Report(5, 30, "Đã số hóa hồ sơ địa chính của thị trấn Yên Định cũ."),),
        ),
        CurrentTask(
            "05", "XHS", "NB_XA_HAIHAU",
            "Kiện toàn Tổ công nghệ số cộng đồng tại các thôn, tổ dân phố xã Hải Hậu",
            -5,
            (
                Report(30, 50, "Đã kiện toàn tổ ở 20 thôn."),
                Report(
                    3, 100, "Đã kiện toàn 41/41 Tổ công nghệ số cộng đồng.",
                    state=TaskState.AWAITING_CONFIRMATION, done_days_ago=6,
                ),
            ),
        ),
        CurrentTask(
            "06", "XHS", "NB_XA_HAIANH",
            "Tuyên truyền dịch vụ công trực tuyến toàn trình trên hệ thống truyền thanh xã",
            40,
        ),
        CurrentTask(
            "07", "XHS", "NB_XA_GIAOTHUY",
            "Chuyển đổi đài truyền thanh xã Giao Thủy sang ứng dụng công nghệ thông tin - "
            "viễn thông",
            90,
            (Report(12, 20, "Đã khảo sát hiện trạng 22 cụm loa."),),
        ),
        CurrentTask(
            "08", "HTDL", MONITOR,
            "Bảo đảm an toàn thông tin cho hệ thống thông tin dùng chung cấp xã",
            None,
            (Report(15, 50, "Đã giám sát an toàn thông tin cho 129 xã, phường."),),
        ),
        CurrentTask(
            "09", "CQS", MONITOR,
            "Bồi dưỡng kỹ năng số cho cán bộ, công chức cấp xã mới",
            -60,
            (
                Report(
                    50, 100, "Đã tổ chức 6 lớp bồi dưỡng cho 780 cán bộ, công chức.",
                    state=done, done_days_ago=50,
                ),
            ),
        ),
        CurrentTask(
            "10", "HTDL", "NB_XA_HAITIEN",
            "Kết nối dữ liệu dân cư phục vụ giải quyết thủ tục hành chính tại xã Hải Tiến",
            15,
            (Report(8, 60, "Đã kết nối và xác thực dữ liệu dân cư cho bộ phận một cửa."),),
            ("NB_SKHCN",),
        ),
    )  # fmt: skip


def current_plan_code(year: int) -> str:
    return f"CDS-NB-{year}"


def demo_current_load(*, today: datetime.date, users: dict) -> list[str]:
    """Create the current year's illustrative plan with its activity; lines for the
    operator. Does nothing (one line says so) when the year's plan exists already.
    `users` are the demo accounts by username (`skhcn` reports for the Sở, `xahaihau` for
    xã Hải Hậu; the other communes' reports are entered by the Sở)."""
    code = current_plan_code(today.year)
    if Plan.objects.filter(code=code).exists():
        return [_("Current-year demo plan {code}: already there.").format(code=code)]
    tasks = current_tasks()
    codes = {ISSUER, MONITOR} | {t.lead for t in tasks} | {c for t in tasks for c in t.coordinators}
    agencies = {a.code: a for a in Agency.objects.filter(code__in=codes)}
    start, end = plan_services.year_period(today.year)
    assigned = max(start, today - datetime.timedelta(days=ASSIGNED_DAYS_AGO))

    def day(days_ago: int) -> datetime.date:
        return max(assigned, today - datetime.timedelta(days=days_ago))

    with transaction.atomic():
        plan = plan_services.plan_create(
            code=code,
            title=_(
                "Plan for digital transformation of Ninh Bình province in {year} "
                "(illustrative demo data)"
            ).format(year=today.year),
            issuing_agency=agencies[ISSUER],
            monitor_agency=agencies[MONITOR],
            period_start=start,
            period_end=end,
            number=f"15/KH-UBND ({_('illustrative')})",
            issued_on=assigned,
            source_document=_("Illustrative demo data: not a real plan."),
        )
        areas = {
            area_code: plan_services.area_create(plan=plan, code=area_code, name=name)
            for area_code, name in AREAS
        }
        reports = 0
        for spec in tasks:
            due = None
            if spec.due_in is not None:
                due = max(assigned, today + datetime.timedelta(days=spec.due_in))
            task = task_create(
                plan=plan,
                priority_area=areas[spec.area],
                code=f"NB{today.year % 100:02d}-{spec.code}",
                title=spec.title,
                lead_agency=agencies[spec.lead],
                coordinating_agencies=[agencies[c] for c in spec.coordinators],
                assigned_on=assigned,
                due=due,
            )
            author = users["xahaihau" if spec.lead == "NB_XA_HAIHAU" else "skhcn"]
            for report in spec.reports:
                recorded = day(report.days_ago)
                status_update_record(
                    task=task,
                    author=author,
                    agency=task.lead_agency,
                    state=report.state,
                    progress=report.progress,
                    completed_on=(
                        day(report.done_days_ago) if report.done_days_ago is not None else None
                    ),
                    result=report.text,
                    difficulties=report.difficulties,
                    recorded_at=datetime.datetime.combine(
                        recorded, datetime.time(9), tzinfo=local_tz()
                    ),
                )
                reports += 1
    return [
        _(
            "Current-year demo plan {code} (illustrative): {tasks} tasks of today's agencies, "
            "{reports} reports in the last weeks."
        ).format(code=code, tasks=len(tasks), reports=reports)
    ]
