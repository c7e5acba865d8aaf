"""A plan as an Excel workbook: the empty template, the export of a plan, and the import
(preview, then apply) of a filled workbook.

The workbook (template and export share one layout):
- "Kế hoạch": the plan, as two columns "Thông tin" / "Giá trị" (code, title, year,
  document number, issue date, issuing and monitoring agencies by code);
- "Nhiệm vụ": one row per task, a child task naming its parent in "Mã nhiệm vụ cha";
- "Lĩnh vực": the plan's priority areas (created or changed by the import);
- "Cơ quan", "Chỉ số DTI": the codes to use, for reference (never imported).

Import is two steps. `plan_preview` reads and checks everything and writes nothing: every
area and task row is new, changed (with old → new per field), unchanged or in error (each
error names its cell). `plan_apply` applies a stored upload (SheetUpload) only when its
preview has no error, in one transaction, through the services, so that validation and
the change history (TaskChange, source "import") apply as on the pages: new tasks in one
batch (services.task_create_many, task_create's rules for a whole file), changed ones
through task_update_fields and task_adjust_due. Tasks of the plan
that the file leaves out are listed as missing, never deleted. Applying a file that
matches the database (the export of a plan, or a file already applied) changes nothing.

Why not django-import-export: (1) its xlsx reading goes through tablib, which opens
workbooks with data_only=True, so a formula cannot be told from a typed value and could
not be refused; (2) its errors are per row and field, not per cell with sheet, row and
column; (3) it saves model instances itself, while every task change here must go through
our services (task_create / task_update_fields / task_adjust_due) so that the change
history and validation apply; (4) a plan workbook spans several sheets (plan, tasks,
areas, agencies). openpyxl (tasks_app.spreadsheets) reads the file; this module holds the
plan's rules.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from tasks_app import plan_services, services
from tasks_app.choices import FINISHED_STATES, ChangeSource, ExtensionStatus
from tasks_app.collation import vi_order, vi_sorted
from tasks_app.models import (
    Agency,
    DeadlineExtension,
    DtiIndex,
    Plan,
    PriorityArea,
    SheetUpload,
    Task,
)
from tasks_app.spreadsheets import (
    REGULAR_WORDS,
    CellError,
    Columns,
    SpreadsheetError,
    codes,
    data_rows,
    date_value,
    decimal_value,
    list_validation,
    open_workbook,
    read_columns,
    text,
    upload_store,
    workbook_bytes,
    write_table,
)

# --- The layout -------------------------------------------------------------------------------

SHEET_PLAN = "Kế hoạch"
SHEET_TASKS = "Nhiệm vụ"
SHEET_AREAS = "Lĩnh vực"
SHEET_AGENCIES = "Cơ quan"
SHEET_DTI = "Chỉ số DTI"
IMPORTED_SHEETS = (SHEET_PLAN, SHEET_TASKS, SHEET_AREAS)

INFO, VALUE = "Thông tin", "Giá trị"
P_CODE = "Mã kế hoạch"
P_TITLE = "Tên kế hoạch"
P_YEAR = "Năm"
P_NUMBER = "Số/ký hiệu"
P_ISSUED = "Ngày ban hành"
P_ISSUER = "Cơ quan ban hành (mã)"
P_MONITOR = "Cơ quan theo dõi (mã)"
PLAN_ROWS = (P_CODE, P_TITLE, P_YEAR, P_NUMBER, P_ISSUED, P_ISSUER, P_MONITOR)
PLAN_REQUIRED = (P_CODE, P_TITLE, P_YEAR, P_ISSUER)

T_CODE = "Mã nhiệm vụ"
T_TITLE = "Tên nhiệm vụ"
T_AREA = "Mã lĩnh vực"
T_LEAD = "Cơ quan chủ trì (mã)"
T_COORD = "Cơ quan phối hợp (mã)"
T_ASSIGNED = "Ngày giao"
T_DUE = "Hạn hoàn thành"
T_OUTPUT = "Sản phẩm đầu ra"
T_KPI = "Chỉ tiêu KPI"
T_KPI_UNIT = "Đơn vị KPI"
T_DTI = "Chỉ số DTI (mã)"
T_PARENT = "Mã nhiệm vụ cha"
TASK_HEADERS = (
    T_CODE,
    T_TITLE,
    T_AREA,
    T_LEAD,
    T_COORD,
    T_ASSIGNED,
    T_DUE,
    T_OUTPUT,
    T_KPI,
    T_KPI_UNIT,
    T_DTI,
    T_PARENT,
)
TASK_REQUIRED = (T_CODE, T_TITLE, T_AREA, T_LEAD, T_ASSIGNED, T_DUE)

A_CODE, A_NAME, A_ORDER = "Mã", "Tên", "Thứ tự"
REF_CODE, REF_NAME = "Mã", "Tên"
REGULAR_TEXT = "Thường xuyên"

# Row statuses of a preview.
NEW, CHANGED, UNCHANGED, ERROR = "new", "changed", "unchanged", "error"

KPI_LIMIT = Decimal(10) ** 12  # Task.kpi_target: 14 digits, 2 of them decimals


def status_label(status: str) -> str:
    return {
        NEW: _("New"),
        CHANGED: _("Changed"),
        UNCHANGED: _("Unchanged"),
        ERROR: _("Error"),
    }[status]


class PlanImportError(Exception):
    """The import was refused: nothing was written. `errors` are CellErrors."""

    def __init__(self, errors: list[CellError], message: str = ""):
        self.errors = errors
        super().__init__(message or "\n".join(str(error) for error in errors))


class AlreadyApplied(Exception):
    """The upload was applied before; applying it again is refused."""


# --- What a preview holds ---------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    field: str
    label: str
    old: str
    new: str

    def as_dict(self) -> dict:
        return {"field": self.field, "label": self.label, "old": self.old, "new": self.new}


@dataclass
class RowPreview:
    """One row of the "Lĩnh vực" or "Nhiệm vụ" sheet as the import would apply it."""

    sheet: str
    row: int
    code: str
    title: str
    status: str = NEW
    changes: list[Change] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    existing: object = None  # the PriorityArea or Task the row changes
    values: dict = field(default_factory=dict)  # the row's values, typed
    parent_code: str = ""

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    def as_dict(self) -> dict:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "code": self.code,
            "title": self.title,
            "status": self.status,
            "changes": [change.as_dict() for change in self.changes],
            "errors": [error.as_dict() for error in self.errors],
        }


@dataclass
class PlanPreview:
    name: str
    plan_code: str = ""
    plan_title: str = ""
    plan: Plan | None = None  # the existing plan the file changes; None for a new plan
    plan_status: str = NEW
    plan_changes: list[Change] = field(default_factory=list)
    plan_errors: list[CellError] = field(default_factory=list)
    plan_values: dict = field(default_factory=dict)
    areas: list[RowPreview] = field(default_factory=list)
    tasks: list[RowPreview] = field(default_factory=list)
    missing: list[Task] = field(default_factory=list)

    @property
    def errors(self) -> list[CellError]:
        rows = [*self.areas, *self.tasks]
        return [*self.plan_errors, *(error for row in rows for error in row.errors)]

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    @staticmethod
    def _count(rows: list[RowPreview]) -> dict[str, int]:
        counts = {NEW: 0, CHANGED: 0, UNCHANGED: 0, ERROR: 0}
        for row in rows:
            counts[row.status] += 1
        return counts

    @property
    def task_counts(self) -> dict[str, int]:
        return {**self._count(self.tasks), "missing": len(self.missing)}

    @property
    def area_counts(self) -> dict[str, int]:
        return self._count(self.areas)

    @property
    def changes_anything(self) -> bool:
        rows = [*self.areas, *self.tasks]
        return self.plan_status != UNCHANGED or any(row.status != UNCHANGED for row in rows)

    @property
    def plan_status_label(self) -> str:
        return status_label(self.plan_status)

    def as_dict(self) -> dict:
        return {
            "file": self.name,
            "plan": {
                "code": self.plan_code,
                "title": self.plan_title,
                "id": self.plan.pk if self.plan else None,
                "status": self.plan_status,
                "changes": [change.as_dict() for change in self.plan_changes],
                "errors": [error.as_dict() for error in self.plan_errors],
            },
            "area_counts": self.area_counts,
            "task_counts": self.task_counts,
            "areas": [row.as_dict() for row in self.areas],
            "tasks": [row.as_dict() for row in self.tasks],
            "missing": [{"code": task.code, "title": task.title} for task in self.missing],
            "errors": [error.as_dict() for error in self.errors],
            "has_errors": self.has_errors,
        }


# --- Display of values -----------------------------------------------------------------------


def _date_text(day: datetime.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else ""


def _due_text(day: datetime.date | None) -> str:
    return _date_text(day) if day else REGULAR_TEXT


def _decimal_text(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}".replace(".", ",")


def _dti_keys(indices: list[DtiIndex]) -> dict[int, str]:
    """What a DTI index is called in the workbook: its code, or "code (edition)" when
    several editions share the code."""
    editions: dict[str, int] = {}
    for index in indices:
        editions[index.code] = editions.get(index.code, 0) + 1
    return {
        index.pk: index.code if editions[index.code] == 1 else f"{index.code} ({index.edition})"
        for index in indices
    }


# --- The workbook ----------------------------------------------------------------------------


def _reference_rows():
    today = timezone.localdate()
    agencies = (
        Agency.objects.valid_on(today)
        .order_by(vi_order("name"), "code")
        .values_list("code", "name")
    )
    indices = list(DtiIndex.objects.order_by("-edition", "code"))
    keys = _dti_keys(indices)
    return list(agencies), [(keys[index.pk], str(index)) for index in indices], keys


def plan_workbook(plan: Plan | None) -> bytes:
    """The plan workbook: the empty template (plan None, the reference sheets filled) or
    the export of `plan`, every task, a parent followed by its children, in code order."""
    agencies, dti_rows, dti_keys = _reference_rows()
    workbook = Workbook()
    info = workbook.active
    info.title = SHEET_PLAN
    tasks_sheet = workbook.create_sheet(SHEET_TASKS)
    areas_sheet = workbook.create_sheet(SHEET_AREAS)
    agencies_sheet = workbook.create_sheet(SHEET_AGENCIES)
    dti_sheet = workbook.create_sheet(SHEET_DTI)

    plan_values: dict[str, object] = dict.fromkeys(PLAN_ROWS, None)
    area_rows: list[tuple] = []
    task_rows: list[tuple] = []
    if plan is not None:
        plan = Plan.objects.select_related("issuing_agency", "monitor_agency").get(pk=plan.pk)
        plan_values.update(
            {
                P_CODE: plan.code,
                P_TITLE: plan.title,
                P_YEAR: plan.period_start.year,
                P_NUMBER: plan.number,
                P_ISSUED: plan.issued_on,
                P_ISSUER: plan.issuing_agency.code,
                P_MONITOR: plan.monitor_agency.code if plan.monitor_agency else None,
            }
        )
        area_rows = [
            (area.code, area.name, area.order)
            for area in plan.priority_areas.order_by("order", "code")
        ]
        task_rows = _task_export_rows(plan, dti_keys)
    write_table(info, [INFO, VALUE], [(label, plan_values[label]) for label in PLAN_ROWS])
    info.column_dimensions["A"].width = 26
    info.column_dimensions["B"].width = 60
    write_table(
        tasks_sheet,
        TASK_HEADERS,
        task_rows,
        widths={T_TITLE: 50, T_OUTPUT: 40, T_COORD: 28, T_LEAD: 22, T_DTI: 20},
    )
    write_table(areas_sheet, [A_CODE, A_NAME, A_ORDER], area_rows, widths={A_NAME: 50})
    write_table(agencies_sheet, [REF_CODE, REF_NAME], agencies, widths={REF_NAME: 60})
    write_table(dti_sheet, [REF_CODE, REF_NAME], dti_rows, widths={REF_NAME: 60})

    rows = max(5000, len(task_rows) + 500)
    for header, sheet, count in (
        (T_AREA, SHEET_AREAS, max(len(area_rows), 1) + 200),
        (T_LEAD, SHEET_AGENCIES, max(len(agencies), 1)),
        (T_DTI, SHEET_DTI, max(len(dti_rows), 1)),
    ):
        list_validation(
            tasks_sheet,
            TASK_HEADERS.index(header) + 1,
            f"'{sheet}'!$A$2:$A${count + 1}",
            rows=rows,
            error=_("Choose a code from the sheet “%(sheet)s”.") % {"sheet": sheet},
        )
    return workbook_bytes(workbook)


def _task_export_rows(plan: Plan, dti_keys: dict[int, str]) -> list[tuple]:
    tasks = list(
        Task.objects.filter(plan=plan)
        .select_related("priority_area", "lead_agency", "parent")
        .order_by("code")
    )
    coordinating = _coordinating_codes(plan)
    children: dict[int, list[Task]] = {}
    for task in tasks:
        if task.parent_id:
            children.setdefault(task.parent_id, []).append(task)
    ordered = []
    for task in tasks:
        if task.parent_id is None:
            ordered.append(task)
            ordered.extend(children.get(task.pk, []))
    return [
        (
            task.code,
            task.title,
            task.priority_area.code,
            task.lead_agency.code,
            ", ".join(coordinating.get(task.pk, [])),
            task.assigned_on,
            task.due if task.due else REGULAR_TEXT,
            task.expected_output,
            task.kpi_target,
            task.kpi_unit,
            dti_keys.get(task.dti_index_id, "") if task.dti_index_id else "",
            task.parent.code if task.parent else "",
        )
        for task in ordered
    ]


def _coordinating_codes(plan: Plan) -> dict[int, list[str]]:
    """Codes of each task's coordinating agencies, sorted: one query for the plan."""
    through = Task.coordinating_agencies.through
    result: dict[int, list[str]] = {}
    for task_id, code in (
        through.objects.filter(task__plan=plan)
        .order_by("agency__code")
        .values_list("task_id", "agency__code")
    ):
        result.setdefault(task_id, []).append(code)
    return result


# --- Preview ---------------------------------------------------------------------------------


@dataclass
class _Known:
    """What the database holds, read once per preview (a constant number of queries)."""

    agencies: dict[str, Agency]
    dti: dict[str, DtiIndex]
    areas: dict[str, PriorityArea]  # by code, case folded
    tasks: dict[str, Task]
    coordinating: dict[int, set[int]]
    pending: set[int]  # tasks with an extension request waiting

    def __post_init__(self) -> None:
        self.agencies_by_id = {agency.pk: agency for agency in self.agencies.values()}
        self.areas_by_id = {area.pk: area for area in self.areas.values()}
        self.dti_by_id = {index.pk: index for index in self.dti.values()}
        self.tasks_by_id = {task.pk: task for task in self.tasks.values()}

    @classmethod
    def load(cls, plan: Plan | None) -> "_Known":
        agencies = {
            agency.code: agency
            for agency in Agency.objects.only("id", "code", "name", "short_name")
        }
        indices = list(DtiIndex.objects.all())
        keys = _dti_keys(indices)
        dti: dict[str, DtiIndex] = {}
        for index in indices:
            dti[keys[index.pk]] = index
            dti.setdefault(f"{index.code} ({index.edition})", index)
        areas: dict[str, PriorityArea] = {}
        tasks: dict[str, Task] = {}
        coordinating: dict[int, set[int]] = {}
        pending: set[int] = set()
        if plan is not None:
            areas = {area.code.casefold(): area for area in PriorityArea.objects.filter(plan=plan)}
            tasks = {task.code: task for task in Task.objects.filter(plan=plan)}
            through = Task.coordinating_agencies.through
            for task_id, agency_id in through.objects.filter(task__plan=plan).values_list(
                "task_id", "agency_id"
            ):
                coordinating.setdefault(task_id, set()).add(agency_id)
            pending = set(
                DeadlineExtension.objects.filter(
                    task__plan=plan, status=ExtensionStatus.PENDING
                ).values_list("task_id", flat=True)
            )
        return cls(agencies, dti, areas, tasks, coordinating, pending)


def _max_length(value: str, limit: int, error: Callable[[str], None]) -> None:
    if len(value) > limit:
        error(
            _("The text is %(length)s characters long; at most %(limit)s are allowed.")
            % {"length": len(value), "limit": limit}
        )


def plan_preview(content: bytes, name: str) -> PlanPreview:
    """Read and check a plan workbook; nothing is written. Raises SpreadsheetError when
    the file is refused as a whole (size, format, macros, sheets, columns, formulas)."""
    workbook = open_workbook(content, name, sheets=IMPORTED_SHEETS)
    plan_columns = read_columns(workbook[SHEET_PLAN], required=[INFO, VALUE])
    task_columns = read_columns(
        workbook[SHEET_TASKS],
        required=TASK_REQUIRED,
        optional=[h for h in TASK_HEADERS if h not in TASK_REQUIRED],
    )
    area_columns = read_columns(
        workbook[SHEET_AREAS], required=[A_CODE, A_NAME], optional=[A_ORDER]
    )
    preview = PlanPreview(name=name)
    plan_rows = _plan_rows(workbook[SHEET_PLAN], plan_columns, preview)
    code = text(plan_rows.get(P_CODE, (None, None))[1])
    plan = (
        Plan.objects.select_related("issuing_agency", "monitor_agency")
        .filter(code__iexact=code)
        .first()
        if code
        else None
    )
    known = _Known.load(plan)
    _preview_plan(preview, plan, plan_rows, plan_columns, known)
    _preview_areas(preview, workbook[SHEET_AREAS], area_columns, known)
    _preview_tasks(preview, workbook[SHEET_TASKS], task_columns, known)
    return preview


def _plan_rows(sheet, columns: Columns, preview: PlanPreview) -> dict[str, tuple[int, object]]:
    """label → (row number, value) of the "Kế hoạch" sheet."""
    rows: dict[str, tuple[int, object]] = {}
    for number, raw in data_rows(sheet, columns):
        label = text(raw[INFO])
        if label not in PLAN_ROWS:
            preview.plan_errors.append(
                columns.error(
                    number,
                    INFO,
                    _("Unknown line “%(label)s”; the lines are: %(known)s.")
                    % {"label": label, "known": ", ".join(PLAN_ROWS)},
                )
            )
        elif label in rows:
            preview.plan_errors.append(
                columns.error(
                    number, INFO, _("The line “%(label)s” appears twice.") % {"label": label}
                )
            )
        else:
            rows[label] = (number, raw[VALUE])
    for label in PLAN_REQUIRED:
        if label not in rows:
            preview.plan_errors.append(
                CellError(
                    _("The line “%(label)s” is missing.") % {"label": label},
                    sheet=sheet.title,
                )
            )
    return rows


def _missing() -> str:
    return _("This value is required.")


def _preview_plan(preview, plan, rows, columns: Columns, known: _Known) -> None:
    errors = preview.plan_errors
    values: dict[str, object] = {}

    def error_at(label: str) -> Callable[[str], None]:
        return lambda message: errors.append(columns.error(rows[label][0], VALUE, message))

    def raw(label: str):
        return rows[label][1] if label in rows else None

    for label, key, limit in (
        (P_CODE, "code", 40),
        (P_TITLE, "title", 500),
        (P_NUMBER, "number", 60),
    ):
        value = text(raw(label))
        if label in rows:
            if not value and label in PLAN_REQUIRED:
                error_at(label)(_missing())
            _max_length(value, limit, error_at(label))
        values[key] = value
    year_raw = raw(P_YEAR)
    if P_YEAR in rows:
        year_text = text(year_raw)
        if not year_text:
            error_at(P_YEAR)(_missing())
        elif not year_text.isdigit() or not 2000 <= int(year_text) <= 2100:
            error_at(P_YEAR)(_("“%(value)s” is not a year.") % {"value": year_text})
        else:
            values["year"] = int(year_text)
    if P_ISSUED in rows:
        issued, message = date_value(raw(P_ISSUED))
        if message:
            error_at(P_ISSUED)(message)
        values["issued_on"] = issued
    for label, key in ((P_ISSUER, "issuing_agency"), (P_MONITOR, "monitor_agency")):
        agency_code = text(raw(label))
        values[key] = None
        if not agency_code:
            if label in rows and label in PLAN_REQUIRED:
                error_at(label)(_missing())
            continue
        agency = known.agencies.get(agency_code)
        if agency is None:
            error_at(label)(_unknown_agency(agency_code))
        values[key] = agency
    preview.plan_code = str(values.get("code", ""))
    preview.plan_title = str(values.get("title", ""))
    preview.plan_values = values
    preview.plan = plan
    if errors:
        preview.plan_status = ERROR
        return
    if plan is None:
        preview.plan_status = NEW
        return
    old_monitor = plan.monitor_agency
    compared = [
        ("title", _("Title"), plan.title, values["title"]),
        ("year", _("Year"), str(plan.period_start.year), str(values["year"])),
    ]
    if P_NUMBER in rows:
        compared.append(("number", _("Document number"), plan.number, values["number"]))
    if P_ISSUED in rows:
        compared.append(
            (
                "issued_on",
                _("Issued on"),
                _date_text(plan.issued_on),
                _date_text(values["issued_on"]),
            )
        )
    compared.append(
        (
            "issuing_agency",
            _("Issuing agency"),
            plan.issuing_agency.code,
            values["issuing_agency"].code,
        )
    )
    if P_MONITOR in rows:
        new_monitor = values["monitor_agency"]
        compared.append(
            (
                "monitor_agency",
                _("Monitoring agency"),
                old_monitor.code if old_monitor else "",
                new_monitor.code if new_monitor else "",
            )
        )
    preview.plan_changes = [Change(*item) for item in compared if item[2] != item[3]]
    preview.plan_status = CHANGED if preview.plan_changes else UNCHANGED


def _unknown_agency(code: str) -> str:
    return _("No agency has the code “%(code)s” (see the sheet “%(sheet)s”).") % {
        "code": code,
        "sheet": SHEET_AGENCIES,
    }


def _preview_areas(preview: PlanPreview, sheet, columns: Columns, known: _Known) -> None:
    seen: dict[str, int] = {}
    for number, raw in data_rows(sheet, columns):
        code, name = text(raw[A_CODE]), text(raw[A_NAME])
        row = RowPreview(sheet=sheet.title, row=number, code=code, title=name)

        def error(header: str, message: str, row=row, number=number) -> None:
            row.errors.append(columns.error(number, header, message))

        if not code:
            error(A_CODE, _missing())
        elif code.casefold() in seen:
            error(
                A_CODE,
                _("The code “%(code)s” is already on row %(row)s.")
                % {"code": code, "row": seen[code.casefold()]},
            )
        else:
            seen[code.casefold()] = number
        _max_length(code, 20, lambda m, error=error: error(A_CODE, m))
        if not name:
            error(A_NAME, _missing())
        _max_length(name, 255, lambda m, error=error: error(A_NAME, m))
        order = None
        if A_ORDER in columns.by_header and text(raw[A_ORDER]):
            order_text = text(raw[A_ORDER])
            if not order_text.isdigit() or int(order_text) > 32767:
                error(A_ORDER, _("“%(value)s” is not a whole number.") % {"value": order_text})
            else:
                order = int(order_text)
        row.values = {"code": code, "name": name, "order": order}
        existing = known.areas.get(code.casefold()) if code else None
        row.existing = existing
        if row.errors:
            row.status = ERROR
        elif existing is None:
            row.status = NEW
        else:
            compared = [("name", _("Name"), existing.name, name)]
            if order is not None:
                compared.append(("order", _("Order"), str(existing.order), str(order)))
            row.changes = [Change(*item) for item in compared if item[2] != item[3]]
            row.status = CHANGED if row.changes else UNCHANGED
        preview.areas.append(row)


def _agency_names(agencies) -> str:
    return ", ".join(str(agency) for agency in vi_sorted(agencies, key=str))


def _preview_tasks(preview: PlanPreview, sheet, columns: Columns, known: _Known) -> None:
    has = columns.by_header.__contains__
    file_areas = {row.code.casefold() for row in preview.areas if row.code}
    seen: dict[str, int] = {}
    rows: list[RowPreview] = []
    for number, raw in data_rows(sheet, columns):
        code, title = text(raw[T_CODE]), text(raw[T_TITLE])
        row = RowPreview(sheet=sheet.title, row=number, code=code, title=title)
        rows.append(row)

        def error(header: str, message: str, row=row, number=number) -> None:
            row.errors.append(columns.error(number, header, message))

        values: dict[str, object] = {}
        if not code:
            error(T_CODE, _missing())
        elif code in seen:
            error(
                T_CODE,
                _("The code “%(code)s” is already on row %(row)s.")
                % {"code": code, "row": seen[code]},
            )
        else:
            seen[code] = number
        _max_length(code, 60, lambda m, error=error: error(T_CODE, m))
        if not title:
            error(T_TITLE, _missing())
        _max_length(title, 500, lambda m, error=error: error(T_TITLE, m))
        values["title"] = title

        area_code = text(raw[T_AREA])
        if not area_code:
            error(T_AREA, _missing())
        elif area_code.casefold() in known.areas:
            area_code = known.areas[area_code.casefold()].code
        elif area_code.casefold() not in file_areas:
            error(
                T_AREA,
                _("No priority area has the code “%(code)s” (see the sheet “%(sheet)s”).")
                % {"code": area_code, "sheet": SHEET_AREAS},
            )
        values["area_code"] = area_code

        lead_code = text(raw[T_LEAD])
        if not lead_code:
            error(T_LEAD, _missing())
        elif lead_code not in known.agencies:
            error(T_LEAD, _unknown_agency(lead_code))
        values["lead_agency"] = known.agencies.get(lead_code)

        if has(T_COORD):
            coordinating = []
            for agency_code in codes(raw[T_COORD]):
                agency = known.agencies.get(agency_code)
                if agency is None:
                    error(T_COORD, _unknown_agency(agency_code))
                elif agency not in coordinating:
                    coordinating.append(agency)
            values["coordinating"] = coordinating

        assigned_on, message = date_value(raw[T_ASSIGNED])
        if message:
            error(T_ASSIGNED, message)
        elif assigned_on is None:
            error(T_ASSIGNED, _missing())
        values["assigned_on"] = assigned_on

        due_raw = raw[T_DUE]
        due = None
        if text(due_raw).casefold() in REGULAR_WORDS:
            values["regular"] = True
        else:
            values["regular"] = False
            due, message = date_value(due_raw)
            if message:
                error(T_DUE, message)
            elif due is None:
                error(
                    T_DUE,
                    _("Write the due date (dd/mm/yyyy), or “%(regular)s” for a regular task.")
                    % {"regular": REGULAR_TEXT},
                )
            elif assigned_on is not None and due < assigned_on:
                error(
                    T_DUE,
                    _("The due date %(due)s is before the assignment date %(assigned)s.")
                    % {"due": _date_text(due), "assigned": _date_text(assigned_on)},
                )
        values["due"] = due

        if has(T_OUTPUT):
            values["expected_output"] = text(raw[T_OUTPUT])
        if has(T_KPI):
            kpi, message = decimal_value(raw[T_KPI])
            if message:
                error(T_KPI, message)
            elif kpi is not None and (abs(kpi) >= KPI_LIMIT or kpi != round(kpi, 2)):
                error(
                    T_KPI,
                    _("The KPI target must have at most 12 digits and 2 decimals."),
                )
            values["kpi_target"] = kpi
        if has(T_KPI_UNIT):
            unit = text(raw[T_KPI_UNIT])
            _max_length(unit, 150, lambda m, error=error: error(T_KPI_UNIT, m))
            values["kpi_unit"] = unit
        if has(T_DTI):
            dti_code = text(raw[T_DTI])
            values["dti_index"] = known.dti.get(dti_code) if dti_code else None
            if dti_code and dti_code not in known.dti:
                error(
                    T_DTI,
                    _("No DTI index has the code “%(code)s” (see the sheet “%(sheet)s”).")
                    % {"code": dti_code, "sheet": SHEET_DTI},
                )
        row.parent_code = text(raw[T_PARENT]) if has(T_PARENT) else ""
        row.values = values
        row.existing = known.tasks.get(code) if code else None

    by_code = {row.code: row for row in rows if row.code}
    for row in rows:
        _check_parent(row, by_code, known, columns, has(T_PARENT))
        if row.errors:
            row.status = ERROR
        elif row.existing is None:
            row.status = NEW
        else:
            _compare_task(row, known, columns)
    preview.tasks = rows
    in_file = set(by_code)
    preview.missing = [task for code, task in sorted(known.tasks.items()) if code not in in_file]


def _check_parent(row, by_code, known: _Known, columns: Columns, has_column) -> None:
    existing: Task | None = row.existing  # type: ignore[assignment]
    old_parent = (
        known.tasks_by_id.get(existing.parent_id) if existing and existing.parent_id else None
    )
    if not has_column:
        # Without the column, every task keeps its parent.
        row.parent_code = old_parent.code if old_parent else ""
        return
    code = row.parent_code

    def error(message: str) -> None:
        row.errors.append(columns.error(row.row, T_PARENT, message))

    if existing is not None and code != (old_parent.code if old_parent else ""):
        error(
            _("The parent task of an existing task cannot be changed by import (it is “%(old)s”).")
            % {"old": old_parent.code if old_parent else "—"}
        )
        return
    if not code:
        return
    if code == row.code:
        error(_("A task cannot be its own parent."))
        return
    parent_row = by_code.get(code)
    parent_task = known.tasks.get(code)
    if parent_row is None and parent_task is None:
        error(_("No task has the code “%(code)s”, in the file or in the plan.") % {"code": code})
    elif (parent_row is not None and parent_row.parent_code) or (
        parent_row is None and parent_task is not None and parent_task.parent_id
    ):
        error(
            _("The task “%(code)s” is itself a child task: a child task cannot be split again.")
            % {"code": code}
        )


def _compare_task(row: RowPreview, known: _Known, columns: Columns) -> None:
    """The changes of an existing task, and the checks only a change needs."""
    task: Task = row.existing  # type: ignore[assignment]
    values = row.values
    has = columns.by_header.__contains__
    agencies_by_id = known.agencies_by_id
    old_area = known.areas_by_id[task.priority_area_id]
    old_lead = agencies_by_id[task.lead_agency_id]
    changes = [
        ("title", _("Title"), task.title, values["title"]),
        ("priority_area", _("Priority area"), old_area.code, values["area_code"]),
        ("lead_agency", _("Lead agency"), old_lead.code, values["lead_agency"].code),
        (
            "assigned_on",
            _("Assigned on"),
            _date_text(task.assigned_on),
            _date_text(values["assigned_on"]),
        ),
        ("due", _("Due date"), _due_text(task.due), _due_text(values["due"])),
    ]
    if has(T_COORD):
        old_ids = known.coordinating.get(task.pk, set())
        new = values["coordinating"]
        if old_ids != {agency.pk for agency in new}:
            old = [agencies_by_id[pk] for pk in old_ids]
            changes.append(
                (
                    "coordinating_agencies",
                    _("Coordinating agencies"),
                    _agency_names(old),
                    _agency_names(new),
                )
            )
    if has(T_OUTPUT):
        changes.append(
            (
                "expected_output",
                _("Expected output"),
                task.expected_output,
                values["expected_output"],
            )
        )
    if has(T_KPI) and task.kpi_target != values["kpi_target"]:
        changes.append(
            (
                "kpi_target",
                _("KPI target"),
                _decimal_text(task.kpi_target),
                _decimal_text(values["kpi_target"]),
            )
        )
    if has(T_KPI_UNIT):
        changes.append(("kpi_unit", _("KPI unit"), task.kpi_unit, values["kpi_unit"]))
    if has(T_DTI):
        new_dti = values["dti_index"]
        if task.dti_index_id != (new_dti.pk if new_dti else None):
            old_dti = known.dti_by_id.get(task.dti_index_id) if task.dti_index_id else None
            changes.append(
                (
                    "dti_index",
                    _("DTI index"),
                    old_dti.code if old_dti else "",
                    new_dti.code if new_dti else "",
                )
            )
    row.changes = [Change(*item) for item in changes if item[2] != item[3]]
    changed = {change.field for change in row.changes}

    def error(header: str, message: str) -> None:
        row.errors.append(columns.error(row.row, header, message))

    if "due" in changed:
        if (task.due is None) != values["regular"]:
            error(
                T_DUE,
                _(
                    "A regular task cannot get a due date, nor a task with a due date become "
                    "regular, by import."
                ),
            )
        elif task.state in FINISHED_STATES:
            error(T_DUE, _("The task is completed or stopped: its due date cannot be moved."))
        elif task.pk in known.pending:
            error(
                T_DUE,
                _("An extension request for this task is waiting: decide it first."),
            )
    if (
        "assigned_on" in changed
        and task.original_due is not None
        and values["assigned_on"] > task.original_due
    ):
        error(
            T_ASSIGNED,
            _("The assignment date cannot be after the original due date %(due)s.")
            % {"due": _date_text(task.original_due)},
        )
    if row.errors:
        row.status = ERROR
    else:
        row.status = CHANGED if row.changes else UNCHANGED


# --- Apply -----------------------------------------------------------------------------------


def plan_upload_store(*, content: bytes, name: str, user) -> tuple[SheetUpload, PlanPreview]:
    """Check a plan workbook and keep it for its preview and apply. Raises SpreadsheetError
    (nothing stored) when the file is refused as a whole."""
    preview = plan_preview(content, name)
    upload = upload_store(
        kind=SheetUpload.Kind.PLAN, name=name, content=content, user=user, plan=preview.plan
    )
    return upload, preview


def upload_preview(upload: SheetUpload) -> PlanPreview:
    return plan_preview(bytes(upload.content), upload.original_name)


def _row_error(row: RowPreview, exc: ValidationError) -> PlanImportError:
    messages = list(exc.messages)
    return PlanImportError(
        [CellError(message, sheet=row.sheet, row=row.row) for message in messages]
    )


def plan_apply(upload: SheetUpload, user, *, progress: Callable[[int], None] | None = None) -> dict:
    """Apply a stored plan workbook: the plan, its areas, then its tasks (parents first),
    through the services, in one transaction. Raises PlanImportError (nothing written)
    when the preview has errors, AlreadyApplied when the upload was applied before.
    `progress(n)` is called after each task row."""
    with transaction.atomic():
        locked = SheetUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.applied_at is not None:
            raise AlreadyApplied(
                _("This file was already applied on %(when)s.")
                % {"when": timezone.localtime(locked.applied_at).strftime("%d/%m/%Y %H:%M")}
            )
        try:
            preview = upload_preview(locked)
        except SpreadsheetError as exc:
            raise PlanImportError(exc.errors) from None
        if preview.has_errors:
            raise PlanImportError(preview.errors)
        reason = _("Imported from %(file)s") % {"file": locked.original_name}
        summary, plan = _apply(preview, user, reason, progress)
        locked.applied_at = timezone.now()
        locked.summary = summary
        locked.plan = plan
        locked.save(update_fields=["applied_at", "summary", "plan"])
    upload.applied_at, upload.summary, upload.plan = locked.applied_at, summary, locked.plan
    return summary


def _apply(preview: PlanPreview, user, reason: str, progress) -> tuple[dict, Plan]:
    values = preview.plan_values
    summary = {
        "plan": preview.plan_code,
        "plan_created": False,
        "plan_updated": False,
        "areas_created": 0,
        "areas_updated": 0,
        "tasks_created": 0,
        "tasks_updated": 0,
        "due_adjusted": 0,
        "tasks_unchanged": 0,
        "tasks_missing": len(preview.missing),
    }
    plan = preview.plan
    try:
        if plan is None:
            start, end = plan_services.year_period(values["year"])
            plan = plan_services.plan_create(
                code=values["code"],
                title=values["title"],
                issuing_agency=values["issuing_agency"],
                monitor_agency=values.get("monitor_agency"),
                period_start=start,
                period_end=end,
                number=values.get("number", ""),
                issued_on=values.get("issued_on"),
            )
            summary["plan_created"] = True
        elif preview.plan_changes:
            fields = {}
            for change in preview.plan_changes:
                if change.field == "year":
                    fields["period_start"], fields["period_end"] = plan_services.year_period(
                        values["year"]
                    )
                else:
                    fields[change.field] = values[change.field]
            plan = plan_services.plan_update(plan=plan, **fields)
            summary["plan_updated"] = True
    except ValidationError as exc:
        raise PlanImportError([CellError(m, sheet=SHEET_PLAN) for m in exc.messages]) from None

    areas = {area.code.casefold(): area for area in PriorityArea.objects.filter(plan=plan)}
    for row in preview.areas:
        try:
            if row.status == NEW:
                area = plan_services.area_create(
                    plan=plan, code=row.code, name=row.values["name"], order=row.values["order"]
                )
                areas[area.code.casefold()] = area
                summary["areas_created"] += 1
            elif row.status == CHANGED:
                fields = {change.field: row.values[change.field] for change in row.changes}
                area = plan_services.area_update(area=row.existing, **fields)
                areas[area.code.casefold()] = area
                summary["areas_updated"] += 1
        except ValidationError as exc:
            raise _row_error(row, exc) from None

    # New tasks in one batch (services.task_create_many: task_create's rules, checked for
    # the whole batch, then bulk writes), parents before their children; then the changed
    # ones, one by one through task_update_fields and task_adjust_due.
    new_rows = [row for row in preview.tasks if row.status == NEW]
    new_rows.sort(key=lambda row: bool(row.parent_code))
    specs: dict[str, dict] = {}
    parents_in_db = (
        {task.code: task for task in Task.objects.filter(plan=plan, parent__isnull=True)}
        if preview.plan is not None
        else {}
    )
    for row in new_rows:
        values = row.values
        specs[row.code] = {
            "priority_area": areas[values["area_code"].casefold()],
            "code": row.code,
            "title": values["title"],
            "lead_agency": values["lead_agency"],
            "assigned_on": values["assigned_on"],
            "due": values["due"],
            "coordinating_agencies": values.get("coordinating", ()),
            "parent": (specs.get(row.parent_code) or parents_in_db[row.parent_code])
            if row.parent_code
            else None,
            "expected_output": values.get("expected_output", ""),
            "kpi_target": values.get("kpi_target"),
            "kpi_unit": values.get("kpi_unit", ""),
            "dti_index": values.get("dti_index"),
        }
    if specs:
        try:
            services.task_create_many(plan=plan, tasks=list(specs.values()))
        except ValidationError as exc:
            raise PlanImportError([CellError(m, sheet=SHEET_TASKS) for m in exc.messages]) from None
        summary["tasks_created"] = len(specs)
    done = len(specs)
    if progress is not None and done:
        progress(done)
    for row in preview.tasks:
        if row.status == NEW:
            continue
        try:
            _apply_task(row, areas, user, reason, summary)
        except ValidationError as exc:
            raise _row_error(row, exc) from None
        except services.StaleVersionError:
            raise PlanImportError(
                [
                    CellError(
                        _("The task changed while the file was being applied; try again."),
                        sheet=row.sheet,
                        row=row.row,
                    )
                ]
            ) from None
        done += 1
        if progress is not None:
            progress(done)
    return summary, plan


def _apply_task(row, areas, user, reason, summary) -> None:
    """Change one existing task as its row says (task_update_fields, task_adjust_due)."""
    values = row.values
    area = areas[values["area_code"].casefold()]
    if row.status == UNCHANGED:
        summary["tasks_unchanged"] += 1
        return
    task: Task = row.existing
    changed = {change.field for change in row.changes}
    fields = {}
    simple = {"title", "assigned_on", "expected_output", "kpi_target", "kpi_unit", "dti_index"}
    for name in changed & simple:
        fields[name] = values[name]
    if "priority_area" in changed:
        fields["priority_area"] = area
    if "lead_agency" in changed:
        fields["lead_agency"] = values["lead_agency"]
    coordinating = values["coordinating"] if "coordinating_agencies" in changed else None
    version = task.version
    if fields or coordinating is not None:
        task = services.task_update_fields(
            task=task,
            expected_version=version,
            coordinating_agencies=coordinating,
            author=user,
            reason=reason,
            source=ChangeSource.IMPORT,
            **fields,
        )
        version = task.version
        summary["tasks_updated"] += 1
    if "due" in changed:
        services.task_adjust_due(
            task=task,
            due=values["due"],
            author=user,
            reason=reason,
            expected_version=version,
            source=ChangeSource.IMPORT,
        )
        summary["due_adjusted"] += 1
        if not fields and coordinating is None:
            summary["tasks_updated"] += 1
