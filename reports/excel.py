"""The dashboard's numbers as an Excel workbook (XlsxWriter), the twin of the page and the PDF.

`dashboard_workbook(board, tasks=…)` takes the selectors' `Dashboard` and returns the .xlsx
bytes: one sheet per section (summary, priority areas, agencies by level, overdue tasks,
trend) and, for the monthly report, every task with its state (the PDF's appendix may list
only part of them).
Headers are translated (Vietnamese by default); numbers are numbers, rates are percentages
rounded half-up to 0.1 % (tasks_app/formatting.py), dates as dd/mm/yyyy, so the sheet can
be recalculated and filtered.

Written with XlsxWriter, which writes each cell straight into the sheet's XML (issue 18: at
20,000 tasks the twin's 280,000 cells took openpyxl 3.6-5.9 CPU seconds, about 1.5 here,
measured in bench/README.md). Every cell is written by its kind (`write_string`,
`write_number`, `write_datetime`), never by guessing from the value, and the workbook is told
not to turn strings into formulas, numbers or links: a task title "=HYPERLINK(…)" or "+1"
typed by a person stays that text (issue 16), and a text that starts like a formula
(spreadsheets.FORMULA_STARTS, the rule the product's other workbooks follow) also gets
Excel's quote prefix, so it stays text after someone edits the cell.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.selectors import COUNTED_CATEGORIES, Counts, Dashboard
from tasks_app.choices import AgeingBand, ReportCategory
from tasks_app.formatting import percent_value
from tasks_app.spreadsheets import FORMULA_STARTS

HEADER_COLOUR = "#DDE4EE"
DATE_FORMAT = "DD/MM/YYYY"
PERCENT_FORMAT = "0.0%"
DEFAULT_WIDTH = 14
TABLE_ROW = 5  # the header's row, counted from 0 (row 6 in Excel), under the title lines


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


# The kind of each column of a table: how its cells are written.
TEXT, NUMBER, DATE, RATE = "text", "number", "date", "rate"
# The on-time rate's place among the count columns.
_RATE_AT = len(COUNTED_CATEGORIES) + 4


def _count_kinds() -> list[str]:
    kinds = [NUMBER] * len(_count_headers())
    kinds[_RATE_AT] = RATE
    return kinds


class _Book:
    """One workbook being written: its formats, made once, and the writers of its cells."""

    def __init__(self, output: io.BytesIO):
        self.book = xlsxwriter.Workbook(
            output,
            {
                # Each row goes to a temporary file once the next one starts: the 20,000
                # task lines are never all held as cell objects (Python's peak allocation
                # 2 MB at 20,000 tasks, 53 MB with "in_memory", which XlsxWriter does not
                # combine with this option; the same CPU time either way).
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
            },
        )
        add = self.book.add_format
        self.header_format = add(
            {"bold": True, "bg_color": HEADER_COLOUR, "text_wrap": True, "valign": "top"}
        )
        self.title_format = add({"bold": True, "font_size": 13})
        self.quoted_format = add({"quote_prefix": True})
        self.date_format = add({"num_format": DATE_FORMAT})
        self.rate_format = add({"num_format": PERCENT_FORMAT})
        self.writers: dict[str, Callable] = {
            TEXT: self.text,
            NUMBER: self.number,
            DATE: self.date,
            RATE: self.rate,
        }

    def sheet(self, name: str, widths: dict[int, int], columns: int):
        """A new sheet named `name` (cut to Excel's 31 characters); `widths` by column
        number from 1, the others DEFAULT_WIDTH."""
        sheet = self.book.add_worksheet(name[:31])
        for column in range(columns):
            sheet.set_column(column, column, widths.get(column + 1, DEFAULT_WIDTH))
        return sheet

    def text(self, sheet, row: int, column: int, value) -> None:
        if value is None or value == "":
            return
        value = str(value)
        if value.startswith(FORMULA_STARTS):
            sheet.write_string(row, column, value, self.quoted_format)
        else:
            sheet.write_string(row, column, value)

    def number(self, sheet, row: int, column: int, value) -> None:
        if value is not None:
            sheet.write_number(row, column, value)

    def date(self, sheet, row: int, column: int, value) -> None:
        if value is not None:
            sheet.write_datetime(row, column, value, self.date_format)

    def rate(self, sheet, row: int, column: int, value) -> None:
        if value is not None:
            sheet.write_number(row, column, value, self.rate_format)

    def header(self, sheet, headers: Sequence[str]) -> None:
        """The table's header at TABLE_ROW, frozen above the rows."""
        for column, header in enumerate(headers):
            sheet.write_string(TABLE_ROW, column, header, self.header_format)
        sheet.freeze_panes(TABLE_ROW + 1, 0)

    def title_lines(self, sheet, board: Dashboard, text: str) -> None:
        """The sheet's title lines above the table (rows 1-4)."""
        filters = board.filters
        sheet.write_string(0, 0, text, self.title_format)
        self.text(sheet, 1, 0, filters.plan.title)
        computed = timezone.localtime(board.computed_at).strftime("%H:%M %d/%m/%Y")
        self.text(
            sheet,
            2,
            0,
            _("As of {date}; computed at {time}").format(
                date=filters.as_of.strftime("%d/%m/%Y"), time=computed
            ),
        )
        scope = [
            str(x) for x in (filters.level, filters.priority_area, filters.agency) if x is not None
        ]
        if scope:
            self.text(sheet, 3, 0, _("Filters: {filters}").format(filters="; ".join(scope)))

    def table(
        self, sheet, headers: Sequence[str], kinds: Sequence[str], rows: Iterable[Sequence]
    ) -> int:
        """The header, then `rows` with each column written by its kind; returns the next
        free row."""
        self.header(sheet, headers)
        writers = [self.writers[kind] for kind in kinds]
        row = TABLE_ROW + 1
        for values in rows:
            for column, (write, value) in enumerate(zip(writers, values, strict=True)):
                write(sheet, row, column, value)
            row += 1
        return row

    def close(self) -> None:
        self.book.close()


def dashboard_workbook(board: Dashboard, tasks: Sequence | None = None) -> bytes:
    """The workbook of one dashboard (same filters, same numbers as the page); with `tasks`
    (the monthly report's task lines, reports.services.ListedTask), a sheet listing them."""
    output = io.BytesIO()
    book = _Book(output)
    count_headers, count_kinds = _count_headers(), _count_kinds()

    # 1. Summary: the totals, one figure per line.
    sheet = book.sheet(_("Summary"), {1: 42, 2: 16}, 2)
    book.title_lines(sheet, board, _("Digital transformation tasks: summary"))
    measures = list(zip(count_headers, count_kinds, _count_values(board.totals), strict=True))
    measures += [
        (_("Extensions granted"), NUMBER, board.extensions_granted),
        (_("Tasks with an extension"), NUMBER, board.extended_tasks),
    ]
    book.header(sheet, [_("Measure"), _("Number of tasks")])
    for row, (label, kind, value) in enumerate(measures, start=TABLE_ROW + 1):
        book.text(sheet, row, 0, label)
        book.writers[kind](sheet, row, 1, value)

    # 2. Priority areas.
    headers = [_("Code"), _("Priority area"), *count_headers]
    sheet = book.sheet(_("Priority areas"), {1: 10, 2: 48}, len(headers))
    book.title_lines(sheet, board, _("Tasks by priority area"))
    book.table(
        sheet,
        headers,
        [TEXT, TEXT, *count_kinds],
        ([area.code, area.name, *_count_values(area.counts)] for area in board.areas),
    )

    # 3. Agencies, ranked within each level.
    headers = [_("Level"), _("Rank"), _("Agency"), *count_headers]
    sheet = book.sheet(_("Agencies"), {1: 14, 2: 8, 3: 44}, len(headers))
    book.title_lines(sheet, board, _("Agencies ranked by on-time rate, by level"))
    book.table(
        sheet,
        headers,
        [TEXT, NUMBER, TEXT, *count_kinds],
        (
            [ranking.name, agency.rank, agency.name, *_count_values(agency.counts)]
            for ranking in board.rankings
            for agency in ranking.agencies
        ),
    )

    # 4. Overdue tasks, oldest first.
    headers = [
        _("Code"),
        _("Task"),
        _("Lead agency"),
        _("Priority area"),
        _("Due date in force"),
        _("Original due date"),
        _("Days overdue"),
        _("Progress (%)"),
    ]
    sheet = book.sheet(_("Overdue"), {1: 18, 2: 60, 3: 30, 4: 30}, len(headers))
    book.title_lines(sheet, board, _("Overdue tasks, oldest first"))
    row = book.table(
        sheet,
        headers,
        [TEXT, TEXT, TEXT, TEXT, DATE, DATE, NUMBER, NUMBER],
        (
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
            for task in board.overdue
        ),
    )
    if board.totals.overdue > len(board.overdue):
        book.text(
            sheet,
            row + 1,  # after an empty line
            0,
            _("{shown} of {total} overdue tasks are listed.").format(
                shown=len(board.overdue), total=board.totals.overdue
            ),
        )

    # 5. Trend: the categories at each month end.
    headers = [
        _("Date"),
        *_category_headers(),
        _("Total (without stopped)"),
        str(ReportCategory.WITHDRAWN.label),
    ]
    sheet = book.sheet(_("Trend"), {}, len(headers))
    book.title_lines(sheet, board, _("Tasks by status at the end of each month"))
    book.table(
        sheet,
        headers,
        [DATE] + [NUMBER] * (len(headers) - 1),
        (
            [
                point.date,
                *(getattr(point.counts, c) for c in COUNTED_CATEGORIES),
                point.counts.total,
                point.counts.withdrawn,
            ]
            for point in board.trend
        ),
    )

    # 6. Every task (monthly report): what the PDF's appendix lists, in full.
    if tasks is not None:
        headers = [
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
        ]
        sheet = book.sheet(_("Tasks"), {1: 6, 2: 30, 3: 14, 4: 60, 5: 30, 8: 22}, len(headers))
        book.title_lines(sheet, board, _("Tasks and their progress"))
        book.table(
            sheet,
            headers,
            [NUMBER, TEXT, TEXT, TEXT, TEXT, DATE, DATE, TEXT, DATE, NUMBER],
            (
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
                for number, task in enumerate(tasks, start=1)
            ),
        )

    book.close()
    return output.getvalue()
