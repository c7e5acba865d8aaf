"""The monthly report laid out in parts (issue 18): the body and each appendix are documents
of their own, numbered on their own as Decree 30 numbers an appendix, laid out side by side
in child processes when the machine has CPUs to spare, and joined into one PDF that is the
same byte for byte however many processes made it."""

# ruff: noqa: F811

import io
import logging
import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path

import pytest
from pypdf import PdfReader

from reports import pdf, services
from tests.reports.test_monthly_render_order import june_draft  # noqa: F401

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler")

STYLE = "@page { size: A5; @top-center { content: counter(page) } } @page :first { @top-center { content: none } } section { break-before: page }"  # noqa: E501


def _document(*sections: str) -> str:
    body = pdf.PART_BREAK.join(
        "".join(f"<section><p>{text}</p></section>" for text in section.split("|"))
        for section in sections
    )
    return (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>Báo cáo tháng</title>'
        f'<meta name="author" content="Sở TT&amp;TT"><style>{STYLE}</style></head>'
        f'<body class="report">{body}</body></html>'
    )


def _page_texts(content: bytes, tmp_path: Path) -> list[str]:
    path = tmp_path / "parts.pdf"
    path.write_bytes(content)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    return [" ".join(page.split()) for page in text.split("\f")[:-1]]


def test_a_document_is_cut_into_whole_documents_at_each_part_break():
    html = _document("Phần một", "Phụ lục I", "Phụ lục II")
    parts = pdf.split_parts(html)
    assert len(parts) == 3
    for part, text in zip(parts, ("Phần một", "Phụ lục I", "Phụ lục II"), strict=True):
        assert part.startswith("<!DOCTYPE html>") and part.endswith("</body></html>")
        assert "<title>Báo cáo tháng</title>" in part and '<body class="report">' in part
        assert f"<p>{text}</p>" in part
        assert pdf.PART_BREAK not in part
    assert pdf.split_parts("<html><body><p>Một phần</p></body></html>") == [
        "<html><body><p>Một phần</p></body></html>"
    ]


@needs_poppler
def test_each_part_numbers_its_own_pages_and_the_joined_pdf_keeps_title_and_language(tmp_path):
    html = _document("Báo cáo|trang hai|trang ba", "Phụ lục I|tiếp theo", "Phụ lục II|tiếp")
    rendered = pdf.render_pdf(html, processes=1)
    assert rendered.pages == 7
    # Page 1 of each part has no number; the others count from 2 within their part.
    assert _page_texts(rendered.content, tmp_path) == [
        "Báo cáo",
        "2 trang hai",
        "3 trang ba",
        "Phụ lục I",
        "2 tiếp theo",
        "Phụ lục II",
        "2 tiếp",
    ]
    reader = PdfReader(io.BytesIO(rendered.content))
    assert reader.metadata.title == "Báo cáo tháng"
    assert reader.metadata.author == "Sở TT&TT"
    assert reader.root_object["/Lang"] == "vi"


@needs_poppler
@pytest.mark.pdf
@pytest.mark.django_db
def test_the_report_laid_out_side_by_side_is_the_same_pdf(june_draft):
    html, _board, _tasks = services.monthly_report_html(report=june_draft)
    assert len(pdf.split_parts(html)) >= 2  # the body, then the appendix
    alone = pdf.render_pdf(html, processes=1)
    side_by_side = pdf.render_pdf(html, processes=2)
    assert (alone.processes, side_by_side.processes) == (1, 2)
    assert side_by_side.content == alone.content
    assert side_by_side.pages == alone.pages
    # The signature's place is the body's, on the same page of the joined PDF.
    assert side_by_side.signature_box == alone.signature_box is not None
    assert side_by_side.signature_box.page < alone.pages - 1


def test_a_part_whose_process_died_is_laid_out_again_here(caplog):
    html = pdf.split_parts(_document("Báo cáo", "Phụ lục"))[1]
    child = pdf._Child(html)
    os.kill(child.pid, signal.SIGKILL)
    with caplog.at_level(logging.WARNING, logger="reports.pdf"):
        rendered = child.result()
    assert rendered.content == pdf._render_one(html).content
    assert "laid out again here" in caplog.text


@pytest.mark.parametrize(
    ("setting", "cpus", "threads", "expected"),
    [
        (0, 2, 1, 2),  # one per CPU
        (0, 8, 1, 3),  # never more than the parts
        (1, 8, 1, 1),  # all in the job's process
        (2, 1, 1, 2),  # the setting, whatever the CPUs
        (0, 8, 2, 1),  # another thread runs: no fork
    ],
)
def test_the_processes_follow_the_setting_the_cpus_and_the_threads(
    setting, cpus, threads, expected
):
    assert pdf.processes_for(3, setting=setting, cpus=cpus, threads=threads) == expected


def test_beside_another_thread_the_parts_are_laid_out_in_this_process(settings):
    html = _document("Báo cáo", "Phụ lục I", "Phụ lục II")
    settings.REPORT_PDF_PROCESSES = 2
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        beside_a_thread = pdf.render_pdf(html)
    finally:
        stop.set()
        other.join()
    assert beside_a_thread.processes == 1
    assert beside_a_thread.content == pdf.render_pdf(html, processes=2).content
