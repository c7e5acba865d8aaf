"""Reading and writing the product's Excel sheets (the plan template, the agencies' progress
sheets): the rules every uploaded workbook meets, cell references in error messages, and the
typed reading of a cell. openpyxl does the file format; this module says what we accept.

An uploaded workbook is refused, before any row is read, when it is:
- larger than MAX_UPLOAD_BYTES (10 MB);
- not an .xlsx file, or an .xlsx holding macros (an .xlsm renamed, or a VBA project inside);
- missing a sheet the caller needs, or a sheet has a column the caller does not know;
- holding a formula in any cell of a sheet the caller reads: a value must be typed in, so that
  what the preview shows is what is stored (a formula's cached result may be stale or empty).

Every workbook the product writes with openpyxl is saved through `workbook_bytes`, which
stores every text cell as text (`keep_text`): a task title "=HYPERLINK(…)" or "+1" typed by a
person stays that text in Excel and LibreOffice, never a live formula (issue 16). The
dashboard's and the monthly report's workbook (reports/excel.py) is written with XlsxWriter,
by the same rule (FORMULA_STARTS). The product writes no formula of its own.

Errors name the cell as a person finds it in Excel: sheet, row number, column letter and
header (`CellError`).
"""

import datetime
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

if TYPE_CHECKING:
    from tasks_app.models import SheetUpload

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DATE_FORMAT = "DD/MM/YYYY"
# The word written in a due-date cell of a regular task (no due date).
REGULAR_WORDS = {"thường xuyên", "thuong xuyen"}

_DATE_TEXT = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")


@dataclass(frozen=True)
class CellError:
    """A problem with one cell (row and column set), one row (column empty) or the whole
    file (sheet empty)."""

    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""  # the column's letter
    header: str = ""

    @property
    def cell(self) -> str:
        """The cell's address, e.g. "Nhiệm vụ!C12"; "" for a whole file or row."""
        if not self.sheet:
            return ""
        if self.row is None:
            return self.sheet
        return (
            f"{self.sheet}!{self.column}{self.row}" if self.column else f"{self.sheet}!{self.row}"
        )

    def __str__(self) -> str:
        if not self.sheet:
            return self.message
        if self.row is None:
            where = _("Sheet “%(sheet)s”") % {"sheet": self.sheet}
        elif self.column:
            where = _("Sheet “%(sheet)s”, row %(row)s, column %(column)s (%(header)s)") % {
                "sheet": self.sheet,
                "row": self.row,
                "column": self.column,
                "header": self.header,
            }
        else:
            where = _("Sheet “%(sheet)s”, row %(row)s") % {"sheet": self.sheet, "row": self.row}
        return f"{where}: {self.message}"

    def as_dict(self) -> dict:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "header": self.header,
            "cell": self.cell,
            "message": self.message,
        }


class SpreadsheetError(Exception):
    """The workbook is refused as a whole; `errors` says why (each a CellError)."""

    def __init__(self, errors: Sequence[CellError]):
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


def _refuse(message: str) -> SpreadsheetError:
    return SpreadsheetError([CellError(message)])


def open_workbook(content: bytes, name: str, *, sheets: Sequence[str]) -> Workbook:
    """The uploaded workbook, once it passed the file rules of this module's docstring that
    need no columns (size, format, macros, the `sheets` present, no formula in them).
    Raises SpreadsheetError."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise _refuse(
            _("The file is %(size)s MB; files over %(limit)s MB are not accepted.")
            % {
                "size": f"{len(content) / 1024 / 1024:.1f}".replace(".", ","),
                "limit": MAX_UPLOAD_BYTES // 1024 // 1024,
            }
        )
    lower = name.lower()
    if lower.endswith((".xlsm", ".xltm", ".xlam")):
        raise _refuse(_("Files with macros (.xlsm) are not accepted: save the workbook as .xlsx."))
    if not lower.endswith(".xlsx"):
        raise _refuse(_("Only Excel .xlsx files are accepted."))
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        raise _refuse(_("The file is not a readable Excel .xlsx workbook.")) from None
    if any(part.lower().endswith("vbaproject.bin") for part in names):
        raise _refuse(_("Files with macros (.xlsm) are not accepted: save the workbook as .xlsx."))
    try:
        workbook = load_workbook(io.BytesIO(content), data_only=False, read_only=False)
    except Exception:  # openpyxl raises many kinds on a damaged file
        raise _refuse(_("The file is not a readable Excel .xlsx workbook.")) from None
    missing = [sheet for sheet in sheets if sheet not in workbook.sheetnames]
    if missing:
        raise _refuse(
            _("The workbook must have the sheets %(sheets)s; missing: %(missing)s.")
            % {
                "sheets": ", ".join(f"“{s}”" for s in sheets),
                "missing": ", ".join(f"“{s}”" for s in missing),
            }
        )
    formulas = [error for sheet in sheets for error in formula_cells(workbook[sheet])]
    if formulas:
        raise SpreadsheetError(formulas)
    return workbook


def formula_cells(sheet: Worksheet) -> list[CellError]:
    """An error for each cell of `sheet` holding a formula."""
    headers = {cell.column: str(cell.value or "") for cell in sheet[1]} if sheet.max_row else {}
    return [
        CellError(
            _("The cell holds a formula (%(formula)s); type the value instead.")
            % {"formula": str(cell.value)[:60]},
            sheet=sheet.title,
            row=cell.row,
            column=cell.column_letter,
            header=headers.get(cell.column, ""),
        )
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


@dataclass(frozen=True)
class Columns:
    """The columns of a sheet whose first row holds the headers: header → column number."""

    sheet: str
    by_header: dict[str, int]

    def letter(self, header: str) -> str:
        return get_column_letter(self.by_header[header])

    def error(self, row: int, header: str, message: str) -> CellError:
        return CellError(
            message, sheet=self.sheet, row=row, column=self.letter(header), header=header
        )


def read_columns(
    sheet: Worksheet, *, required: Sequence[str], optional: Sequence[str] = ()
) -> Columns:
    """The header row of `sheet`, checked: every `required` header present, no header
    unknown, none twice. Raises SpreadsheetError naming the header cells."""
    errors = []
    known = set(required) | set(optional)
    by_header: dict[str, int] = {}
    for cell in sheet[1]:
        header = str(cell.value).strip() if cell.value is not None else ""
        if not header:
            continue
        where = {"sheet": sheet.title, "row": 1, "column": cell.column_letter, "header": header}
        if header not in known:
            errors.append(
                CellError(
                    _("Unknown column “%(header)s”; the columns are: %(known)s.")
                    % {"header": header, "known": ", ".join([*required, *optional])},
                    **where,
                )
            )
        elif header in by_header:
            errors.append(CellError(_("The column appears twice."), **where))
        else:
            by_header[header] = cell.column
    for header in required:
        if header not in by_header:
            errors.append(
                CellError(
                    _("The column “%(header)s” is missing.") % {"header": header},
                    sheet=sheet.title,
                    row=1,
                )
            )
    if errors:
        raise SpreadsheetError(errors)
    return Columns(sheet=sheet.title, by_header=by_header)


def data_rows(sheet: Worksheet, columns: Columns) -> Iterable[tuple[int, dict]]:
    """(row number, {header: raw value}) for each row below the headers that is not empty."""
    for number, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        row = {
            header: values[index - 1] if index - 1 < len(values) else None
            for header, index in columns.by_header.items()
        }
        if any(value not in (None, "") for value in row.values()):
            yield number, row


# --- Typed reading of a cell: each returns (value, error message or "") -------------------


def text(value) -> str:
    """A cell as text, trimmed; numbers typed as codes lose a trailing ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def date_value(value) -> tuple[datetime.date | None, str]:
    """A date typed as an Excel date or as text dd/mm/yyyy. 31/02/2026 is an error."""
    if value in (None, ""):
        return None, ""
    if isinstance(value, datetime.datetime):
        return value.date(), ""
    if isinstance(value, datetime.date):
        return value, ""
    match = _DATE_TEXT.match(str(value))
    if not match:
        return None, _("“%(value)s” is not a date; write it as dd/mm/yyyy.") % {"value": value}
    day, month, year = (int(part) for part in match.groups())
    try:
        return datetime.date(year, month, day), ""
    except ValueError:
        return None, _("%(value)s is not a day of the calendar.") % {"value": str(value).strip()}


def decimal_value(value) -> tuple[Decimal | None, str]:
    """A number typed as a number or as text with a decimal comma or point."""
    if value in (None, ""):
        return None, ""
    if isinstance(value, bool):
        return None, _("“%(value)s” is not a number.") % {"value": value}
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)), ""
    cleaned = str(value).strip().replace(" ", "").replace(",", ".")
    try:
        return Decimal(cleaned), ""
    except InvalidOperation:
        return None, _("“%(value)s” is not a number.") % {"value": value}


def codes(value) -> list[str]:
    """Codes written in one cell, separated by commas or semicolons."""
    return [part.strip() for part in re.split(r"[,;\n]", text(value)) if part.strip()]


# --- Writing ------------------------------------------------------------------------------

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E79")


def write_table(
    sheet: Worksheet,
    headers: Sequence[str],
    rows: Iterable[Sequence],
    *,
    widths: dict[str, int] | None = None,
) -> None:
    """Headers in bold on the first row (frozen), the rows below; dates shown dd/mm/yyyy."""
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    sheet.freeze_panes = "A2"
    for row in rows:
        sheet.append(list(row))
    for index, header in enumerate(headers, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = (widths or {}).get(header, 18)
        for cell in sheet[letter][1:]:
            if isinstance(cell.value, datetime.date):
                cell.number_format = DATE_FORMAT


def list_validation(
    sheet: Worksheet, header_column: int, source: str, *, rows: int = 5000, error: str = ""
) -> None:
    """Let the cells of a column be picked from a list (`source`, e.g. "'Cơ quan'!$A$2:$A$90");
    Excel warns on another value (the import checks it again)."""
    letter = get_column_letter(header_column)
    validation = DataValidation(
        type="list", formula1=source, allow_blank=True, showErrorMessage=True
    )
    validation.errorStyle = "warning"
    validation.error = error
    sheet.add_data_validation(validation)
    validation.add(f"{letter}2:{letter}{rows + 1}")


# What makes Excel or LibreOffice take typed text for a formula: "=", "+", "-" and "@" at the
# start, and a tab or carriage return before them (OWASP's CSV injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def keep_text(workbook: Workbook) -> None:
    """Store every text cell of `workbook` as text, never as a formula (issue 16).

    openpyxl takes any str starting with "=" for a formula; this undoes that, so the cell
    holds the person's text exactly. A text starting like a formula also gets Excel's
    quote prefix (the hidden leading apostrophe): shown as typed, and still text after
    someone edits the cell. The product writes no formula on purpose, so no cell keeps one."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
                    cell.data_type = "s"
                    cell.quotePrefix = True


def workbook_bytes(workbook: Workbook) -> bytes:
    """The .xlsx file of `workbook`, its text kept as text (`keep_text`). Every workbook the
    product produces is saved here."""
    keep_text(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload_store(
    *, kind: str, name: str, content: bytes, user, plan=None, agency=None
) -> "SheetUpload":
    """Keep an uploaded workbook for its preview and apply (SheetUpload). The caller has
    opened it with `open_workbook` first, so what is stored passed the file rules."""
    from tasks_app.models import SheetUpload

    return SheetUpload.objects.create(
        kind=kind,
        plan=plan,
        agency=agency,
        uploaded_by=user,
        original_name=name[:255],
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
    )
