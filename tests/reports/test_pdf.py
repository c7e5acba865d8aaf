"""The monthly report's PDF: a real report of the demo plan for 06/2022, drafted on
01/07/2022 and issued on 05/07/2022, read back with poppler (pdftotext, pdfinfo, pdffonts),
and the renderer's refusal to fetch anything but the project's static files.

The report is written in Vietnamese through the catalog (English msgids). Until the lead
has filled locale/vi for the report's strings, `vietnamese` adds the expected translations
below the real catalog (it never overrides an entry the catalog has), so these tests check
the document a clerk reads; `scripts/check_translations.py` is what keeps the catalog
complete.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation import trans_real

D = datetime.date
JUNE = D(2022, 6, 1)
pytestmark = pytest.mark.django_db
SCREENSHOTS = Path(settings.BASE_DIR) / "screenshots" / "report-2022-06"

# --- Vietnamese for the report's strings (what the catalog is expected to say) --------------

CTX = "\x04"
VI_REPORT = {
    # Header, title, opening
    "Report No. %(number)s: progress of the digital transformation tasks in %(month)s": (
        "Báo cáo số %(number)s: tình hình thực hiện nhiệm vụ chuyển đổi số tháng %(month)s"
    ),
    "No.: %(number)s": "Số: %(number)s",
    "SOCIALIST REPUBLIC OF VIETNAM": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Independence - Freedom - Happiness": "Độc lập - Tự do - Hạnh phúc",
    "%(place)s, day %(day)s month %(month)s year %(year)s": (
        "%(place)s, ngày %(day)s tháng %(month)s năm %(year)s"
    ),
    f"document type{CTX}REPORT": "BÁO CÁO",
    "Progress of the digital transformation tasks in %(month)s": (
        "Tình hình thực hiện nhiệm vụ chuyển đổi số tháng %(month)s"
    ),
    "Tasks led by %(agency)s and its units": (
        "Các nhiệm vụ do %(agency)s và các đơn vị trực thuộc chủ trì"
    ),
    "Pursuant to the %(plan_title)s, %(issuer_name)s reports on the progress of the digital "
    "transformation tasks in %(month)s as follows:": (
        "Thực hiện %(plan_title)s, %(issuer_name)s báo cáo tình hình thực hiện nhiệm vụ chuyển "
        "đổi số tháng %(month)s như sau:"
    ),
    # I. Results
    "I. RESULTS": "I. KẾT QUẢ THỰC HIỆN",
    "1. Overview": "1. Tình hình chung",
    "As of the end of %(date)s, the plan counts %(total)s tasks (not counting %(withdrawn)s "
    "stopped tasks): %(completed)s completed (%(on_time)s on time, %(late)s late); "
    "%(not_completed)s not completed (%(in_progress)s in progress within the deadline, "
    "%(overdue)s overdue, %(not_started)s not started); %(regular)s regular tasks without a "
    "deadline.": (
        "Tính đến hết ngày %(date)s, Kế hoạch có %(total)s nhiệm vụ được theo dõi (không kể "
        "%(withdrawn)s nhiệm vụ dừng thực hiện), trong đó: đã hoàn thành %(completed)s nhiệm vụ "
        "(đúng hạn %(on_time)s, quá hạn %(late)s); chưa hoàn thành %(not_completed)s nhiệm vụ "
        "(đang thực hiện trong hạn %(in_progress)s, đang thực hiện quá hạn %(overdue)s, chưa "
        "thực hiện %(not_started)s); %(regular)s nhiệm vụ thường xuyên."
    ),
    "As of the end of %(date)s, the plan counts %(total)s tasks: %(completed)s completed "
    "(%(on_time)s on time, %(late)s late); %(not_completed)s not completed (%(in_progress)s in "
    "progress within the deadline, %(overdue)s overdue, %(not_started)s not started); "
    "%(regular)s regular tasks without a deadline.": (
        "Tính đến hết ngày %(date)s, Kế hoạch có %(total)s nhiệm vụ được theo dõi, trong đó: đã "
        "hoàn thành %(completed)s nhiệm vụ (đúng hạn %(on_time)s, quá hạn %(late)s); chưa hoàn "
        "thành %(not_completed)s nhiệm vụ (đang thực hiện trong hạn %(in_progress)s, đang thực "
        "hiện quá hạn %(overdue)s, chưa thực hiện %(not_started)s); %(regular)s nhiệm vụ thường "
        "xuyên."
    ),
    "Of the %(due)s tasks due by %(date)s, %(due_on_time)s were completed on time: an on-time "
    "rate of %(rate)s%%.": (
        "Trong số %(due)s nhiệm vụ đến hạn tính đến ngày %(date)s, có %(due_on_time)s nhiệm vụ "
        "hoàn thành đúng hạn, đạt tỷ lệ %(rate)s%%."
    ),
    "No task was due by %(date)s.": "Tính đến ngày %(date)s, chưa có nhiệm vụ nào đến hạn.",
    "During the month, %(n)s more tasks were completed.": (
        "Trong tháng, có thêm %(n)s nhiệm vụ hoàn thành."
    ),
    "Deadline extensions granted so far: %(n)s, for %(tasks)s tasks.": (
        "Lũy kế đến nay đã gia hạn thời hạn thực hiện %(n)s lượt cho %(tasks)s nhiệm vụ."
    ),
    "Table 1. Tasks by status as of %(date)s": (
        "Bảng 1. Tổng hợp tình hình thực hiện nhiệm vụ đến ngày %(date)s"
    ),
    f"row number{CTX}No.": "TT",
    "Status": "Tình trạng",
    "Number of tasks": "Số nhiệm vụ",
    "Share (%%)": "Tỷ lệ (%%)",  # {% translate %} doubles a literal %
    f"report group{CTX}Completed": "Đã hoàn thành",
    f"report group{CTX}Not completed": "Chưa hoàn thành",
    "Total (without stopped)": "Tổng số (không kể dừng thực hiện)",
    "%(label)s (listed apart)": "%(label)s (theo dõi riêng)",
    "Chart 1. Tasks by status at the end of each month": (
        "Biểu đồ 1. Tình hình thực hiện nhiệm vụ tại thời điểm cuối các tháng"
    ),
    "2. Results by priority area": "2. Kết quả theo lĩnh vực trọng tâm",
    "Table 2. Tasks by priority area and status": (
        "Bảng 2. Tình hình thực hiện nhiệm vụ theo lĩnh vực trọng tâm"
    ),
    "Priority area": "Lĩnh vực",
    "Chart 2. Tasks by priority area and status": (
        "Biểu đồ 2. Tình hình thực hiện nhiệm vụ theo lĩnh vực trọng tâm"
    ),
    "3. Results by lead agency": "3. Kết quả theo cơ quan chủ trì",
    "Agencies are ranked within their level by the share of their tasks due that were "
    "completed on time; agencies with no task due yet are listed last.": (
        "Các cơ quan được xếp hạng trong từng cấp theo tỷ lệ nhiệm vụ đến hạn đã hoàn thành "
        "đúng hạn; cơ quan chưa có nhiệm vụ đến hạn được xếp cuối danh sách."
    ),
    "Table %(n)s. Lead agencies, %(level)s": (
        "Bảng %(n)s. Kết quả thực hiện của các cơ quan chủ trì: %(level)s"
    ),
    "Lead agency": "Cơ quan chủ trì",
    "Table 3. Tasks by level of the lead agency": (
        "Bảng 3. Kết quả thực hiện nhiệm vụ theo cấp của cơ quan chủ trì"
    ),
    "Level": "Cấp",
    "The results of each agency of the levels with many agencies are listed in Appendix I.": (
        "Kết quả thực hiện của từng cơ quan thuộc các cấp có nhiều cơ quan được nêu tại Phụ lục I."
    ),
    "On-time rate and overdue tasks of the lead agencies, %(level)s": (
        "Tỷ lệ hoàn thành đúng hạn và số nhiệm vụ quá hạn của các cơ quan chủ trì: %(level)s"
    ),
    # II. Overdue
    "II. OVERDUE TASKS": "II. CÁC NHIỆM VỤ QUÁ HẠN",
    "As of the end of %(date)s, %(n)s tasks are overdue (overdue by 1 to 30 days: %(a)s; by 31 "
    "to 90 days: %(b)s; by more than 90 days: %(c)s), listed below from the longest "
    "overdue:": (
        "Tính đến hết ngày %(date)s, có %(n)s nhiệm vụ đang thực hiện quá hạn (quá hạn từ 1 đến "
        "30 ngày: %(a)s; từ 31 đến 90 ngày: %(b)s; trên 90 ngày: %(c)s), cụ thể như sau:"
    ),
    "Task": "Nhiệm vụ",
    "Due date in force": "Hạn hoàn thành",
    "Days overdue": "Số ngày quá hạn",
    "Progress (%%)": "Tiến độ (%%)",
    "originally due %(date)s": "hạn ban đầu %(date)s",
    "The other %(n)s overdue tasks are listed in the appendix.": (
        "Các nhiệm vụ quá hạn còn lại (%(n)s nhiệm vụ) được nêu tại Phụ lục."
    ),
    "As of the end of %(date)s, no task is overdue.": (
        "Tính đến hết ngày %(date)s, không có nhiệm vụ quá hạn."
    ),
    # III. Difficulties and proposals
    "III. DIFFICULTIES AND PROPOSALS": "III. KHÓ KHĂN, VƯỚNG MẮC VÀ KIẾN NGHỊ, ĐỀ XUẤT",
    "1. Difficulties": "1. Khó khăn, vướng mắc",
    "Difficulties reported by the agencies in %(month)s:": (
        "Trong tháng %(month)s, các cơ quan, đơn vị báo cáo một số khó khăn, vướng mắc sau:"
    ),
    "%(agency)s (task %(task)s): %(text)s": "%(agency)s (nhiệm vụ %(task)s): %(text)s",
    "The agencies reported no difficulty in %(month)s.": (
        "Trong tháng %(month)s, các cơ quan, đơn vị không báo cáo khó khăn, vướng mắc."
    ),
    "2. Proposals": "2. Kiến nghị, đề xuất",
    "The agencies made no proposal in %(month)s.": (
        "Trong tháng %(month)s, các cơ quan, đơn vị không có kiến nghị, đề xuất."
    ),
    # IV. Coming month
    "IV. TASKS DUE IN %(month)s": "IV. CÁC NHIỆM VỤ ĐẾN HẠN TRONG THÁNG %(month)s",
    "%(n)s tasks are due in %(month)s. The lead agencies are asked to concentrate on them so "
    "that they are completed on time:": (
        "Trong tháng %(month)s có %(n)s nhiệm vụ đến hạn hoàn thành; đề nghị các cơ quan, đơn "
        "vị chủ trì tập trung thực hiện, bảo đảm hoàn thành đúng thời hạn:"
    ),
    "No task is due in %(month)s.": "Trong tháng %(month)s không có nhiệm vụ đến hạn.",
    "The other %(n)s tasks due in %(month)s are listed in the appendix.": (
        "Các nhiệm vụ còn lại đến hạn trong tháng %(month)s (%(n)s nhiệm vụ) được nêu tại Phụ lục."
    ),
    "{names} and {count} other agencies": "{names} và {count} cơ quan, đơn vị khác",
    "{names} and {count} other tasks": "{names} và {count} nhiệm vụ khác",
    "The above is the report of %(issuer_name)s on the progress of the digital transformation "
    "tasks in %(month)s./.": (
        "Trên đây là báo cáo tình hình thực hiện nhiệm vụ chuyển đổi số tháng %(month)s của "
        "%(issuer_name)s./."
    ),
    # Closing
    "Recipients:": "Nơi nhận:",
    "p.p. THE DIRECTOR": "KT. GIÁM ĐỐC",
    "DEPUTY DIRECTOR": "PHÓ GIÁM ĐỐC",
    "ON BEHALF OF THE PEOPLE'S COMMITTEE": "TM. ỦY BAN NHÂN DÂN",
    "p.p. THE CHAIRMAN": "KT. CHỦ TỊCH",
    "VICE CHAIRMAN": "PHÓ CHỦ TỊCH",
    "{agency} (for reporting)": "{agency} (để b/c)",
    "Departments, boards and sectors": "Các sở, ban, ngành",
    "People's Committees of the districts and city": "UBND các huyện, thành phố",
    "Agencies and units concerned": "Các cơ quan, đơn vị liên quan",
    "Filed: VT, {unit}.": "Lưu: VT, {unit}.",
    # Appendix
    "APPENDIX": "PHỤ LỤC",
    "LIST OF TASKS AND THEIR PROGRESS AS OF %(date)s": (
        "DANH MỤC NHIỆM VỤ VÀ TÌNH HÌNH THỰC HIỆN ĐẾN NGÀY %(date)s"
    ),
    "(Attached to report No. %(number)s of %(date)s of %(issuer_name)s)": (
        "(Kèm theo Báo cáo số %(number)s ngày %(date)s của %(issuer_name)s)"
    ),
    "Due date in force (original)": "Hạn hoàn thành (hạn ban đầu)",
    "Status (completed on)": "Tình trạng (ngày hoàn thành)",
    "APPENDIX %(number)s": "PHỤ LỤC %(number)s",
    "RESULTS OF THE LEAD AGENCIES AS OF %(date)s": (
        "KẾT QUẢ THỰC HIỆN NHIỆM VỤ CỦA CÁC CƠ QUAN CHỦ TRÌ ĐẾN NGÀY %(date)s"
    ),
    f"due date{CTX}Regular": "Thường xuyên",
    "No task was assigned by this date.": "Chưa có nhiệm vụ nào được giao đến ngày này.",
    # Counts tables
    "Rank": "Xếp hạng",
    "Total": "Tổng số",
    f"report column{CTX}Regular": "Thường xuyên",
    "On-time rate (%%)": "Tỷ lệ đúng hạn (%%)",
    "On time": "Đúng hạn",
    "Late": "Quá hạn",
    "Within deadline": "Trong hạn",
    f"report column{CTX}Overdue": "Quá hạn",
    f"report column{CTX}Not started": "Chưa thực hiện",
    # The report categories and the charts' words (tasks_app.choices, reports.charts)
    "Completed on time": "Đã hoàn thành đúng hạn",
    "Completed late": "Đã hoàn thành quá hạn",
    "In progress, within deadline": "Đang thực hiện trong hạn",
    "In progress, overdue": "Đang thực hiện quá hạn",
    f"report category{CTX}Not started": "Chưa thực hiện",
    "Regular task (no deadline)": "Nhiệm vụ thường xuyên",
    "Stopped": "Dừng thực hiện",
    "Overdue": "Quá hạn",
    "nothing due yet": "chưa có nhiệm vụ đến hạn",
    "No tasks to show.": "Không có nhiệm vụ.",
}


def install_vietnamese(extra: dict[str, str] | None = None):
    """Put VI_REPORT (and `extra`) below the loaded Vietnamese catalog; return an undo."""
    catalog = trans_real.translation("vi")._catalog
    fallback = {**VI_REPORT, **(extra or {})}
    catalog._catalogs.append(fallback)
    catalog._plurals.append(lambda n: 0)

    def undo():
        index = next(i for i, c in enumerate(catalog._catalogs) if c is fallback)
        del catalog._catalogs[index]
        del catalog._plurals[index]

    return undo


def vi(message: str, context: str | None = None) -> str:
    """What the report prints for `message`: the catalog's Vietnamese (see above)."""
    from django.utils import translation

    with translation.override("vi"):
        if context:
            return translation.pgettext(context, message)
        return translation.gettext(message)


@pytest.fixture
def vietnamese():
    undo = install_vietnamese()
    yield
    undo()


# --- Shared fixtures of the monthly-report tests --------------------------------------------


@pytest.fixture
def fake_pdf(monkeypatch):
    """Replace WeasyPrint by a fast stand-in (the report tests other than this module's
    check the flow, not the layout): the "PDF" is a digest of the HTML, so the same content
    gives the same bytes. Returns the list of HTML strings rendered."""
    import hashlib

    from reports.pdf import RenderedPdf

    rendered: list[str] = []

    def render(html: str) -> RenderedPdf:
        rendered.append(html)
        digest = hashlib.sha256(html.encode()).hexdigest().encode()
        return RenderedPdf(content=b"%PDF-1.7\n% stand-in " + digest + b"\n%%EOF\n", pages=3)

    monkeypatch.setattr("reports.pdf.render_pdf", render)
    return rendered


def _run(*command: str, data: bytes | None = None) -> str:
    return subprocess.run(command, input=data, capture_output=True, check=True).stdout.decode()


needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="needs poppler-utils (pdftotext, pdfinfo)"
)


# --- The June 2022 report of the demo plan, rendered for real -------------------------------

ICT = datetime.timezone(datetime.timedelta(hours=7))
FIRST_OF_JULY_0600 = datetime.datetime(2022, 7, 1, 6, 0, tzinfo=ICT)  # the beat's run
FIFTH_OF_JULY_0900 = datetime.datetime(2022, 7, 5, 9, 0, tzinfo=ICT)  # the leader approves
FIFTH_OF_JULY_1400 = datetime.datetime(2022, 7, 5, 14, 0, tzinfo=ICT)  # the văn thư issues
MID_DECEMBER = datetime.datetime(2022, 12, 15, 10, 0, tzinfo=ICT)

# The demo plan's leaf tasks at 30/06/2022 (tasks_app/demo.py), as the dashboard's
# selectors count them (checked against them in test_the_numbers_are_the_dashboards).
JUNE_COUNTS = {
    "completed_on_time": 5,
    "completed_late": 1,
    "in_progress": 40,
    "overdue": 1,
    "not_started": 13,
    "regular": 1,
    "withdrawn": 1,
}


class Pdf:
    """A rendered PDF and what poppler reads from it."""

    def __init__(self, content: bytes, folder: Path):
        self.content = content
        self.path = folder / "report.pdf"
        self.path.write_bytes(content)
        self.info = _run("pdfinfo", str(self.path))
        self.pages = int(
            next(line for line in self.info.splitlines() if line.startswith("Pages:")).split()[1]
        )
        self.text = _run("pdftotext", "-layout", str(self.path), "-")
        self.page_texts = self.text.split("\f")

    def page_size(self, page: int) -> tuple[float, float]:
        out = _run("pdfinfo", "-f", str(page), "-l", str(page), str(self.path))
        line = next(line for line in out.splitlines() if " size:" in line)
        width, height = line.split("size:")[1].split("pts")[0].split(" x ")
        return float(width), float(height)

    def region(self, page: int, *, x: int, y: int, width: int, height: int) -> str:
        """The text inside a rectangle of one page (in points from the top left)."""
        return _run(
            "pdftotext", "-f", str(page), "-l", str(page), "-x", str(x), "-y", str(y),
            "-W", str(width), "-H", str(height), str(self.path), "-",
        )  # fmt: skip


def _content(report) -> bytes:
    content = report.pdf.read()
    report.pdf.close()
    return content


@pytest.fixture(scope="module")
def june_documents(demo_data, django_db_blocker, tmp_path_factory):
    """The demo plan's report of 06/2022 as the office makes it: drafted by the beat on
    01/07/2022 06:00, approved by the leader (lanhdao) and issued by the văn thư of Sở
    TT&TT (sotttt) on 05/07/2022. Returns (the issued row, the draft's PDF, the issued
    PDF)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("needs poppler-utils (pdftotext, pdfinfo)")
    import time_machine
    from django.contrib.auth import get_user_model
    from django.test import override_settings

    from reports.issuing import report_approve, report_issue
    from reports.services import monthly_report_generate
    from tasks_app.models import Plan

    media = tmp_path_factory.mktemp("june-media")
    users = get_user_model().objects
    undo = install_vietnamese()
    try:
        with (
            django_db_blocker.unblock(),
            override_settings(MEDIA_ROOT=media, REPORT_SIGNER_NAME="Nguyễn Văn A"),
        ):
            with time_machine.travel(FIRST_OF_JULY_0600, tick=False):
                plan = Plan.objects.get(code="CDS-ND-2022")
                report = monthly_report_generate(plan=plan, period=JUNE)
                draft = _content(report)
            with time_machine.travel(FIFTH_OF_JULY_0900, tick=False):
                report = report_approve(report=report, user=users.get(username="lanhdao"))
            with time_machine.travel(FIFTH_OF_JULY_1400, tick=False):
                report = report_issue(report=report, user=users.get(username="sotttt"))
                issued = _content(report)
    finally:
        undo()
    return (
        report,
        Pdf(draft, tmp_path_factory.mktemp("june-draft-pdf")),
        Pdf(issued, tmp_path_factory.mktemp("june-pdf")),
    )


@pytest.fixture(scope="module")
def june(june_documents):
    """The issued report of 06/2022 and its PDF."""
    report, _draft, issued = june_documents
    return report, issued


@pytest.fixture(scope="module")
def june_draft(june_documents):
    """The PDF of the June draft, as the beat made it on 01/07/2022."""
    return june_documents[1]


@needs_poppler
@pytest.mark.pdf
def test_the_report_is_a_pdf_stored_with_its_checksum(june):
    report, pdf = june
    assert pdf.content.startswith(b"%PDF")
    assert report.status == "ready"
    assert report.sha256 == __import__("hashlib").sha256(pdf.content).hexdigest()
    assert report.pdf_size == len(pdf.content)
    assert report.pages == pdf.pages
    assert report.xlsx.name.endswith(".xlsx")


@needs_poppler
@pytest.mark.pdf
def test_the_header_follows_decree_30(june):
    import re

    report, pdf = june
    first = pdf.page_texts[0]
    # Left: the governing body (upright, a People's Committee on two lines) and the issuing
    # agency as of 30/06/2022, the number the văn thư gave: the first of Sở TT&TT's register
    # for 2022.
    assert re.search(r"^\s*ỦY BAN NHÂN DÂN\b.*\n\s*TỈNH NAM ĐỊNH\b", first, re.MULTILINE)
    assert "SỞ THÔNG TIN VÀ TRUYỀN THÔNG" in first
    assert "Số: 01/BC-STTTT" in first
    assert (report.stage, report.year, report.number) == ("issued", 2022, 1)
    # Right: national title, motto, place and the date of issue (leading zero on the day
    # below 10, none on July).
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in first
    assert "Độc lập - Tự do - Hạnh phúc" in first
    assert "Nam Định, ngày 05 tháng 7 năm 2022" in first
    # The document type and subject, with the period; no draft mark any more.
    assert "BÁO CÁO" in first
    assert "Tình hình thực hiện nhiệm vụ chuyển đổi số tháng 06/2022" in first
    assert "DỰ THẢO" not in pdf.text


@needs_poppler
@pytest.mark.pdf
def test_the_draft_leaves_the_number_and_the_date_to_the_clerk(june_draft):
    import re

    first = june_draft.page_texts[0]
    assert "DỰ THẢO" in first
    assert re.search(r"Số:\s+/BC-STTTT", first)  # blank, for the văn thư to write in
    assert "Nam Định, ngày … tháng … năm …" in first
    # Everything else is the document the leader approves.
    assert "SỞ THÔNG TIN VÀ TRUYỀN THÔNG" in first
    assert "Tình hình thực hiện nhiệm vụ chuyển đổi số tháng 06/2022" in first


@needs_poppler
@pytest.mark.pdf
def test_the_body_has_the_four_sections_and_the_closing(june, vietnamese):
    _report, pdf = june
    text = " ".join(pdf.text.split())
    # The fixed formulae of Decree 30/2020, word for word.
    for formula in (
        "Nơi nhận:",
        "- Lưu: VT, CĐS.",
        "KT. GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        "Nguyễn Văn A",  # REPORT_SIGNER_NAME
        "PHỤ LỤC",
        "./.",
    ):
        assert formula in text, formula
    # The sections and the rest, as the catalog words them.
    for heading in (
        vi("I. RESULTS"),
        vi("II. OVERDUE TASKS"),
        vi("III. DIFFICULTIES AND PROPOSALS"),
        vi("IV. TASKS DUE IN %(month)s") % {"month": "07/2022"},
        "- " + vi("{agency} (for reporting)").format(agency="UBND tỉnh") + ";",
        vi("(Attached to report No. %(number)s of %(date)s of %(issuer_name)s)")
        % {
            "number": "01/BC-STTTT",
            "date": "05/07/2022",
            "issuer_name": "Sở Thông tin và Truyền thông",
        },
    ):
        assert " ".join(heading.split()) in text, heading
    # II: the one overdue task, 91 days past its due date of 31/03/2022.
    assert "CDS22-33" in text
    assert " 31/03/2022 91 70" in text
    # III: the difficulty recorded in June (user text, as written).
    assert "Lịch tập huấn phải điều chỉnh do trùng kỳ họp Hội đồng nhân dân cấp xã." in text


@needs_poppler
@pytest.mark.pdf
def test_the_category_counts_at_30_june(june, vietnamese):
    import re

    _report, pdf = june
    text = pdf.text
    label = {
        "completed_on_time": "- " + vi("Completed on time"),
        "completed_late": "- " + vi("Completed late"),
        "in_progress": "- " + vi("In progress, within deadline"),
        "overdue": "- " + vi("In progress, overdue"),
        "not_started": "- " + vi("Not started", "report category"),
        "regular": vi("Regular task (no deadline)"),
        "withdrawn": vi("%(label)s (listed apart)") % {"label": vi("Stopped")},
    }
    found = {
        key: int(re.search(re.escape(words) + r"\s+(\d+)", text).group(1))
        for key, words in label.items()
    }
    assert found == JUNE_COUNTS
    assert re.search(re.escape(vi("Total (without stopped)")) + r"\s+61\s", text)
    sentence = vi(
        "Of the %(due)s tasks due by %(date)s, %(due_on_time)s were completed on time: an "
        "on-time rate of %(rate)s%%."
    ) % {"due": 11, "date": "30/06/2022", "due_on_time": 5, "rate": "45,5"}
    assert sentence in " ".join(text.split())


def test_the_numbers_are_the_dashboards(demo_user, at):
    """JUNE_COUNTS above are what the dashboard's selectors give at 30/06/2022."""
    from reports.selectors import dashboard_summary

    board = dashboard_summary(user=demo_user("lanhdao"), filters=at(D(2022, 6, 30)))
    assert board.totals.category_counts() == JUNE_COUNTS


@needs_poppler
@pytest.mark.pdf
def test_vietnamese_text_comes_out_intact(june):
    _report, pdf = june
    assert unicodedata.normalize("NFC", pdf.text) == pdf.text
    assert "\ufffd" not in pdf.text  # no replacement character: every glyph was there
    fonts = _run("pdffonts", str(pdf.path))
    # Liberation Serif, embedded (a subset) in every style used; no other font.
    families = [line.split()[0] for line in fonts.splitlines()[2:] if line.strip()]
    assert families and all("Liberation-Serif" in family for family in families)
    assert all(" yes " in line for line in fonts.splitlines()[2:] if line.strip())


@needs_poppler
@pytest.mark.pdf
def test_pages_a4_portrait_with_a_landscape_appendix(june):
    _report, pdf = june
    assert pdf.pages >= 3
    portrait, landscape = (595.28, 841.89), (841.89, 595.28)
    assert pdf.page_size(1) == pytest.approx(portrait, abs=0.1)
    assert pdf.page_size(pdf.pages) == pytest.approx(landscape, abs=0.1)
    appendix_start = next(n for n, page in enumerate(pdf.page_texts, start=1) if "PHỤ LỤC" in page)
    assert appendix_start > 1
    assert pdf.page_size(appendix_start - 1) == pytest.approx(portrait, abs=0.1)
    for page in range(appendix_start, pdf.pages + 1):
        assert pdf.page_size(page) == pytest.approx(landscape, abs=0.1)


@needs_poppler
@pytest.mark.pdf
def test_page_numbers_in_the_top_margin_from_page_two(june):
    """The report's pages are numbered from 2; the appendix's on their own (Decree 30), from
    its second page."""
    _report, pdf = june
    # The top margin is 20 mm (57 pt) on portrait pages, 30 mm (85 pt) on landscape ones.
    assert pdf.region(1, x=0, y=0, width=595, height=56).strip() == ""
    assert pdf.region(2, x=0, y=0, width=595, height=56).strip() == "2"
    starts = [n for n, page in enumerate(pdf.page_texts, start=1) if "PHỤ LỤC" in page]
    first, last_start, last = starts[0], starts[-1], pdf.pages
    assert pdf.region(first - 1, x=0, y=0, width=595, height=56).strip() == str(first - 1)
    for start in starts:
        assert pdf.region(start, x=0, y=0, width=842, height=84).strip() == ""
    assert last > last_start
    assert pdf.region(last, x=0, y=0, width=842, height=84).strip() == str(last - last_start + 1)


@needs_poppler
@pytest.mark.pdf
def test_the_appendix_lists_every_leaf_task_with_its_state(june):
    from reports.selectors import DashboardFilters
    from reports.services import report_appendix

    report, pdf = june
    groups = report_appendix(filters=DashboardFilters(plan=report.plan, as_of=D(2022, 6, 30)))
    rows = [row for group in groups for row in group["rows"]]
    # 62 leaf tasks: the 42 tasks not split and the 20 per-district children, never the
    # two parents (CDS22-26, CDS22-41), in the nine priority areas.
    assert len(rows) == 62
    assert len(groups) == 9
    assert {"CDS22-26", "CDS22-41"}.isdisjoint(row.code for row in rows)
    assert sum(row.category == "withdrawn" for row in rows) == 1
    # CDS22-13: due date in force 30/09/2022, originally 30/06/2022 (extension of 20/06);
    # the original date is written under the one in force (the title may take two lines).
    lines = pdf.text.splitlines()
    at = next(i for i, line in enumerate(lines) if "CDS22-13:" in line)
    row = lines[at - 1 : at + 3]
    in_force = next(i for i, line in enumerate(row) if "30/09/2022" in line)
    original = next(i for i, line in enumerate(row) if "(30/06/2022)" in line)
    assert in_force < original


@needs_poppler
@pytest.mark.pdf
def test_page_images_are_saved_for_review(june):
    """screenshots/report-2022-06/ (gitignored): one PNG per page at 60 dpi, to look at."""
    _report, pdf = june
    if shutil.which("pdftoppm") is None:
        pytest.skip("needs pdftoppm")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("page-*.png"):
        old.unlink()
    subprocess.run(
        ["pdftoppm", "-r", "60", "-png", str(pdf.path), str(SCREENSHOTS / "page")], check=True
    )
    assert len(list(SCREENSHOTS.glob("page-*.png"))) == pdf.pages


@needs_poppler
@pytest.mark.pdf
def test_regenerated_in_december_a_draft_is_the_same_document(
    june, demo_user, vietnamese, settings, tmp_path
):
    """Numbers from history: a draft of June (Hải Hậu's own report) rendered again on
    15/12/2022, after many more updates, has the same text and the same bytes. The issued
    whole-plan report is not rendered again at all: its files are final."""
    import time_machine

    from reports.models import MonthlyReport
    from reports.services import ReportError, monthly_report_generate

    report, _pdf = june
    settings.REPORT_SIGNER_NAME = "Nguyễn Văn A"
    haihau = demo_user("haihau").memberships.get().agency
    with time_machine.travel(FIRST_OF_JULY_0600, tick=False):
        draft = monthly_report_generate(plan=report.plan, period=JUNE, scope=haihau)
        first = Pdf(_content(draft), tmp_path)
    with time_machine.travel(MID_DECEMBER, tick=False):
        again = monthly_report_generate(plan=report.plan, period=JUNE, scope=haihau)
        with pytest.raises(ReportError):
            monthly_report_generate(plan=report.plan, period=JUNE)
    assert again.pk == draft.pk
    assert (again.stage, again.number, again.issued_on) == ("draft", None, None)
    assert again.pdf.name != draft.pdf.name  # new files, the same document
    (tmp_path / "again").mkdir()
    regenerated = Pdf(_content(again), tmp_path / "again")
    assert "DỰ THẢO" in regenerated.text
    assert regenerated.text == first.text
    assert again.sha256 == draft.sha256
    # The issued report kept its files, number and date.
    issued = MonthlyReport.objects.get(pk=report.pk)
    assert (issued.pdf.name, issued.sha256) == (report.pdf.name, report.sha256)
    assert (issued.number, issued.issued_on) == (1, D(2022, 7, 5))


# --- Safe rendering ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x.png",
        "https://example.com/x.png",
        "ftp://example.com/x.png",
        "data:image/png;base64,iVBORw0KGgo=",
        "file:///etc/passwd",
        "file:///static/../../../etc/passwd",
        "file:///static/%2e%2e/%2e%2e/etc/passwd",
        "file://example.com/static/img/favicon.svg",
        "file:///static/img/no-such-file.png",
    ],
)
def test_the_fetcher_refuses_anything_but_static_files(url):
    from reports.pdf import RefusedURL, StaticOnlyFetcher

    with pytest.raises(RefusedURL):
        StaticOnlyFetcher().fetch(url)


def test_the_fetcher_serves_a_static_file():
    from reports.pdf import StaticOnlyFetcher

    response = StaticOnlyFetcher().fetch("file:///static/img/favicon.svg")
    assert response.read().lstrip().startswith(b"<")
    assert response.content_type == "image/svg+xml"
    response.close()


@pytest.mark.pdf
def test_rendering_never_opens_a_url(monkeypatch):
    """Even an <img> that reached the HTML is not fetched: the renderer asks the fetcher,
    which refuses before any network access."""
    import urllib.request

    from reports.pdf import render_pdf

    def no_network(*args, **kwargs):
        raise AssertionError("the renderer tried to open a URL")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", no_network)
    rendered = render_pdf(
        '<p>x</p><img src="http://example.com/x.png"><img src="https://example.com/y.png">'
        '<link rel="stylesheet" href="http://example.com/s.css">'
    )
    assert rendered.content.startswith(b"%PDF")
