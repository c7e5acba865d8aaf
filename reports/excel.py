"""The dashboard's numbers as an Excel workbook (openpyxl), the twin of the page and the PDF.

`dashboard_workbook(board, tasks=…)` takes the selectors' `Dashboard` and returns the .xlsx
bytes: one sheet per section (summary, priority areas, agencies by level, overdue tasks,
trend) and, for the monthly report, every task with its state (the PDF's appendix may list
only part of them).
Headers are translated (Vietnamese by default); numbers are numbers, rates are percentages
rounded half-up to 0.1 % (tasks_app/formatting.py), dates as dd/mm/yyyy, so the sheet can
be recalculated and filtered.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from reports.selectors import COUNTED_CATEGORIES, Counts, Dashboard
from tasks_app.choices import AgeingBand, ReportCategory
from tasks_app.formatting import percent_value
from tasks_app.spreadsheets import workbook_bytes

HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
BOLD = Font(bold=True)
DATE_FORMAT = "DD/MM/YYYY"
PERCENT_FORMAT = "0.0%"


def _rate(rate) -> float | None:
    """A rate cell's value: numeric, rounded half-up to 0.1 % as on the page and in the PDF
    (5/11 → 0.455, shown "45.5%"), so Excel's own display rounding has nothing to change."""
    value = percent_value(rate)
    return None if value is None else float(value / 100)


def _category_headers() -> list[str]:
    return [str(ReportCategory(c).label) for c in COUNTED_CATEGORIES]


def _count_headers() -> list[str]:
    return [
        *_category_headers(),
        _("Total (without stopped)"),
        str(ReportCategory.WITHDRAWN.label),
        _("Due by the date"),
        _("Due and completed on time"),
        _("On-time rate"),
        *(str(band.label) for band in AgeingBand),
    ]


def _count_values(counts: Counts) -> list:
    return [
        *(getattr(counts, c) for c in COUNTED_CATEGORIES),
        counts.total,
        counts.withdrawn,
        counts.due,
        counts.due_on_time,
        _rate(counts.on_time_rate),
        *(n for _band, n in counts.ageing),
    ]


def _header(sheet, row: int, values: list[str]) -> None:
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row=row, column=column, value=value)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = f"A{row + 1}"  # a coordinate: creating the cell would move append()


def _format_rates(sheet, column: int, first_row: int) -> None:
    for row in range(first_row, sheet.max_row + 1):
        sheet.cell(row=row, column=column).number_format = PERCENT_FORMAT


def _format_dates(sheet, columns: tuple[int, ...], first_row: int) -> None:
    for row in range(first_row, sheet.max_row + 1):
        for column in columns:
            sheet.cell(row=row, column=column).number_format = DATE_FORMAT


def _widths(sheet, widths: dict[int, int], default: int = 14) -> None:
    for column in range(1, sheet.max_column + 1):
        sheet.column_dimensions[get_column_letter(column)].width = widths.get(column, default)


def _title(sheet, board: Dashboard, text: str) -> int:
    """Write the sheet's title lines; return the row of the table header."""
    filters = board.filters
    sheet.cell(row=1, column=1, value=text).font = Font(bold=True, size=13)
    sheet.cell(row=2, column=1, value=filters.plan.title)
    sheet.cell(
        row=3,
        column=1,
        value=_("As of {date}; computed at {time}").format(
            date=filters.as_of.strftime("%d/%m/%Y"),
            time=timezone.localtime(board.computed_at).strftime("%H:%M %d/%m/%Y"),
        ),
    )
    scope = [
        str(x) for x in (filters.level, filters.priority_area, filters.agency) if x is not None
    ]
    if scope:
        sheet.cell(row=4, column=1, value=_("Filters: {filters}").format(filters="; ".join(scope)))
    return 6


def dashboard_workbook(board: Dashboard, tasks: Sequence | None = None) -> bytes:
    """The workbook of one dashboard (same filters, same numbers as the page); with `tasks`
    (the monthly report's task lines, reports.services.ListedTask), a sheet listing them."""
    book = Workbook()

    # 1. Summary: the totals, one figure per line.
    sheet = book.active
    sheet.title = _("Summary")[:31]
    row = _title(sheet, board, _("Digital transformation tasks: summary"))
    _header(sheet, row, [_("Measure"), _("Number of tasks")])
    measures = list(zip(_count_headers(), _count_values(board.totals), strict=True))
    measures += [
        (_("Extensions granted"), board.extensions_granted),
        (_("Tasks with an extension"), board.extended_tasks),
    ]
    for offset, (label, value) in enumerate(measures, start=1):
        sheet.cell(row=row + offset, column=1, value=label)
        cell = sheet.cell(row=row + offset, column=2, value=value)
        if label == _("On-time rate"):
            cell.number_format = PERCENT_FORMAT
    _widths(sheet, {1: 42, 2: 16})

    # 2. Priority areas.
    sheet = book.create_sheet(_("Priority areas")[:31])
    row = _title(sheet, board, _("Tasks by priority area"))
    _header(sheet, row, [_("Code"), _("Priority area"), *_count_headers()])
    for area in board.areas:
        sheet.append([area.code, area.name, *_count_values(area.counts)])
    _format_rates(sheet, 2 + 11, row + 1)
    _widths(sheet, {1: 10, 2: 48})

    # 3. Agencies, ranked within each level.
    sheet = book.create_sheet(_("Agencies")[:31])
    row = _title(sheet, board, _("Agencies ranked by on-time rate, by level"))
    _header(sheet, row, [_("Level"), _("Rank"), _("Agency"), *_count_headers()])
    for ranking in board.rankings:
        for agency in ranking.agencies:
            sheet.append([ranking.name, agency.rank, agency.name, *_count_values(agency.counts)])
    _format_rates(sheet, 3 + 11, row + 1)
    _widths(sheet, {1: 14, 2: 8, 3: 44})

    # 4. Overdue tasks, oldest first.
    sheet = book.create_sheet(_("Overdue")[:31])
    row = _title(sheet, board, _("Overdue tasks, oldest first"))
    _header(
        sheet,
        row,
        [
            _("Code"),
            _("Task"),
            _("Lead agency"),
            _("Priority area"),
            _("Due date in force"),
            _("Original due date"),
            _("Days overdue"),
            _("Progress (%)"),
        ],
    )
    for task in board.overdue:
        sheet.append(
            [
                task.code,
                task.title,
                task.lead_agency,
                task.priority_area,
                task.due,
                task.original_due,
                task.days_overdue,
                task.progress,
            ]
        )
    _format_dates(sheet, (5, 6), row + 1)
    if board.totals.overdue > len(board.overdue):
        sheet.append([])
        sheet.append(
            [
                _("{shown} of {total} overdue tasks are listed.").format(
                    shown=len(board.overdue), total=board.totals.overdue
                )
            ]
        )
    _widths(sheet, {1: 18, 2: 60, 3: 30, 4: 30})

    # 5. Trend: the categories at each month end.
    sheet = book.create_sheet(_("Trend")[:31])
    row = _title(sheet, board, _("Tasks by status at the end of each month"))
    _header(
        sheet,
        row,
        [
            _("Date"),
            *_category_headers(),
            _("Total (without stopped)"),
            str(ReportCategory.WITHDRAWN.label),
        ],
    )
    for point in board.trend:
        counts = point.counts
        sheet.append(
            [point.date, *(getattr(counts, c) for c in COUNTED_CATEGORIES), counts.total]
            + [counts.withdrawn]
        )
        sheet.cell(row=sheet.max_row, column=1).number_format = DATE_FORMAT
    _widths(sheet, {1: 14})

    # 6. Every task (monthly report): what the PDF's appendix lists, in full.
    if tasks is not None:
        sheet = book.create_sheet(_("Tasks")[:31])
        row = _title(sheet, board, _("Tasks and their progress"))
        _header(
            sheet,
            row,
            [
                _("No."),
                _("Priority area"),
                _("Code"),
                _("Task"),
                _("Lead agency"),
                _("Due date in force"),
                _("Original due date"),
                _("Status"),
                _("Completed on"),
                _("Progress (%)"),
            ],
        )
        for number, task in enumerate(tasks, start=1):
            sheet.append(
                [
                    number,
                    task.priority_area,
                    task.code,
                    task.title,
                    task.lead_agency,
                    task.due,
                    task.original_due,
                    task.category_label,
                    task.completed_on,
                    task.progress,
                ]
            )
        _format_dates(sheet, (6, 7, 9), row + 1)
        _widths(sheet, {1: 6, 2: 30, 3: 14, 4: 60, 5: 30, 8: 22})

    return workbook_bytes(book)  # text stays text, never a formula (issue 16)
