"""The Excel download: the same numbers as the page, with the same filters."""

import datetime
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reports.excel import dashboard_workbook
from reports.selectors import dashboard_summary
from reports.services import report_appendix

pytestmark = pytest.mark.django_db


def test_workbook_opens_and_has_the_numbers(demo_user, at):
    board = dashboard_summary(
        user=demo_user("lanhdao"), filters=at(datetime.date(2022, 12, 31)), overdue_limit=None
    )
    book = load_workbook(BytesIO(dashboard_workbook(board)))
    assert len(book.worksheets) == 5
    summary = {row[0]: row[1] for row in book.worksheets[0].iter_rows(min_row=7, values_only=True)}
    values = list(summary.values())
    # The order of the summary: the six categories, total, withdrawn, due, due on time…
    assert values[:10] == [23, 9, 15, 10, 3, 1, 61, 1, 59, 23]
    # The on-time rate is numeric, rounded half-up to 0.1 % as on the page: 23/59 = 38.98…
    # → 39.0 %.
    assert values[10] == 0.39
    overdue = list(book.worksheets[3].iter_rows(min_row=7, values_only=True))
    assert [row[0] for row in overdue[:2]] == ["CDS22-22", "CDS22-08"]
    assert overdue[0][6] == 184
    trend = list(book.worksheets[4].iter_rows(min_row=7, values_only=True))
    assert len(trend) == 12  # the twelve month ends of 2022
    assert trend[-1][7] == 61


def test_export_view_uses_the_filters(client, demo_user):
    client.force_login(demo_user("lanhdao"))
    response = client.get(reverse("reports:dashboard-export"), {"as_of": "2022-06-30"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert "2022-06-30" in response["Content-Disposition"]
    book = load_workbook(BytesIO(response.content))
    rows = list(book.worksheets[0].iter_rows(min_row=7, values_only=True))
    assert [row[1] for row in rows[:6]] == [5, 1, 40, 1, 13, 1]
    assert "30/06/2022" in book.worksheets[0]["A3"].value  # the as-of line, in the language


def test_the_workbook_keeps_its_formats_for_a_person_reading_it(demo_user, at):
    """Dates are dates shown dd/mm/yyyy, rates percentages, the header bold on its colour and
    frozen above the rows, the task column wide enough to read."""
    board = dashboard_summary(
        user=demo_user("lanhdao"), filters=at(datetime.date(2022, 12, 31)), overdue_limit=None
    )
    book = load_workbook(BytesIO(dashboard_workbook(board)))
    summary, areas, _agencies, overdue, trend = book.worksheets
    assert [sheet.freeze_panes for sheet in book.worksheets] == ["A7"] * 5
    header = overdue["B6"]
    assert (header.value, header.font.b, header.fill.fgColor.rgb) == ("Nhiệm vụ", True, "FFDDE4EE")
    assert overdue.column_dimensions["B"].width == pytest.approx(60, abs=1)
    due = overdue["E7"]
    assert isinstance(due.value, datetime.datetime) and due.number_format == "DD/MM/YYYY"
    rate = summary["B17"]
    assert (summary["A17"].value, rate.value, rate.number_format) == (
        "Tỷ lệ đúng hạn",
        0.39,
        "0.0%",
    )
    assert areas["M7"].number_format == "0.0%"
    assert trend["A7"].is_date and trend["A7"].number_format == "DD/MM/YYYY"


def test_the_monthly_workbook_lists_every_task_and_says_when_overdue_is_cut(demo_user, at):
    """The sheets a reader sees, by name; the sheet of every task (monthly report) laid out
    as the others, its dates real dates; an overdue list cut short says how many it shows."""
    end_of_year = at(datetime.date(2022, 12, 31))
    board = dashboard_summary(user=demo_user("lanhdao"), filters=end_of_year, overdue_limit=2)
    lines = [row for group in report_appendix(filters=end_of_year) for row in group["rows"]]
    book = load_workbook(BytesIO(dashboard_workbook(board, tasks=lines)))

    assert book.sheetnames == [
        "Tổng hợp",
        "Lĩnh vực ưu tiên",
        "Cơ quan, đơn vị",
        "Quá hạn",
        "Diễn biến",
        "Nhiệm vụ",
    ]
    overdue, tasks = book["Quá hạn"], book["Nhiệm vụ"]
    assert board.totals.overdue > 2
    note = overdue.cell(row=7 + 2 + 1, column=1)  # two rows listed, then an empty line
    assert note.value == f"Danh sách gồm 2 trong tổng số {board.totals.overdue} nhiệm vụ quá hạn."
    assert note.data_type == "s"

    assert tasks["A1"].value == "Danh sách nhiệm vụ và tiến độ thực hiện"
    assert tasks.freeze_panes == "A7"
    header = tasks["I6"]
    assert (header.value, header.font.b, header.fill.fgColor.rgb) == (
        "Ngày hoàn thành",
        True,
        "FFDDE4EE",
    )
    assert (header.alignment.wrap_text, header.alignment.vertical) == (True, "top")
    assert tasks.column_dimensions["D"].width == pytest.approx(60, abs=1)
    rows = list(tasks.iter_rows(min_row=7))
    assert [row[0].value for row in rows] == list(range(1, len(lines) + 1))
    assert [row[2].value for row in rows] == [line.code for line in lines]
    done = next(i for i, line in enumerate(lines) if line.completed_on is not None)
    due, completed = rows[done][5], rows[done][8]
    assert (due.value.date(), due.number_format) == (lines[done].due, "DD/MM/YYYY")
    assert (completed.value.date(), completed.number_format) == (
        lines[done].completed_on,
        "DD/MM/YYYY",
    )
    open_task = next(i for i, line in enumerate(lines) if line.completed_on is None)
    assert rows[open_task][8].value is None
    assert rows[open_task][9].value == lines[open_task].progress
