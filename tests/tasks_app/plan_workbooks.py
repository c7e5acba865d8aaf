"""What the plan workbook tests share: a plan with every kind of task, and workbook
editing helpers (test_plan_excel*.py, test_api_plan_import.py)."""

import datetime
import io
from decimal import Decimal

from openpyxl import load_workbook

from tasks_app import plan_excel, services
from tasks_app.models import (
    DeadlineExtension,
    DtiIndex,
    Plan,
    PriorityArea,
    SheetUpload,
    Task,
    TaskChange,
)
from tests.factories import PlanFactory, PriorityAreaFactory, TaskFactory


def make_plan(agencies):
    """KH-2026: two areas, a dated task with a coordinating agency and a KPI, a regular
    task, and a plan item split between two districts."""
    dti = DtiIndex.objects.create(edition=2022, code="the_che_so", name="Thể chế số")
    plan = PlanFactory(
        code="KH-2026",
        title="Kế hoạch chuyển đổi số năm 2026",
        number="25/KH-UBND",
        issuing_agency=agencies["province"],
        monitor_agency=agencies["stttt"],
        issued_on=datetime.date(2026, 1, 15),
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 12, 31),
    )
    gov = PriorityAreaFactory(plan=plan, code="CQS", name="Chính quyền số", order=1)
    PriorityAreaFactory(plan=plan, code="KTS", name="Kinh tế số", order=2)
    dated = TaskFactory(
        plan=plan,
        priority_area=gov,
        code="1",
        title="Triển khai nền tảng số",
        lead_agency=agencies["stttt"],
        assigned_on=datetime.date(2026, 1, 15),
        original_due=datetime.date(2026, 6, 30),
        kpi_target=Decimal("95.5"),
        kpi_unit="%",
        dti_index=dti,
        expected_output="Báo cáo\nkết quả",
    )
    dated.coordinating_agencies.set([agencies["haihau"]])
    TaskFactory(
        plan=plan,
        priority_area=gov,
        code="2",
        title="Duy trì cổng thông tin",
        lead_agency=agencies["stttt"],
        assigned_on=datetime.date(2026, 1, 15),
        original_due=None,
        due=None,
    )
    item = TaskFactory(
        plan=plan,
        priority_area=gov,
        code="3",
        title="Số hóa hồ sơ",
        lead_agency=agencies["stttt"],
        assigned_on=datetime.date(2026, 1, 15),
        original_due=datetime.date(2026, 9, 30),
    )
    services.task_split(task=item, agencies=[agencies["haihau"], agencies["giaothuy"]])
    return plan


def edit(content: bytes, changes: dict[str, dict[str, object]]) -> bytes:
    """The workbook with cells changed: {"Nhiệm vụ": {"D2": "X"}}."""
    workbook = load_workbook(io.BytesIO(content))
    for sheet, cells in changes.items():
        for cell, value in cells.items():
            workbook[sheet][cell] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def task_row(content: bytes, code: str) -> int:
    sheet = load_workbook(io.BytesIO(content))["Nhiệm vụ"]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == code:
            return row[0].row
    raise AssertionError(code)


def store(content: bytes, user, name: str = "ke-hoach.xlsx") -> SheetUpload:
    upload, _preview = plan_excel.plan_upload_store(content=content, name=name, user=user)
    return upload


def snapshot():
    return (
        sorted(Task.objects.values_list("code", "version", "due", "lead_agency_id", "title")),
        TaskChange.objects.count(),
        DeadlineExtension.objects.count(),
        sorted(PriorityArea.objects.values_list("code", "name", "order")),
        sorted(Plan.objects.values_list("code", "title", "number", "period_start")),
    )
