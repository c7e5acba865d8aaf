"""The plan workbook: template, export, and import (preview, then apply) through the
services. Test workbooks are the export of a plan, edited with openpyxl and saved again."""

import datetime
import io
import zipfile
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import translation
from openpyxl import Workbook, load_workbook

from tasks_app import plan_excel, services
from tasks_app.choices import ChangeSource, ExtensionKind, TaskState
from tasks_app.models import (
    DeadlineExtension,
    DtiIndex,
    Plan,
    SheetUpload,
    StatusUpdate,
    Task,
    TaskChange,
)
from tasks_app.plan_excel import (
    CHANGED,
    NEW,
    UNCHANGED,
    AlreadyApplied,
    PlanImportError,
    plan_apply,
    plan_preview,
    plan_upload_store,
    plan_workbook,
)
from tasks_app.spreadsheets import SpreadsheetError
from tests.factories import PlanFactory, PriorityAreaFactory, TaskFactory
from tests.tasks_app.plan_workbooks import edit, make_plan, snapshot, store, task_row

pytestmark = pytest.mark.django_db

TODAY = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def _vietnamese_today():
    with translation.override("vi"), time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def plan(agencies):
    return make_plan(agencies)


def only_errors(preview) -> list[tuple[str, str]]:
    return [(error.cell, error.message) for error in preview.errors]


# --- Template and export ---------------------------------------------------------------------


def test_the_template_has_the_sheets_and_the_reference_codes(agencies):
    DtiIndex.objects.create(edition=2022, code="ha_tang_so", name="Hạ tầng số")
    workbook = load_workbook(io.BytesIO(plan_workbook(None)))

    assert workbook.sheetnames == ["Kế hoạch", "Nhiệm vụ", "Lĩnh vực", "Cơ quan", "Chỉ số DTI"]
    tasks = workbook["Nhiệm vụ"]
    assert [c.value for c in tasks[1]] == list(plan_excel.TASK_HEADERS)
    assert tasks.max_row == 1
    agency_codes = [row[0] for row in workbook["Cơ quan"].iter_rows(min_row=2, values_only=True)]
    assert set(agency_codes) == {a.code for a in agencies.values()}
    assert ("ha_tang_so", "Hạ tầng số (2022)") in list(
        workbook["Chỉ số DTI"].iter_rows(min_row=2, values_only=True)
    )
    pickers = {
        str(v.sqref).split(":")[0]: v.formula1 for v in tasks.data_validations.dataValidation
    }
    assert pickers["C2"].startswith("'Lĩnh vực'!$A$2")
    assert pickers["D2"].startswith("'Cơ quan'!$A$2")
    assert pickers["K2"].startswith("'Chỉ số DTI'!$A$2")


def test_the_export_lists_every_task_parents_before_their_children(plan):
    workbook = load_workbook(io.BytesIO(plan_workbook(plan)))
    rows = list(workbook["Nhiệm vụ"].iter_rows(min_row=2, values_only=True))

    assert [(r[0], r[11]) for r in rows] == [
        ("1", None),
        ("2", None),
        ("3", None),
        ("3.UBND_GIAOTHUY", "3"),
        ("3.UBND_HAIHAU", "3"),
    ]
    first = rows[0]
    assert first[2:7] == (
        "CQS",
        "STTTT",
        "UBND_HAIHAU",
        datetime.datetime(2026, 1, 15),  # noqa: DTZ001 (openpyxl reads naive datetimes)
        datetime.datetime(2026, 6, 30),  # noqa: DTZ001
    )
    assert rows[1][6] == "Thường xuyên"
    info = dict(workbook["Kế hoạch"].iter_rows(min_row=2, values_only=True))
    assert info["Mã kế hoạch"] == "KH-2026" and info["Năm"] == 2026


# --- Round trip ------------------------------------------------------------------------------


def test_importing_the_export_of_a_plan_changes_nothing(plan, monitor):
    before = snapshot()
    content = plan_workbook(plan)

    preview = plan_preview(content, "KH-2026.xlsx")
    assert preview.plan_status == UNCHANGED
    assert {row.status for row in preview.tasks} == {UNCHANGED}
    assert {row.status for row in preview.areas} == {UNCHANGED}
    assert preview.missing == []

    summary = plan_apply(store(content, monitor), monitor)

    assert summary["tasks_unchanged"] == 5
    assert summary["tasks_created"] == summary["tasks_updated"] == summary["due_adjusted"] == 0
    assert snapshot() == before
    assert TaskChange.objects.count() == 0


def test_a_new_plan_from_the_template_is_created_whole(agencies, monitor):
    content = edit(
        plan_workbook(None),
        {
            "Kế hoạch": {
                "B2": "KH-2027",
                "B3": "Kế hoạch chuyển đổi số năm 2027",
                "B4": 2027,
                "B5": "12/KH-UBND",
                "B6": "10/01/2027",
                "B7": "UBND_TINH",
                "B8": "STTTT",
            },
            "Lĩnh vực": {
                "A2": "CQS",
                "B2": "Chính quyền số",
                "C2": 1,
                "A3": "XHS",
                "B3": "Xã hội số",
            },
            "Nhiệm vụ": {
                **dict(
                    zip(
                        ["A2", "B2", "C2", "D2", "E2", "F2", "G2"],
                        [
                            "1",
                            "Số hóa",
                            "CQS",
                            "STTTT",
                            "UBND_HAIHAU; UBND_GIAOTHUY",
                            "15/01/2027",
                            "30/06/2027",
                        ],
                    )
                ),
                **dict(
                    zip(
                        ["A3", "B3", "C3", "D3", "F3", "G3", "L3"],
                        [
                            "1.HH",
                            "Số hóa (Hải Hậu)",
                            "CQS",
                            "UBND_HAIHAU",
                            "15/01/2027",
                            "30/06/2027",
                            "1",
                        ],
                    )
                ),
                **dict(
                    zip(
                        ["A4", "B4", "C4", "D4", "F4", "G4", "I4", "J4"],
                        [
                            "2",
                            "Tuyên truyền",
                            "XHS",
                            "STTTT",
                            datetime.date(2027, 1, 15),
                            "Thường xuyên",
                            "1234,5",
                            "lượt",
                        ],
                    )
                ),
            },
        },
    )
    preview = plan_preview(content, "moi.xlsx")
    assert not preview.has_errors, only_errors(preview)
    assert preview.plan_status == NEW
    assert [row.status for row in preview.tasks] == [NEW, NEW, NEW]

    summary = plan_apply(store(content, monitor), monitor)

    plan = Plan.objects.get(code="KH-2027")
    assert (plan.period_start, plan.period_end, plan.monitor_agency) == (
        datetime.date(2027, 1, 1),
        datetime.date(2027, 12, 31),
        agencies["stttt"],
    )
    assert list(plan.priority_areas.values_list("code", "order")) == [("CQS", 1), ("XHS", 2)]
    child = Task.objects.get(plan=plan, code="1.HH")
    assert child.parent.code == "1"
    assert set(
        Task.objects.get(plan=plan, code="1").coordinating_agencies.values_list("code", flat=True)
    ) == {"UBND_HAIHAU", "UBND_GIAOTHUY"}
    regular = Task.objects.get(plan=plan, code="2")
    assert (regular.due, regular.kpi_target, regular.kpi_unit) == (None, Decimal("1234.5"), "lượt")
    assert summary["tasks_created"] == 3 and summary["plan_created"]


# --- Changes ---------------------------------------------------------------------------------


def test_a_changed_lead_and_due_date_are_recorded_as_import_changes_and_an_adjustment(
    plan, monitor, agencies
):
    content = plan_workbook(plan)
    row = task_row(content, "1")
    content = edit(content, {"Nhiệm vụ": {f"D{row}": "UBND_GIAOTHUY", f"G{row}": "31/07/2026"}})

    preview = plan_preview(content, "sua.xlsx")
    changed = next(r for r in preview.tasks if r.code == "1")
    assert changed.status == CHANGED
    assert {(c.field, c.old, c.new) for c in changed.changes} == {
        ("lead_agency", "STTTT", "UBND_GIAOTHUY"),
        ("due", "30/06/2026", "31/07/2026"),
    }
    assert [r.status for r in preview.tasks if r.code != "1"] == [UNCHANGED] * 4

    upload = store(content, monitor, name="sua.xlsx")
    summary = plan_apply(upload, monitor)

    task = Task.objects.get(plan=plan, code="1")
    assert (task.lead_agency, task.due, task.original_due) == (
        agencies["giaothuy"],
        datetime.date(2026, 7, 31),
        datetime.date(2026, 6, 30),
    )
    changes = TaskChange.objects.filter(task=task)
    assert {(c.field, c.source, c.author) for c in changes} == {
        ("lead_agency", ChangeSource.IMPORT, monitor),
        ("due", ChangeSource.IMPORT, monitor),
    }
    assert {c.reason for c in changes} == {"Nhập từ tệp sua.xlsx"}
    adjustment = DeadlineExtension.objects.get(task=task)
    assert adjustment.kind == ExtensionKind.ADJUSTMENT
    assert summary["tasks_updated"] == 1 and summary["due_adjusted"] == 1
    upload.refresh_from_db()
    assert upload.applied_at is not None and upload.summary == summary

    # The same file again, as a new upload: everything is unchanged now.
    before = snapshot()
    again = plan_apply(store(content, monitor, name="sua.xlsx"), monitor)
    assert again["tasks_unchanged"] == 5 and snapshot() == before


def test_applying_the_same_upload_twice_is_refused(plan, monitor):
    content = edit(plan_workbook(plan), {"Nhiệm vụ": {"B2": "Tên mới"}})
    upload = store(content, monitor)
    plan_apply(upload, monitor)
    before = snapshot()

    with pytest.raises(AlreadyApplied, match="đã được áp dụng"):
        plan_apply(upload, monitor)
    assert snapshot() == before


def test_tasks_left_out_of_the_file_are_listed_as_missing_and_kept(plan, monitor):
    content = plan_workbook(plan)
    workbook = load_workbook(io.BytesIO(content))
    workbook["Nhiệm vụ"].delete_rows(task_row(content, "2"))
    buffer = io.BytesIO()
    workbook.save(buffer)

    preview = plan_preview(buffer.getvalue(), "thieu.xlsx")
    assert [task.code for task in preview.missing] == ["2"]
    plan_apply(store(buffer.getvalue(), monitor), monitor)
    assert Task.objects.filter(plan=plan, code="2").exists()


def test_a_due_date_change_of_a_completed_task_or_to_regular_is_a_row_error(plan, monitor):
    task = Task.objects.get(plan=plan, code="1")
    services.status_update_record(
        task=task,
        author=monitor,
        state=TaskState.COMPLETED,
        progress=100,
        completed_on=datetime.date(2026, 2, 20),
        result="Đã triển khai",
    )
    content = plan_workbook(plan)
    content = edit(
        content,
        {
            "Nhiệm vụ": {
                f"G{task_row(content, '1')}": "31/07/2026",
                f"G{task_row(content, '3')}": "Thường xuyên",
            }
        },
    )

    preview = plan_preview(content, "x.xlsx")

    errors = only_errors(preview)
    assert errors[0][0] == f"Nhiệm vụ!G{task_row(content, '1')}"
    assert "hoàn thành" in errors[0][1]
    assert errors[1][0] == f"Nhiệm vụ!G{task_row(content, '3')}"
    assert "thường xuyên" in errors[1][1].lower()


# --- Broken files: the cell is named, nothing is written -------------------------------------


def _refused_with(plan, monitor, changes, cell, words):
    content = edit(plan_workbook(plan), changes)
    before = snapshot()
    preview = plan_preview(content, "loi.xlsx")
    assert preview.has_errors
    assert any(c == cell and words in m for c, m in only_errors(preview)), only_errors(preview)
    upload = store(content, monitor)
    with pytest.raises(PlanImportError):
        plan_apply(upload, monitor)
    assert snapshot() == before
    upload.refresh_from_db()
    assert upload.applied_at is None


@pytest.mark.parametrize(
    ("cells", "cell", "words"),
    [
        ({"D2": "SO_KHONG_CO"}, "Nhiệm vụ!D2", "SO_KHONG_CO"),
        ({"E2": "STTTT, SO_LA"}, "Nhiệm vụ!E2", "SO_LA"),
        ({"A3": "1"}, "Nhiệm vụ!A3", "dòng 2"),
        ({"G2": "31/02/2026"}, "Nhiệm vụ!G2", "31/02/2026"),
        ({"G2": "10/01/2026"}, "Nhiệm vụ!G2", "trước ngày giao"),
        ({"C2": "KHONG_CO"}, "Nhiệm vụ!C2", "KHONG_CO"),
        ({"K2": "khong_co"}, "Nhiệm vụ!K2", "khong_co"),
        ({"I2": "nhiều"}, "Nhiệm vụ!I2", "không phải là số"),
        ({"B2": None}, "Nhiệm vụ!B2", "bắt buộc"),
        (
            {
                "A7": "4",
                "B7": "Mới",
                "C7": "CQS",
                "D7": "STTTT",
                "F7": "15/01/2026",
                "G7": "30/06/2026",
                "L7": "9",
            },
            "Nhiệm vụ!L7",
            "9",
        ),
        (
            {
                "A7": "4",
                "B7": "Mới",
                "C7": "CQS",
                "D7": "STTTT",
                "F7": "15/01/2026",
                "G7": "30/06/2026",
                "L7": "3.UBND_HAIHAU",
            },
            "Nhiệm vụ!L7",
            "nhiệm vụ con",
        ),
    ],
)
def test_a_broken_task_row_is_refused_naming_its_cell(plan, monitor, cells, cell, words):
    _refused_with(plan, monitor, {"Nhiệm vụ": cells}, cell, words)


def test_an_unknown_issuing_agency_of_the_plan_is_refused(plan, monitor):
    _refused_with(plan, monitor, {"Kế hoạch": {"B7": "KHONG_CO"}}, "Kế hoạch!B7", "KHONG_CO")


def _refused_file(content: bytes, name: str, words: str, cell: str = ""):
    with pytest.raises(SpreadsheetError) as refused:
        plan_preview(content, name)
    assert any(words in error.message and error.cell == cell for error in refused.value.errors), [
        (e.cell, e.message) for e in refused.value.errors
    ]
    return refused.value


def test_a_formula_cell_is_refused(plan):
    content = edit(plan_workbook(plan), {"Nhiệm vụ": {"I2": "=90+5"}})
    _refused_file(content, "x.xlsx", "công thức", cell="Nhiệm vụ!I2")


def test_a_macro_workbook_is_refused_by_name_and_by_content(plan):
    content = plan_workbook(plan)
    _refused_file(content, "ke-hoach.xlsm", ".xlsm")
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 macro")
    _refused_file(buffer.getvalue(), "ke-hoach.xlsx", ".xlsm")


def test_a_file_over_10_mb_is_refused(plan):
    _refused_file(b"PK" + b"\0" * (11 * 1024 * 1024), "lon.xlsx", "10 MB")


def test_an_unknown_column_and_a_missing_sheet_are_refused(plan):
    content = edit(plan_workbook(plan), {"Nhiệm vụ": {"M1": "Ghi chú"}})
    _refused_file(content, "x.xlsx", "Ghi chú", cell="Nhiệm vụ!M1")

    workbook = Workbook()
    workbook.active.title = "Sheet1"
    buffer = io.BytesIO()
    workbook.save(buffer)
    _refused_file(buffer.getvalue(), "x.xlsx", "Nhiệm vụ")


def test_nothing_is_stored_for_a_refused_file(plan, monitor):
    content = edit(plan_workbook(plan), {"Nhiệm vụ": {"I2": "=1+1"}})
    with pytest.raises(SpreadsheetError):
        plan_upload_store(content=content, name="x.xlsx", user=monitor)
    assert not SheetUpload.objects.exists()


# --- Speed -----------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [10, 60])
def test_the_preview_reads_the_database_in_a_constant_number_of_queries(
    plan, count, django_assert_max_num_queries
):
    area = plan.priority_areas.get(code="CQS")
    for number in range(count):
        task = TaskFactory(plan=plan, priority_area=area, code=f"9.{number:03d}")
        task.coordinating_agencies.set([area.plan.issuing_agency])
    content = plan_workbook(plan)

    with django_assert_max_num_queries(8):
        preview = plan_preview(content, "x.xlsx")
    assert len(preview.tasks) == count + 5
    assert not StatusUpdate.objects.exists()


def test_tasks_of_another_plan_are_not_matched(plan, monitor, agencies):
    other = PlanFactory(code="KH-KHAC", issuing_agency=agencies["province"])
    TaskFactory(plan=other, priority_area=PriorityAreaFactory(plan=other), code="1")
    preview = plan_preview(plan_workbook(plan), "x.xlsx")
    assert next(r for r in preview.tasks if r.code == "1").status == UNCHANGED


# --- services.task_create_many (the apply's new tasks) -------------------------------------


def test_task_create_many_creates_parents_children_and_coordination(plan, agencies):
    area = plan.priority_areas.get(code="KTS")
    common = {"priority_area": area, "assigned_on": datetime.date(2026, 2, 1)}
    parent = {**common, "code": "7", "title": "Mới", "lead_agency": agencies["stttt"]}
    child = {
        **common,
        "code": "7.HH",
        "title": "Mới (Hải Hậu)",
        "lead_agency": agencies["haihau"],
        "parent": parent,
        "due": datetime.date(2026, 3, 1),
        "coordinating_agencies": [agencies["stttt"], agencies["stttt"]],
    }

    created = services.task_create_many(plan=plan, tasks=[parent, child])

    saved = Task.objects.get(plan=plan, code="7.HH")
    assert saved.parent == created[0]
    assert list(saved.coordinating_agencies.all()) == [agencies["stttt"]]
    assert (saved.due, saved.original_due) == (datetime.date(2026, 3, 1),) * 2
    assert saved.search_text.startswith("7.hh")


def test_task_create_many_refuses_the_whole_batch_on_one_bad_task(plan, agencies):
    area = plan.priority_areas.get(code="KTS")
    good = {
        "priority_area": area,
        "code": "8",
        "title": "Tốt",
        "lead_agency": agencies["stttt"],
        "assigned_on": datetime.date(2026, 2, 1),
    }
    taken = {**good, "code": "1"}  # the plan already has task 1
    before = Task.objects.count()

    with pytest.raises(ValidationError, match="“1”"):
        services.task_create_many(plan=plan, tasks=[good, taken])
    assert Task.objects.count() == before
