"""The Excel download: the same numbers as the page, with the same filters."""

import datetime
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from reports.excel import dashboard_workbook
from reports.selectors import dashboard_summary

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
