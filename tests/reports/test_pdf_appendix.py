"""A long plan: the PDF's appendix lists the tasks that most need attention, says so, and the
Excel twin lists every task (reports.services.pdf_appendix, PDF_APPENDIX_MAX_ROWS)."""

import datetime
import shutil
import subprocess
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation
from openpyxl import load_workbook

from reports import services
from reports.selectors import DashboardFilters
from tasks_app.choices import ReportCategory

pytestmark = pytest.mark.django_db

END_OF_JUNE = datetime.date(2022, 6, 30)
URGENCY = [
    ReportCategory.OVERDUE,
    ReportCategory.COMPLETED_LATE,
    ReportCategory.IN_PROGRESS,
    ReportCategory.NOT_STARTED,
    ReportCategory.REGULAR,
    ReportCategory.COMPLETED_ON_TIME,
    ReportCategory.WITHDRAWN,
]


def _june_groups(plan):
    return services.report_appendix(filters=DashboardFilters(plan=plan, as_of=END_OF_JUNE))


def _rows(groups):
    return [row for group in groups for row in group["rows"]]


def test_a_short_plan_lists_every_task(demo_plan):
    groups = _june_groups(demo_plan)
    assert services.pdf_appendix(groups, limit=62) == groups


def test_a_long_plan_lists_the_tasks_that_most_need_attention(demo_plan):
    groups = _june_groups(demo_plan)
    everything = _rows(groups)
    shown_groups = services.pdf_appendix(groups, limit=10)
    shown = _rows(shown_groups)
    assert len(shown) == 10
    hidden = [row for row in everything if row not in shown]
    # Nothing left out is more urgent than anything listed; the overdue tasks are all in.
    assert max(URGENCY.index(r.category) for r in shown) <= min(
        URGENCY.index(r.category) for r in hidden
    )
    overdue = {r.code for r in everything if r.category == ReportCategory.OVERDUE}
    assert overdue and overdue <= {r.code for r in shown}
    # Still grouped by priority area in plan order and code order, numbered I, II, …
    assert [g["roman"] for g in shown_groups] == [
        services.roman(n) for n in range(1, len(shown_groups) + 1)
    ]
    order = [(g["area_id"], r.code) for g in shown_groups for r in g["rows"]]
    full_order = [(g["area_id"], r.code) for g in groups for r in g["rows"]]
    assert order == [key for key in full_order if key in order]


@pytest.mark.pdf
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_the_shortened_appendix_says_so_and_the_excel_file_has_every_task(
    demo_plan, monkeypatch, settings, tmp_path
):
    monkeypatch.setattr(services, "PDF_APPENDIX_MAX_ROWS", 10)
    settings.MEDIA_ROOT = tmp_path
    first_of_july = datetime.datetime(2022, 7, 1, 6, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    with time_machine.travel(first_of_july, tick=False):
        report = services.monthly_report_generate(plan=demo_plan, period=datetime.date(2022, 6, 1))
    assert report.status == "ready"

    text = subprocess.run(
        ["pdftotext", "-layout", report.pdf.path, "-"], capture_output=True, text=True, check=True
    ).stdout
    with translation.override("vi"):
        note = translation.gettext(
            "This appendix lists %(shown)s of the %(total)s tasks: the overdue ones first, "
            "then those completed late, in progress and not started. The Excel file attached "
            "to this report lists all %(total)s tasks."
        ) % {"shown": 10, "total": 62}
    assert note.split(",")[0] in " ".join(text.split())
    appendix = text[text.rindex(note.split(" ")[0]) :]
    shown = _rows(services.pdf_appendix(_june_groups(demo_plan), limit=10))
    for row in shown:
        assert f"{row.code}:" in appendix
    left_out = [r for r in _rows(_june_groups(demo_plan)) if r not in shown]
    assert not any(f"{row.code}:" in appendix for row in left_out)

    book = load_workbook(BytesIO(report.xlsx.read()))
    tasks = book.worksheets[-1]
    codes = [row[2] for row in tasks.iter_rows(values_only=True) if isinstance(row[0], int)]
    assert sorted(codes) == sorted(r.code for r in _rows(_june_groups(demo_plan)))
