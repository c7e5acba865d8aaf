"""An agency's progress sheet: many progress reports at once, through Excel.

1. `progress_workbook(user, agency)`: the agency's open tasks that the user reports on (the
   lead agency's leaf tasks not completed or stopped, as the staff task list selects them),
   each with the `version` it had when downloaded, and empty columns to fill in.
2. `progress_preview(content, name, user, agency)`: what each row of the filled sheet would
   record: nothing (every fill-in cell empty), an update, or a refusal: an error (named by
   its cell) or a stale row (the task changed since the download; who changed it is said).
   Every update is checked with the rules of `services.status_update_record`
   (`services.status_update_validate`), in a constant number of queries.
3. `progress_apply(upload, user)`: the stored file previewed again; when no row is refused,
   one `services.status_update_record` per update, all in one transaction, each at the
   version of the sheet: a change made since the preview undoes them all.

The headers, the sheet's name and the state labels are Vietnamese whatever the user's
language: they are the file's format, read back on upload.
"""

import datetime
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import PatternFill

from tasks_app import permissions, selectors, services, spreadsheets
from tasks_app.choices import FINISHED_STATES, TaskState
from tasks_app.formatting import full_name
from tasks_app.forms import LEAD_STATE_LABELS
from tasks_app.models import Agency, SheetUpload, StatusUpdate, Task, TaskChange
from tasks_app.search import fold
from tasks_app.spreadsheets import CellError, Columns, SpreadsheetError

SHEET = "Tiến độ"
CODE = "Mã nhiệm vụ"
TITLE = "Tên nhiệm vụ"
DUE = "Hạn hoàn thành"
VERSION = "Phiên bản"
CURRENT_STATE = "Trạng thái hiện tại"
CURRENT_PROGRESS = "Tiến độ hiện tại (%)"
NEW_STATE = "Trạng thái mới"
PROGRESS = "Tiến độ (%)"
COMPLETED_ON = "Ngày hoàn thành"
RESULT = "Kết quả"
DIFFICULTIES = "Khó khăn"
PROPOSALS = "Đề xuất"
KPI = "Chỉ số KPI đạt được"

INFO_HEADERS = (CODE, TITLE, DUE, VERSION, CURRENT_STATE, CURRENT_PROGRESS)
FILL_HEADERS = (NEW_STATE, PROGRESS, COMPLETED_ON, RESULT, DIFFICULTIES, PROPOSALS, KPI)
HEADERS = (*INFO_HEADERS, *FILL_HEADERS)

# The states a task on the sheet may be in (the others are completed or stopped).
OPEN_STATES = tuple(state for state in TaskState if state not in FINISHED_STATES)

# Which column a message of the service about a field belongs to.
_COLUMN_OF_FIELD = {
    "state": NEW_STATE,
    "reason": NEW_STATE,
    "progress": PROGRESS,
    "completed_on": COMPLETED_ON,
    "result": RESULT,
    "difficulties": DIFFICULTIES,
    "proposals": PROPOSALS,
    "kpi_actual": KPI,
}

_GREY = PatternFill("solid", fgColor="E7E6E6")
_WIDTHS = {
    CODE: 16,
    TITLE: 50,
    DUE: 14,
    VERSION: 10,
    CURRENT_STATE: 22,
    CURRENT_PROGRESS: 12,
    NEW_STATE: 30,
    PROGRESS: 12,
    COMPLETED_ON: 16,
    RESULT: 40,
    DIFFICULTIES: 30,
    PROPOSALS: 30,
    KPI: 16,
}


def state_labels() -> dict[str, str]:
    """The labels of the states an agency may choose on the sheet (those of the progress
    form, in Vietnamese), by state."""
    with translation.override("vi"):
        return {state: str(label) for state, label in LEAD_STATE_LABELS.items()}


def _state_by_label() -> dict[str, str]:
    """Folded label → state: the form's labels, and the states' own names (a person may
    type "Chờ xác nhận hoàn thành")."""
    with translation.override("vi"):
        by_label: dict[str, str] = {
            fold(str(TaskState(state).label)): str(state) for state in OPEN_STATES
        }
    by_label.update({fold(label): state for state, label in state_labels().items()})
    return by_label


def tasks_to_report(user, agency: Agency):
    """The agency's tasks that the user reports on through the sheet: from the staff task
    list's selector, those the agency itself leads, open, and not split per agency (a split
    task takes its progress from its children). None unless the user is the agency's
    staff (permissions.can_report_progress)."""
    if not permissions.reports_for(user, agency.pk):
        return Task.objects.none()
    return selectors.task_list_filtered(
        user=user, lead_agency=agency.pk, state=OPEN_STATES, is_parent=False
    ).order_by("plan_id", "code")


# --- Download -------------------------------------------------------------------------------


def progress_workbook(user, agency: Agency) -> bytes:
    """The sheet "Tiến độ" of the agency's open tasks (tasks_to_report), in code order."""
    if not permissions.reports_for(user, agency.pk):
        raise PermissionDenied
    with translation.override("vi"):
        rows = [
            (
                task.code,
                task.title,
                task.due if task.due else "Thường xuyên",
                task.version,
                str(TaskState(task.state).label),
                task.progress,
                *([None] * len(FILL_HEADERS)),
            )
            for task in tasks_to_report(user, agency)
        ]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET
    spreadsheets.write_table(sheet, HEADERS, rows, widths=_WIDTHS)
    for column in range(1, len(INFO_HEADERS) + 1):
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.fill = _GREY
    labels = list(state_labels().values())
    spreadsheets.list_validation(
        sheet,
        HEADERS.index(NEW_STATE) + 1,
        '"' + ",".join(labels) + '"',
        rows=max(len(rows), 1),
        error=_("Choose a state from the list."),
    )
    completed_on = HEADERS.index(COMPLETED_ON) + 1
    for (cell,) in sheet.iter_rows(
        min_row=2, max_row=len(rows) + 1, min_col=completed_on, max_col=completed_on
    ):
        cell.number_format = spreadsheets.DATE_FORMAT
    return spreadsheets.workbook_bytes(workbook)


def workbook_name(agency: Agency, today: datetime.date) -> str:
    return f"tien-do-{agency.code}-{today:%Y%m%d}.xlsx"


# --- Preview --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaleInfo:
    """The task changed after the sheet was downloaded: by whom and when (None when the
    change left no trace, e.g. made in the admin)."""

    sheet_version: int
    version: int
    author: str
    changed_at: datetime.datetime | None


class RowKind:
    UNCHANGED = "unchanged"
    UPDATE = "update"
    STALE = "stale"
    ERROR = "error"


@dataclass
class SheetRow:
    number: int
    code: str
    task: Task | None = None
    sheet_version: int | None = None
    # The update the row records (unsaved; checked by services.status_update_validate).
    update: StatusUpdate | None = None
    errors: list[CellError] = field(default_factory=list)
    stale: StaleInfo | None = None
    fields: dict = field(default_factory=dict)

    @property
    def kind(self) -> str:
        if self.errors:
            return RowKind.ERROR
        if self.stale:
            return RowKind.STALE
        return RowKind.UPDATE if self.update is not None else RowKind.UNCHANGED


@dataclass
class ProgressPreview:
    agency: Agency
    rows: list[SheetRow] = field(default_factory=list)
    # Problems of the whole file (its format, its columns).
    file_errors: list[CellError] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[SheetRow]:
        return [row for row in self.rows if row.kind == kind]

    @property
    def updates(self) -> list[SheetRow]:
        return self.of_kind(RowKind.UPDATE)

    @property
    def unchanged(self) -> list[SheetRow]:
        return self.of_kind(RowKind.UNCHANGED)

    @property
    def stale(self) -> list[SheetRow]:
        """Rows of tasks changed since the download (with an error or not)."""
        return [row for row in self.rows if row.stale is not None]

    @property
    def errors(self) -> list[CellError]:
        return [*self.file_errors, *(error for row in self.rows for error in row.errors)]

    @property
    def error_rows(self) -> list[SheetRow]:
        return self.of_kind(RowKind.ERROR)

    @property
    def can_apply(self) -> bool:
        return not self.errors and not self.stale and bool(self.updates)


def open_sheet(content: bytes, name: str):
    """The sheet and its columns, once the file passed the rules of every uploaded workbook
    (spreadsheets.open_workbook) and has the sheet's columns. Raises SpreadsheetError."""
    workbook = spreadsheets.open_workbook(content, name, sheets=[SHEET])
    sheet = workbook[SHEET]
    columns = spreadsheets.read_columns(sheet, required=HEADERS)
    return sheet, columns


def progress_preview(content: bytes, name: str, user, agency: Agency) -> ProgressPreview:
    """What each row of the uploaded sheet would record (see the module's docstring)."""
    preview = ProgressPreview(agency=agency)
    try:
        sheet, columns = open_sheet(content, name)
    except SpreadsheetError as exc:
        preview.file_errors = exc.errors
        return preview
    raw_rows = []
    for number, values in spreadsheets.data_rows(sheet, columns):
        if any(values[header] not in (None, "") for header in FILL_HEADERS):
            raw_rows.append((number, values))
        else:  # nothing filled in: no update, whatever the other cells hold
            preview.rows.append(SheetRow(number=number, code=spreadsheets.text(values[CODE])))
    codes = [spreadsheets.text(values[CODE]) for _number, values in raw_rows]
    tasks: dict[str, list[Task]] = {}
    for task in tasks_to_report(user, agency).filter(code__in=[c for c in codes if c]):
        tasks.setdefault(task.code, []).append(task)
    others = _visible_elsewhere(user, [c for c in codes if c and c not in tasks])
    seen: dict[str, int] = {}
    by_label = _state_by_label()
    recorded_at = timezone.now()
    for number, values in raw_rows:
        row = _read_row(number, values, columns, tasks, others, seen, by_label, agency)
        if row.update is None and not row.errors and row.task is not None:
            row.update = _checked(row, columns, user, agency, recorded_at)
        preview.rows.append(row)
    preview.rows.sort(key=lambda row: row.number)
    _explain_stale([row for row in preview.rows if row.stale is not None])
    return preview


def _visible_elsewhere(user, codes: list[str]) -> dict[str, Task]:
    """Tasks the user may see, with these codes, that are not on the agency's sheet: the
    reason a code is refused is then said (another agency's, completed, split); a code
    of a hidden task is refused as unknown, as a hidden task's page answers 404."""
    if not codes:
        return {}
    found = permissions.tasks_visible_to(user).filter(code__in=codes).select_related("lead_agency")
    return {task.code: task for task in found}


def _read_row(number, values, columns: Columns, tasks, others, seen, by_label, agency):
    code = spreadsheets.text(values[CODE])
    row = SheetRow(number=number, code=code)

    def error(header: str, message: str) -> None:
        row.errors.append(columns.error(number, header, message))

    if not code:
        error(CODE, _("Enter the task code (download the sheet again to get it)."))
        return row
    if code in seen:
        error(CODE, _("The task is already on row %(row)s of the file.") % {"row": seen[code]})
        return row
    seen[code] = number
    matches = tasks.get(code, [])
    if not matches:
        error(CODE, _refusal(code, others.get(code), agency))
        return row
    if len(matches) > 1:
        error(CODE, _("Several plans have a task with this code; report it on its page."))
        return row
    task = row.task = matches[0]
    version = spreadsheets.text(values[VERSION])
    if not version.isdigit():
        error(VERSION, _("The version is missing or changed; download the sheet again."))
    else:
        row.sheet_version = int(version)
        if row.sheet_version != task.version:
            row.stale = StaleInfo(row.sheet_version, task.version, "", None)

    state_text = spreadsheets.text(values[NEW_STATE])
    if not state_text:
        state = task.state
    elif fold(state_text) in by_label:
        state = by_label[fold(state_text)]
    else:
        state = task.state
        error(
            NEW_STATE,
            _("Unknown state “%(value)s”; choose one of: %(states)s.")
            % {
                "value": state_text,
                "states": ", ".join(f"“{label}”" for label in state_labels().values()),
            },
        )
    progress = _progress(values[PROGRESS], task, error)
    completed_on, message = spreadsheets.date_value(values[COMPLETED_ON])
    if message:
        error(COMPLETED_ON, message)
    kpi, message = spreadsheets.decimal_value(values[KPI])
    if message:
        error(KPI, message)
    row.fields = {
        "state": state,
        "progress": progress,
        "completed_on": completed_on,
        "kpi_actual": kpi,
        "result": spreadsheets.text(values[RESULT]),
        "difficulties": spreadsheets.text(values[DIFFICULTIES]),
        "proposals": spreadsheets.text(values[PROPOSALS]),
    }
    return row


def _progress(value, task: Task, error) -> int:
    """The progress typed (the current one when empty); whole numbers only."""
    if isinstance(value, str):
        value = value.strip().removesuffix("%")
    number, message = spreadsheets.decimal_value(value)
    if message:
        error(PROGRESS, message)
        return task.progress
    if number is None:
        return task.progress
    if number != number.to_integral_value():
        error(PROGRESS, _("Enter a whole number from 0 to 100."))
        return task.progress
    return int(number)


def _refusal(code: str, task: Task | None, agency: Agency) -> str:
    if task is None:
        return _("No task has the code “%(code)s”, or it is not visible to you.") % {"code": code}
    if task.lead_agency_id != agency.pk:
        return _("Task %(code)s is led by %(agency)s, not by %(own)s.") % {
            "code": code,
            "agency": task.lead_agency,
            "own": agency,
        }
    if task.state in FINISHED_STATES:
        return _(
            "Task %(code)s is completed or stopped; only the monitoring agency can reopen it."
        ) % {"code": code}
    return _(
        "Task %(code)s is split per agency: its progress comes from the agencies' reports."
    ) % {"code": code}


def _checked(row: SheetRow, columns: Columns, user, agency, recorded_at) -> StatusUpdate | None:
    """The row's update checked by the service's rules; its errors named by cell. A stale
    row is not checked: its task changed, the manager downloads the sheet again."""
    if row.stale is not None:
        return None
    assert row.task is not None
    try:
        return services.status_update_validate(
            row.task, author=user, agency=agency, recorded_at=recorded_at, **row.fields
        )
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            header = _COLUMN_OF_FIELD.get(name, NEW_STATE)
            for message in messages:
                row.errors.append(columns.error(row.number, header, message))
        return None


def _explain_stale(rows: list[SheetRow]) -> None:
    """Who changed each stale row's task last, and when: the author of its latest status
    update or field change, whichever is newer. Three queries however many rows."""
    if not rows:
        return
    updates = StatusUpdate.objects.filter(task=OuterRef("pk")).order_by("-recorded_at", "-pk")
    changes = TaskChange.objects.filter(task=OuterRef("pk")).order_by("-changed_at", "-pk")
    latest = {
        values["pk"]: values
        for values in Task.objects.filter(pk__in=[row.task.pk for row in rows if row.task])
        .annotate(
            update_author=Subquery(updates.values("author")[:1]),
            update_at=Subquery(updates.values("recorded_at")[:1]),
            change_author=Subquery(changes.values("author")[:1]),
            change_at=Subquery(changes.values("changed_at")[:1]),
        )
        .values("pk", "update_author", "update_at", "change_author", "change_at")
    }
    authors = {
        value
        for values in latest.values()
        for value in (values["update_author"], values["change_author"])
        if value is not None
    }
    users = get_user_model().objects.in_bulk(list(authors))
    for row in rows:
        assert row.task is not None and row.stale is not None
        values = latest.get(row.task.pk, {})
        candidates = [
            (at, author)
            for at, author in (
                (values.get("update_at"), values.get("update_author")),
                (values.get("change_at"), values.get("change_author")),
            )
            if at is not None
        ]
        if not candidates:
            continue
        at, author = max(candidates, key=lambda pair: pair[0])
        row.stale = StaleInfo(
            row.stale.sheet_version, row.stale.version, full_name(users.get(author)), at
        )


# --- Apply ----------------------------------------------------------------------------------


class SheetNotApplied(Exception):
    """Nothing of the file was recorded; the message says why."""


def progress_apply(upload: SheetUpload, user) -> dict:
    """Record the updates of a previewed upload (see the module's docstring). Raises
    SheetNotApplied when the file has a refused row or was applied already,
    services.StaleVersionError when a task changed since the preview; nothing is written
    then."""
    if upload.kind != SheetUpload.Kind.PROGRESS or upload.agency is None:
        raise SheetNotApplied(_("This file is not a progress sheet."))
    if upload.uploaded_by_id != user.pk or not permissions.reports_for(user, upload.agency.pk):
        raise PermissionDenied
    with transaction.atomic():
        locked = SheetUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.applied_at is not None:
            raise SheetNotApplied(_("This file was recorded already."))
        preview = progress_preview(bytes(locked.content), locked.original_name, user, upload.agency)
        if not preview.can_apply:
            raise SheetNotApplied(
                _("Nothing was recorded: correct or remove the refused rows, then upload again.")
                if preview.errors or preview.stale
                else _("The file has no update to record.")
            )
        for row in preview.updates:
            assert row.task is not None
            services.status_update_record(
                task=row.task,
                author=user,
                agency=upload.agency,
                expected_version=row.sheet_version,
                **row.fields,
            )
        summary = {
            "updates": len(preview.updates),
            "unchanged": len(preview.unchanged),
            "tasks": [row.code for row in preview.updates],
        }
        locked.applied_at = timezone.now()
        locked.summary = summary
        locked.save(update_fields=["applied_at", "summary"])
    upload.applied_at, upload.summary = locked.applied_at, summary
    return summary


def upload_get(*, user, pk: int) -> SheetUpload:
    """A progress sheet uploaded by the user (any for a monitor). Raises
    SheetUpload.DoesNotExist otherwise: the page answers 404."""
    uploads = SheetUpload.objects.filter(kind=SheetUpload.Kind.PROGRESS).select_related(
        "agency", "uploaded_by"
    )
    if not permissions.is_monitor(user):
        uploads = uploads.filter(uploaded_by=user)
    return uploads.get(pk=pk)
