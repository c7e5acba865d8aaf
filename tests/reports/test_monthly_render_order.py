"""The monthly report pays for the PDF first (issue 18): its figures are computed once, the
PDF is laid out and written, then the Excel twin is built from the same figures in memory
(no query), and the time of each part is recorded on the row and in the command's output.
The PDF is laid out with a trimmed user-agent style sheet (reports.pdf.ReportHTML) that
gives the same document byte for byte."""

# ruff: noqa: F811

import datetime
import re
import shutil
import subprocess
from collections import Counter
from io import BytesIO, StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import call_command
from openpyxl import load_workbook
from weasyprint import HTML

from reports import services
from reports.models import MonthlyReport
from reports.pdf import BASE_URL, ReportHTML, StaticOnlyFetcher
from tests.reports.test_pdf import JUNE_COUNTS, fake_pdf, vi, vietnamese  # noqa: F401

pytestmark = pytest.mark.django_db

JUNE = datetime.date(2022, 6, 1)
FIRST_OF_JULY = datetime.datetime(2022, 7, 1, 6, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler")


def _summary(xlsx: bytes) -> list:
    """The figures of the Excel twin's summary sheet, in its order: the six categories,
    the total, the stopped tasks, the tasks due, due and completed on time…"""
    book = load_workbook(BytesIO(xlsx))
    return [row[1] for row in book.worksheets[0].iter_rows(min_row=7, values_only=True)]


@pytest.fixture
def june_draft(demo_plan, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.REPORT_SIGNER_NAME = "Nguyễn Văn A"
    with time_machine.travel(FIRST_OF_JULY, tick=False):
        yield services.monthly_report_generate(plan=demo_plan, period=JUNE)


@needs_poppler
@pytest.mark.pdf
def test_the_excel_twin_is_built_after_the_pdf_from_its_figures_without_a_query(
    june_draft, django_assert_max_num_queries, tmp_path, vietnamese
):
    with time_machine.travel(FIRST_OF_JULY, tick=False):
        rendered = services.monthly_report_render_pdf(report=june_draft)
    assert rendered.xlsx == b""  # the PDF comes first, alone
    with django_assert_max_num_queries(0):
        xlsx = rendered.build_xlsx()
    assert rendered.xlsx_seconds is not None and rendered.xlsx_seconds > 0

    # The Excel file's figures are the PDF's: the counts of table 1 and every task line.
    path = tmp_path / "june.pdf"
    path.write_bytes(rendered.pdf.content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    summary = _summary(xlsx)
    categories = (
        "completed_on_time", "completed_late", "in_progress", "overdue", "not_started", "regular"
    )  # fmt: skip
    assert dict(zip(categories, summary[:6], strict=True)) == {
        key: JUNE_COUNTS[key] for key in categories
    }
    total = sum(summary[:6])
    assert summary[6] == total == 61
    assert re.search(re.escape(vi("Total (without stopped)")) + rf"\s+{total}\s", text)
    book = load_workbook(BytesIO(xlsx))
    rows = book.worksheets[-1].iter_rows(min_row=7, values_only=True)  # under the header
    codes = [row[2] for row in rows]
    assert len(codes) == 62  # every leaf task, all listed in the PDF's appendix too
    assert [code for code in codes if f"{code}:" in text] == codes


def test_the_pdf_is_written_before_the_excel_twin_is_built(
    june_draft, fake_pdf, monkeypatch, settings
):
    """When the Excel twin is built, the new PDF is on disk already; the row names both."""
    seen: list[list[str]] = []  # the folder's files each time a workbook is built
    real = services.dashboard_workbook
    folder = Path(default_storage.path(june_draft.pdf.name)).parent

    def workbook(board, tasks=None):
        seen.append(sorted(p.name for p in folder.iterdir()))
        return real(board, tasks=tasks)

    monkeypatch.setattr(services, "dashboard_workbook", workbook)
    before = {p.name for p in folder.iterdir()}
    with time_machine.travel(FIRST_OF_JULY, tick=False):
        report = services.monthly_report_rerender(report=june_draft)
    new_pdf = Path(report.pdf.name).name
    assert new_pdf not in before
    assert len(seen) == 1  # one workbook, after the PDF was written
    assert new_pdf in seen[0] and Path(report.xlsx.name).name not in seen[0]
    assert report.status == "ready"


def test_each_part_of_the_rendering_is_timed_on_the_row(june_draft, fake_pdf):
    """Every rendering records its own parts: WeasyPrint's layout of the demo report takes
    seconds; the stand-in of the second rendering next to nothing."""
    report = MonthlyReport.objects.get(pk=june_draft.pk)
    parts = (report.figures_seconds, report.pdf_seconds, report.xlsx_seconds)
    assert all(seconds is not None and seconds > 0 for seconds in parts), parts
    with time_machine.travel(FIRST_OF_JULY, tick=False):
        again = services.monthly_report_rerender(report=report)
    assert fake_pdf  # the stand-in laid it out
    assert again.pdf_seconds < parts[1] / 10
    assert again.figures_seconds > 0 and again.xlsx_seconds > 0


def test_generate_report_prints_the_time_of_each_part(demo_plan, fake_pdf, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    out, err = StringIO(), StringIO()
    with time_machine.travel(FIRST_OF_JULY, tick=False):
        call_command("generate_report", "--month", "2022-06", stdout=out, stderr=err)
    report = MonthlyReport.objects.get(plan=demo_plan, period=JUNE)
    line = next(line for line in out.getvalue().splitlines() if "PDF" in line and "Excel" in line)
    # "Số …: 3 trang, … (tính số liệu 0.4 giây, PDF 0.0 giây, Excel 0.2 giây) → …"
    for seconds in (report.figures_seconds, report.pdf_seconds, report.xlsx_seconds):
        assert f"{seconds:.1f}" in line
    assert "tính số liệu" in line or "figures" in line


# --- The trimmed user-agent style sheet -------------------------------------------------------


@pytest.mark.pdf
def test_the_trimmed_style_sheet_gives_the_same_pdf_and_skips_the_pseudo_elements(
    demo_plan, june_draft, monkeypatch
):
    import weasyprint.css

    html, _board, _tasks = services.monthly_report_html(report=june_draft)
    computed: Counter = Counter()
    real = weasyprint.css.StyleFor.set_computed_styles

    def counting(self, element, parent, root=None, pseudo_type=None, **kwargs):
        computed[pseudo_type] += 1
        return real(self, element, parent, root=root, pseudo_type=pseudo_type, **kwargs)

    monkeypatch.setattr(weasyprint.css.StyleFor, "set_computed_styles", counting)
    documents = {}
    for name, kind in (("weasyprint", HTML), ("report", ReportHTML)):
        computed.clear()
        document = kind(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher())
        documents[name] = document.render().write_pdf()
        documents[f"{name} footnote styles"] = computed["footnote-call"]
    assert documents["weasyprint"] == documents["report"]
    # WeasyPrint's own sheet gives every element a ::footnote-call style; the report's none
    # (if an upgrade stopped calling ReportHTML._ua_stylesheets, this would fail).
    assert documents["weasyprint footnote styles"] > 1000
    assert documents["report footnote styles"] == 0
