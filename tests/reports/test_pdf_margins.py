"""Issue 15: every line of the monthly report lies inside the margins of Decree 30/2020/NĐ-CP
(Phụ lục I): on A4 portrait pages top and bottom 20–25 mm, left 30–35 mm, right 15–20 mm,
the header's agency block included.

Real reports of the demo plan (06/2022), rendered by WeasyPrint and read back with poppler:
`pdftotext -bbox-layout` gives every word's box, `pdftoppm` the pages as pixels, which show
what is not text (the rules under the agency name and the motto, table borders, charts).
The issuers are chosen for their long header lines: the whole plan's Sở TT&TT under
"ỦY BAN NHÂN DÂN TỈNH NAM ĐỊNH", a centre and a district office whose names need two
lines, a commune People's Committee and a department whose name carries its province.

Landscape pages (the appendix) are the same sheets turned a quarter clockwise, their top
edge along the binding, so that each edge of the sheet keeps its margin once bound with the
portrait pages: the binding edge (30 mm) is their top, the sheet's right edge (15 mm) their
bottom, its top and bottom edges (20 mm) their right and left. Decree 30 gives no other
margins for them.
"""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

pytestmark = [
    pytest.mark.django_db,  # the test database is set up only for a module that asks for it
    pytest.mark.pdf,
    pytest.mark.skipif(
        shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
        reason="needs poppler-utils (pdftotext, pdftoppm)",
    ),
]

MM = 72 / 25.4  # PDF points per millimetre
TOLERANCE = 0.5  # pt
DPI = 144  # of the ink check: a pixel is half a point
SCALE = DPI / 72  # pixels per point
DARK_PIXEL = re.compile(rb"[\x00-\x7f]")  # a grey below 128 is ink, lighter is anti-aliasing
DARK_RUN = re.compile(rb"[\x00-\x7f]+")
WORD_SPACE = 4  # pt, at most (3 pt at 12 pt): pdftotext's lines are split at wider gaps
# Between the header's columns, on a shared line, so that they never read as one line.
GUTTER = 3 * MM

FIRST_OF_JULY = datetime.datetime(2022, 7, 1, 6, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
JUNE = datetime.date(2022, 6, 1)

# id: (code of the report's scope, whose agency issues it; a name to give that agency)
ISSUERS = {
    # SỞ THÔNG TIN VÀ TRUYỀN THÔNG under ỦY BAN NHÂN DÂN TỈNH NAM ĐỊNH: the whole plan.
    "whole-plan": (None, None),
    # TRUNG TÂM VĂN HÓA, THÔNG TIN VÀ THỂ THAO HUYỆN HẢI HẬU: two lines.
    "long-centre": ("TTVH_HAIHAU", None),
    # Under ỦY BAN NHÂN DÂN HUYỆN GIAO THỦY: no room for it on one line.
    "long-parent": ("PVHTT_GIAOTHUY", None),
    # ỦY BAN NHÂN DÂN / THỊ TRẤN THỊNH LONG, and "Thịnh Long, ngày …" in the date line.
    "commune": ("HH_TT_THINHLONG", None),
    "department-of-province": ("SKHCN", "Sở Khoa học và Công nghệ tỉnh Ninh Bình"),
}


@dataclass(frozen=True)
class Margins:
    """Page margins in millimetres."""

    top: float
    right: float
    bottom: float
    left: float


PORTRAIT = Margins(top=20, right=15, bottom=20, left=30)
LANDSCAPE = Margins(top=30, right=20, bottom=15, left=20)  # see the module's docstring


@dataclass(frozen=True)
class Box:
    """A rectangle in points from the page's top left corner."""

    x_min: float
    y_min: float
    x_max: float
    y_max: float

    @property
    def centre(self) -> float:
        return (self.x_min + self.x_max) / 2

    def scaled(self, factor: float, grow: float = 0) -> Box:
        return Box(
            self.x_min * factor - grow,
            self.y_min * factor - grow,
            self.x_max * factor + grow,
            self.y_max * factor + grow,
        )


@dataclass(frozen=True)
class Line:
    words: list[tuple[str, Box]]

    @property
    def text(self) -> str:
        return " ".join(text for text, _box in self.words)

    @property
    def box(self) -> Box:
        boxes = [box for _text, box in self.words]
        return Box(
            min(b.x_min for b in boxes),
            min(b.y_min for b in boxes),
            max(b.x_max for b in boxes),
            max(b.y_max for b in boxes),
        )


@dataclass(frozen=True)
class Page:
    number: int
    # The number printed on it: each appendix's pages are numbered on their own (Decree 30),
    # from 1 on the page with its heading.
    printed: int
    width: float
    height: float
    lines: list[Line]

    @property
    def text_area(self) -> Box:
        """Where the text may go: the page less its margins."""
        m = LANDSCAPE if self.width > self.height else PORTRAIT
        return Box(m.left * MM, m.top * MM, self.width - m.right * MM, self.height - m.bottom * MM)

    @property
    def page_number(self) -> Box | None:
        """The page number's box: Decree 30 puts it in the top margin, from page 2."""
        for line in self.lines:
            for text, box in line.words:
                if text == str(self.printed) and box.y_max <= self.text_area.y_min + TOLERANCE:
                    return box
        return None


def read_pages(path: Path) -> list[Page]:
    """Every page's lines and words, as `pdftotext -bbox-layout` reads them."""
    xhtml = subprocess.run(
        ["pdftotext", "-bbox-layout", str(path), "-"], capture_output=True, check=True
    ).stdout
    ns = "{http://www.w3.org/1999/xhtml}"
    pages = []
    printed = 0
    for number, page in enumerate(ElementTree.fromstring(xhtml).iter(ns + "page"), start=1):
        lines = []
        for line in page.iter(ns + "line"):
            words = [
                (
                    word.text or "",
                    Box(*(float(word.get(k)) for k in ("xMin", "yMin", "xMax", "yMax"))),
                )
                for word in line.iter(ns + "word")
            ]
            # pdftotext joins the header's two columns where their lines share a baseline.
            start = 0
            for i in range(1, len(words) + 1):
                if i == len(words) or words[i][1].x_min - words[i - 1][1].x_max > WORD_SPACE:
                    lines.append(Line(words[start:i]))
                    start = i
        heading = lines and lines[0].text.startswith("PHỤ LỤC")
        printed = 1 if heading else printed + 1
        pages.append(
            Page(number, printed, float(page.get("width")), float(page.get("height")), lines)
        )
    return pages


def read_pixels(path: Path) -> list[tuple[int, int, bytes]]:
    """Every page as 8-bit grey pixels at DPI: (width, height, the rows top to bottom)."""
    data = subprocess.run(
        ["pdftoppm", "-gray", "-r", str(DPI), str(path)], capture_output=True, check=True
    ).stdout
    header = re.compile(rb"P5\s+(\d+)\s+(\d+)\s+255\s")
    images, at = [], 0
    while at < len(data):
        match = header.match(data, at)
        assert match, "pdftoppm did not write a PGM image"
        width, height = int(match[1]), int(match[2])
        at = match.end() + width * height
        images.append((width, height, data[match.end() : at]))
    return images


def mm(points: float) -> str:
    return f"{points / MM:.1f} mm"


def words_outside(page: Page) -> list[str]:
    """Each word of `page` that crosses a margin, and where."""
    area, number = page.text_area, page.page_number
    problems = []
    for line in page.lines:
        for text, box in line.words:
            where = []
            if box.x_min < area.x_min - TOLERANCE:
                where.append(f"starts {mm(box.x_min)} from the left edge")
            if box.x_max > area.x_max + TOLERANCE:
                where.append(f"ends {mm(page.width - box.x_max)} from the right edge")
            if box.y_min < area.y_min - TOLERANCE and box is not number:
                where.append(f"starts {mm(box.y_min)} from the top edge")
            if box.y_max > area.y_max + TOLERANCE:
                where.append(f"ends {mm(page.height - box.y_max)} from the bottom edge")
            if where:
                problems.append(f"page {page.number}: {text!r} ({line.text!r}) " + ", ".join(where))
    return problems


def ink_outside(page: Page, pixels: tuple[int, int, bytes]) -> list[str]:
    """Where `page` has ink in a margin (its page number aside): the deepest, per side."""
    width, height, grey = pixels
    inside = page.text_area.scaled(SCALE, grow=TOLERANCE * SCALE)
    left, top = int(inside.x_min), int(inside.y_min)
    right, bottom = int(inside.x_max) + 1, int(inside.y_max) + 1
    number = page.page_number
    spared = number.scaled(SCALE, grow=2) if number else None  # with its anti-aliasing
    deepest: dict[str, int] = {}
    for y in range(height):
        row = grey[y * width : (y + 1) * width]
        spans = [(0, width)] if y < top or y >= bottom else [(0, left), (right, width)]
        for start, end in spans:
            for match in DARK_PIXEL.finditer(row, start, end):
                x = match.start()
                if (
                    spared
                    and spared.x_min <= x <= spared.x_max
                    and spared.y_min <= y <= spared.y_max
                ):
                    continue
                if x < left:
                    side, depth = "left", x
                elif x >= right:
                    side, depth = "right", width - 1 - x
                elif y < top:
                    side, depth = "top", y
                else:
                    side, depth = "bottom", height - 1 - y
                deepest[side] = min(deepest.get(side, depth), depth)
    return [
        f"page {page.number}: ink {mm(depth / SCALE)} from the {side} edge"
        for side, depth in sorted(deepest.items())
    ]


@dataclass(frozen=True)
class Rendered:
    """A generated report: poppler's reading of its PDF, the words of its agency block."""

    pages: list[Page]
    pixels: list[tuple[int, int, bytes]]
    agency_words: list[str]


@pytest.fixture(scope="module", params=list(ISSUERS))
def rendered(request, demo_data, django_db_blocker, tmp_path_factory) -> Rendered:
    """The June 2022 report of the demo plan for one issuer, generated as the beat would on
    01/07/2022; the database changes (the report, a renamed agency) are rolled back."""
    import time_machine
    from django.db import transaction
    from django.test import override_settings

    from reports.numbering import header_lines, issuer_parent
    from reports.services import monthly_report_generate
    from tasks_app.models import Agency, Plan

    scope_code, new_name = ISSUERS[request.param]
    folder = tmp_path_factory.mktemp(request.param)
    with (
        django_db_blocker.unblock(),
        transaction.atomic(),
        override_settings(MEDIA_ROOT=folder / "media"),
        time_machine.travel(FIRST_OF_JULY, tick=False),
    ):
        if new_name:
            Agency.objects.filter(code=scope_code).update(name=new_name)
        scope = Agency.objects.get(code=scope_code) if scope_code else None
        plan = Plan.objects.get(code="CDS-ND-2022")
        report = monthly_report_generate(plan=plan, period=JUNE, scope=scope)
        path = folder / "report.pdf"
        with report.pdf.open("rb") as pdf:
            path.write_bytes(pdf.read())
        parent = issuer_parent(report.issuer, report.period_end)
        names = (header_lines(parent) if parent else []) + header_lines(report.issuer)
        transaction.set_rollback(True)
    return Rendered(read_pages(path), read_pixels(path), " ".join(names).split())


def test_every_word_lies_inside_the_margins(rendered):
    """Page 1 with its header, every portrait page of the body, every landscape page of the
    appendix."""
    problems = [problem for page in rendered.pages for problem in words_outside(page)]
    assert not problems, "\n".join(problems)


def test_no_ink_in_the_margins(rendered):
    """Nor do the rules, the table borders or the charts cross a margin."""
    assert len(rendered.pixels) == len(rendered.pages)
    problems = [
        problem
        for page, pixels in zip(rendered.pages, rendered.pixels)
        for problem in ink_outside(page, pixels)
    ]
    assert not problems, "\n".join(problems)


def test_the_page_number_stays_in_the_top_margin(rendered):
    """The one thing printed above the text: the page number, from page 2, centred over
    the text as a word processor's header centres it; an appendix's pages numbered on their
    own, from its second page."""
    assert rendered.pages[0].page_number is None
    appendix_starts = [page for page in rendered.pages if page.printed == 1][1:]
    assert appendix_starts, "no appendix"
    for page in appendix_starts:  # nothing at all above the text
        top = page.text_area.y_min + TOLERANCE
        assert not [text for line in page.lines for text, box in line.words if box.y_max <= top]
    for page in rendered.pages:
        if page.printed == 1:
            continue
        number = page.page_number
        assert number is not None, f"page {page.number} has no number in its top margin"
        assert number.y_min >= 0
        assert number.centre == pytest.approx(page.text_area.centre, abs=1)


def _line(lines: list[Line], what: str, matches) -> Line:
    found = [line for line in lines if matches(line.text)]
    assert found, f"no {what} in the header: {[line.text for line in lines]}"
    return found[0]


def test_the_header_keeps_its_two_columns(rendered):
    """Agency block left (parent, issuer, then the number), national title right (title,
    motto, then place and date), each centred on its own axis, a gutter between them; the
    rule under the motto as long as the motto."""
    page = rendered.pages[0]
    doctype = _line(page.lines, "document type", lambda text: text == "BÁO CÁO")
    header = [line for line in page.lines if line.box.y_max < doctype.box.y_min]
    agency_text = " ".join(rendered.agency_words)
    agency = [line for line in header if line.text in agency_text]
    country = _line(header, "national title", lambda t: t == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    # The number line, whole even where a draft leaves the number blank ("Số:    /BC-…").
    so = _line(header, "number", lambda text: text.startswith("Số:"))
    number = Line(
        sorted(
            (
                word
                for line in header
                if abs(line.box.y_min - so.box.y_min) < 1 and line.box.x_max < country.box.x_min
                for word in line.words
            ),
            key=lambda word: word[1].x_min,
        )
    )
    motto = _line(header, "motto", lambda text: text == "Độc lập - Tự do - Hạnh phúc")
    date = _line(header, "place and date", lambda text: ", ngày " in text)

    # Every word of the parent and issuer names, in order, whatever the wrapping.
    assert " ".join(line.text for line in agency).split() == rendered.agency_words
    # Two columns side by side, each centred on its axis; on a shared line, a gutter.
    left, right = [*agency, number], [country, motto, date]
    assert max(line.box.x_max for line in left) < min(line.box.x_min for line in right)
    for a in left:
        for b in right:
            if a.box.y_min < b.box.y_max and b.box.y_min < a.box.y_max:
                assert b.box.x_min - a.box.x_max >= GUTTER, (a.text, b.text)
    for column in (left, right):
        centres = [line.box.centre for line in column]
        assert max(centres) - min(centres) < 1, [line.text for line in column]
    # Both start at the top; the number under the names, the date under the motto.
    assert agency[0].box.y_min == pytest.approx(country.box.y_min, abs=1)
    assert number.box.y_min > max(line.box.y_max for line in agency)
    assert country.box.y_max <= motto.box.y_min < motto.box.y_max <= date.box.y_min
    # The motto's rule: the longest dark run in the rows between the motto and the date.
    width, _height, grey = rendered.pixels[0]
    runs = [
        (match.start(), match.end())
        for y in range(int(motto.box.y_max * SCALE), int(date.box.y_min * SCALE))
        for match in DARK_RUN.finditer(
            grey, y * width + int(country.box.x_min * SCALE), (y + 1) * width
        )
    ]
    start, end = max(runs, key=lambda run: run[1] - run[0])
    row_start = start - start % width
    assert (start - row_start) / SCALE == pytest.approx(motto.box.x_min, abs=1.5)
    assert (end - row_start) / SCALE == pytest.approx(motto.box.x_max, abs=1.5)
