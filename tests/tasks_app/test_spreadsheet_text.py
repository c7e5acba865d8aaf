"""Text a person typed stays text in every workbook the product writes and reads (issue 16):
a task title, an output or an agency's result starting with "=", "+", "-" or "@" is a text
cell, never a live formula, in the plan export and the progress sheet; importing it back
keeps the text exactly. The dashboard and monthly report workbooks: tests/reports/test_excel.py.
"""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation
from openpyxl import load_workbook

from tasks_app.models import PriorityArea, SheetUpload, Task
from tasks_app.plan_excel import UNCHANGED, plan_apply, plan_preview, plan_workbook
from tasks_app.progress_sheet import (
    DIFFICULTIES,
    NEW_STATE,
    PROGRESS,
    RESULT,
    SHEET,
    progress_apply,
    progress_preview,
    progress_workbook,
)
from tasks_app.spreadsheets import upload_store, workbook_bytes
from tests.tasks_app.plan_workbooks import make_plan, snapshot, store, task_row
from tests.tasks_app.text_cells import FORMULA_LIKE, assert_kept_as_text

pytestmark = pytest.mark.django_db

HYPERLINK, PLUS, MINUS, AT = FORMULA_LIKE
HCM = ZoneInfo("Asia/Ho_Chi_Minh")


def _typed_as_text(content: bytes, sheet_name: str, cells: dict[str, str]) -> bytes:
    """The workbook with `cells` typed as text, as Excel saves "'=…" or a cell formatted
    as text: a string cell, whatever its first character."""
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook[sheet_name]
    for address, value in cells.items():
        sheet[address] = value
        sheet[address].data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_text_cell_starting_like_a_formula_is_saved_as_that_text():
    workbook = load_workbook(io.BytesIO(workbook_bytes(_sheet_with([*FORMULA_LIKE, "\t=1+1"]))))
    cells = list(workbook.active[1])
    assert [c.value for c in cells] == [*FORMULA_LIKE, "\t=1+1"]
    assert {c.data_type for c in cells} == {"s"}
    # Excel's quote prefix: still text after someone edits the cell.
    assert all(c.quotePrefix for c in cells)


def _sheet_with(values):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(values)
    return workbook


# --- The plan workbook -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _vietnamese():
    with translation.override("vi"):
        yield


@pytest.fixture
def in_2026():
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, tzinfo=HCM), tick=False):
        yield


@pytest.fixture
def may_2022():
    """The day of the progress sheet's tests (tests/tasks_app/test_progress_sheet.py)."""
    with time_machine.travel(datetime.datetime(2022, 5, 16, 9, tzinfo=HCM), tick=False):
        yield


@pytest.fixture
def plan_2026(in_2026, agencies):
    """The plan of plan_workbooks.make_plan, its title, two task titles, an output and an
    area's name typed like formulas."""
    plan = make_plan(agencies)
    plan.title = MINUS
    plan.save()
    Task.objects.filter(plan=plan, code="1").update(title=HYPERLINK, expected_output=AT)
    Task.objects.filter(plan=plan, code="2").update(title=PLUS)
    PriorityArea.objects.filter(plan=plan, code="KTS").update(name=AT)
    return plan


def test_the_plan_export_writes_titles_and_outputs_as_text(plan_2026):
    plan = plan_2026
    content = plan_workbook(plan)

    assert_kept_as_text(content)
    tasks = load_workbook(io.BytesIO(content))["Nhiệm vụ"]
    row = task_row(content, "1")
    assert tasks[f"B{row}"].value == HYPERLINK and tasks[f"H{row}"].value == AT


def test_importing_the_export_back_keeps_the_text_and_changes_nothing(plan_2026, monitor):
    before = snapshot()
    plan = plan_2026
    content = plan_workbook(plan)

    preview = plan_preview(content, "KH-2026.xlsx")
    assert not preview.errors
    assert preview.plan_status == UNCHANGED
    assert {row.status for row in preview.tasks} == {UNCHANGED}
    plan_apply(store(content, monitor), monitor)

    assert snapshot() == before
    assert Task.objects.get(plan=plan, code="1").title == HYPERLINK


def test_a_title_typed_as_text_starting_with_equals_is_imported_as_that_text(plan_2026, monitor):
    plan = plan_2026
    content = plan_workbook(plan)
    row = task_row(content, "2")
    edited = _typed_as_text(content, "Nhiệm vụ", {f"B{row}": "=1+1", f"H{row}": "-2 bản"})

    plan_apply(store(edited, monitor), monitor)

    task = Task.objects.get(plan=plan, code="2")
    assert (task.title, task.expected_output) == ("=1+1", "-2 bản")
    # …and exported again as text.
    exported = load_workbook(io.BytesIO(plan_workbook(plan)))["Nhiệm vụ"]
    assert (exported[f"B{row}"].value, exported[f"B{row}"].data_type) == ("=1+1", "s")


# --- The progress sheet ----------------------------------------------------------------------


def test_the_progress_sheet_writes_task_titles_as_text(may_2022, manager, agencies, make_task):
    for number, title in enumerate(FORMULA_LIKE, start=1):
        make_task(code=f"HH-{number:02d}", title=title)

    assert_kept_as_text(progress_workbook(manager, agencies["haihau"]))


def test_an_agency_s_result_and_difficulty_typed_as_text_are_recorded_as_that_text(
    may_2022, manager, agencies, make_task
):
    make_task(code="HH-01", title=PLUS)
    content = progress_workbook(manager, agencies["haihau"])
    headers = {
        cell.value: cell.column_letter for cell in load_workbook(io.BytesIO(content))[SHEET][1]
    }
    filled = _typed_as_text(
        content,
        SHEET,
        {
            f"{headers[NEW_STATE]}2": "Đang thực hiện",
            f"{headers[PROGRESS]}2": "30",
            f"{headers[RESULT]}2": HYPERLINK,
            f"{headers[DIFFICULTIES]}2": AT,
        },
    )

    preview = progress_preview(filled, "tien-do.xlsx", manager, agencies["haihau"])
    assert not preview.errors, [str(error) for error in preview.errors]
    upload = upload_store(
        kind=SheetUpload.Kind.PROGRESS,
        name="tien-do.xlsx",
        content=filled,
        user=manager,
        agency=agencies["haihau"],
    )
    progress_apply(upload, manager)

    task = Task.objects.get(code="HH-01")
    update = task.updates.get()
    assert (update.result, update.difficulties) == (HYPERLINK, AT)
    assert task.title == PLUS
