"""Text a person typed stays text in the dashboard's workbook and in the monthly report's
workbook (issue 16): a task title, a priority area's or an agency's name starting with "=",
"+", "-" or "@" is a text cell holding it exactly, and no cell is a formula."""

# ruff: noqa: F811

import datetime

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from reports.services import monthly_report_generate

# The monthly report's stand-in for WeasyPrint (tests/reports/test_pdf.py).
from tests.reports.test_pdf import fake_pdf  # noqa: F401
from tests.tasks_app.text_cells import FORMULA_LIKE, assert_kept_as_text, text_cells

pytestmark = pytest.mark.django_db

HYPERLINK, PLUS, MINUS, AT = FORMULA_LIKE
D = datetime.date


@pytest.fixture
def formula_like_tasks(make_task, area, agencies):
    """Tasks of June 2022, overdue at its end, their titles, area and lead agency named like
    formulas."""
    agencies["stttt"].doc_code = "STTTT"  # the monthly report's document code
    agencies["stttt"].save()
    area.name = MINUS
    area.save()
    agencies["haihau"].name = AT
    agencies["haihau"].short_name = AT
    agencies["haihau"].save()
    return [
        make_task(code=f"T-{number}", title=title, due=D(2022, 6, 15))
        for number, title in enumerate((HYPERLINK, PLUS), start=1)
    ]


def test_the_dashboard_workbook_writes_titles_and_names_as_text(client, leader, formula_like_tasks):
    client.force_login(leader)
    response = client.get(
        reverse("reports:dashboard-export"),
        {"plan": formula_like_tasks[0].plan_id, "as_of": "2022-06-30"},
    )

    assert response.status_code == 200
    assert_kept_as_text(response.content)
    _assert_quoted(response.content)


def _assert_quoted(content: bytes) -> None:
    """Each formula-like text carries Excel's quote prefix: still text once edited."""
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(content))
    for text, places in text_cells(content).items():
        for where, _type in places:
            sheet, cell = where.split("!")
            assert book[sheet][cell].quotePrefix, (text, where)


def test_the_monthly_report_workbook_writes_titles_and_names_as_text(
    formula_like_tasks, fake_pdf, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = monthly_report_generate(plan=formula_like_tasks[0].plan, period=D(2022, 6, 1))

    with default_storage.open(report.xlsx.name) as xlsx:
        content = xlsx.read()
    assert_kept_as_text(content)
    _assert_quoted(content)
    # The titles are in the sheet of overdue tasks and in the sheet of every task.
    sheets = {where.split("!")[0] for where, _type in text_cells(content)[HYPERLINK]}
    assert len(sheets) == 2
