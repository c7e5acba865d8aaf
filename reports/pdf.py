"""HTML to PDF with WeasyPrint, reading nothing but the project's own static files.

`render_pdf(html)` lays out an HTML string (templates/reports/pdf/monthly.html) and returns
the PDF bytes, the page count and where the digital signature goes: the laid-out rectangle
of the element `id="signature-box"` (reports/signing.py draws the signature there).
Resources go through `StaticOnlyFetcher`:

- a `file:///static/<path>` URL (what `{% static %}` gives against the base URL) is looked
  up with django.contrib.staticfiles' finders, and served only if the file found lies under
  one of their folders;
- everything else is refused: http(s), ftp, data:, other file paths. An image URL typed into
  a task (escaped by the template anyway) is never fetched, and the server never reaches out
  to the network or reads an arbitrary file while rendering.

Fonts come from fontconfig (Liberation Serif from Debian's fonts-liberation2, a metric twin
of Times New Roman with every Vietnamese glyph), not through the fetcher; WeasyPrint embeds
the subset it uses.
"""

from __future__ import annotations

import io
import logging
import mimetypes
import os
import posixpath
import re
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

# WeasyPrint logs every layout step at INFO ("Step 5 - Creating layout - Page 12"): noise in
# a worker's log, where the root level is INFO.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
logger = logging.getLogger(__name__)

from weasyprint import CSS, HTML  # noqa: E402
from weasyprint import html as weasyprint_html  # noqa: E402
from weasyprint.css.counters import CounterStyle  # noqa: E402
from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: E402

# The base URL of the HTML: relative and root-relative URLs resolve to file:///…, where the
# fetcher maps the static prefix to the finders.
BASE_URL = "file:///"


class RefusedURL(ValueError):
    """The PDF renderer asked for something outside the project's static files."""


def _static_prefix() -> str:
    prefix = urlsplit(settings.STATIC_URL).path or "/static/"
    return "/" + prefix.strip("/") + "/"


def _static_roots() -> list[Path]:
    """Every folder the staticfiles finders read from (the project's static dirs and the
    apps' static/ folders)."""
    roots: list[Path] = []
    for finder in finders.get_finders():
        storages = getattr(finder, "storages", None)
        if storages:
            for storage in storages.values():
                location = getattr(storage, "location", None)
                if location:
                    roots.append(Path(location).resolve())
        storage = getattr(finder, "storage", None)
        location = getattr(storage, "location", None) if storage is not None else None
        if location:
            roots.append(Path(location).resolve())
    return roots


def static_path(url: str) -> Path:
    """The local file behind a `file:///static/…` URL; RefusedURL for any other URL."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        raise RefusedURL(f"refused (only the project's static files are read): {url[:200]}")
    path = unquote(parts.path)
    prefix = _static_prefix()
    if not path.startswith(prefix):
        raise RefusedURL(f"refused (not under {prefix}): {url[:200]}")
    relative = path[len(prefix) :]
    normalised = posixpath.normpath(relative)
    if not relative or normalised.startswith(("..", "/")) or "\x00" in relative:
        raise RefusedURL(f"refused (outside the static files): {url[:200]}")
    found = finders.find(normalised)
    if not found:
        raise RefusedURL(f"refused (no such static file): {url[:200]}")
    resolved = Path(found if isinstance(found, str) else found[0]).resolve()
    # A symlink inside a static folder must not lead out of it.
    if not any(resolved.is_relative_to(root) for root in _static_roots()):
        raise RefusedURL(f"refused (outside the static files): {url[:200]}")
    return resolved


class StaticOnlyFetcher(URLFetcher):
    """WeasyPrint URL fetcher serving only the project's static files (see module doc)."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("file",), allow_redirects=False, timeout=1)

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        path = static_path(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            path.as_uri(), path.read_bytes(), headers={"Content-Type": content_type}
        )


# The element whose laid-out box receives the visible signature (the signer's block of
# monthly.html: between the title and the name, where the seal and signature stand).
SIGNATURE_BOX_ID = "signature-box"
# WeasyPrint lays out in CSS px and writes the PDF at 1 px = 0.75 pt (96 px to 72 pt an inch).
PT_PER_PX = 0.75


@dataclass(frozen=True)
class SignatureBox:
    """A rectangle of one page in PDF points, origin at the bottom left of the page (the
    convention of a PDF /Rect and of pyHanko's SigFieldSpec.box); `page` counts from 0."""

    page: int
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def rect(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    pages: int
    # Where the signature goes; None when the HTML has no element of id SIGNATURE_BOX_ID.
    signature_box: SignatureBox | None = None
    # The processes that laid it out (render_pdf): 1, or more for a document in parts.
    processes: int = 1


def find_signature_box(document, element_id: str = SIGNATURE_BOX_ID) -> SignatureBox | None:
    """The border box of the first laid-out box of the element `element_id`, in PDF points.

    WeasyPrint's public API gives an anchor's top-left point (`Page.anchors`) but not its
    size, so this walks the page's box tree (`Page._page_box`, private): the first box in
    document order whose element has the id is the element's own box (anonymous children
    and ::before/::after boxes come after it or carry a pseudo tag).
    tests/reports/test_signing.py checks the rectangle, so an upgrade that changes the tree
    fails there."""
    for index, page in enumerate(document.pages):
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is None or "::" in (getattr(box, "element_tag", "") or ""):
                continue
            if element.get("id") != element_id:
                continue
            x, y = box.border_box_x(), box.border_box_y()
            width, height = box.border_width(), box.border_height()
            return SignatureBox(
                page=index,
                x0=round(x * PT_PER_PX, 2),
                y0=round((page.height - y - height) * PT_PER_PX, 2),
                x1=round((x + width) * PT_PER_PX, 2),
                y1=round((page.height - y) * PT_PER_PX, 2),
            )
    return None


def _report_user_agent_css(text: str) -> str:
    """WeasyPrint's user-agent style sheet without its rules for every element's
    pseudo-elements: `::marker` applies to list items only, and the footnote and note
    pseudo-elements (`::footnote-call`, `::note-marker`…) are dropped, as the reports have
    no footnote nor note.

    Those universal rules gave each element six pseudo-element styles, computed one by one
    (WeasyPrint shares the computed style of like elements, not of their pseudo-elements):
    a fifth of the monthly report's layout at 20,000 tasks (issue 18). The PDF is the same
    byte for byte (tests/reports/test_pdf_speed.py)."""
    scoped, count = re.subn(r"^::marker \{", "li::marker {", text, flags=re.MULTILINE)
    text, dropped = re.subn(
        r"^::(?:footnote|note)-[a-z]+ \{[^}]*\}\n", "", scoped, flags=re.MULTILINE
    )
    if count != 1 or dropped < 2:
        raise RuntimeError("WeasyPrint's user-agent style sheet changed (_report_user_agent_css)")
    return text


# Built once per process, like WeasyPrint's own. Its @counter-style rules go to a counter
# style object of its own: WeasyPrint's (UA_COUNTER_STYLE, which documents copy) holds them
# already and logs a warning for each one defined again.
REPORT_UA_STYLESHEET = CSS(
    string=_report_user_agent_css(weasyprint_html.UA), counter_style=CounterStyle()
)


class ReportHTML(HTML):
    """An HTML document laid out with REPORT_UA_STYLESHEET (the report has no form).
    `_ua_stylesheets` is WeasyPrint's (private) hook for its user-agent style sheets;
    tests/reports/test_monthly_render_order.py fails if an upgrade stops calling it."""

    def _ua_stylesheets(self, forms=False):
        return [REPORT_UA_STYLESHEET]


# The template marks where a part of the document begins that is laid out as a document of
# its own (each appendix of monthly.html): Decree 30 numbers an appendix's pages on their own.
PART_BREAK = "<!-- pdf-part -->"
_BODY_TAG = re.compile(r"<body\b[^>]*>", re.IGNORECASE)


def split_parts(html: str) -> list[str]:
    """`html` cut at each PART_BREAK into whole documents: each part keeps the head (title,
    style sheet) and the body tag; a document without PART_BREAK is one part."""
    if PART_BREAK not in html:
        return [html]
    opening = _BODY_TAG.search(html)
    closing = html.rfind("</body>")
    if opening is None or closing < opening.end():
        raise ValueError("A document with parts needs a <body> element.")
    head, tail = html[: opening.end()], html[closing:]
    return [head + chunk + tail for chunk in html[opening.end() : closing].split(PART_BREAK)]


def _render_one(html: str) -> RenderedPdf:
    document = ReportHTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher()).render()
    return RenderedPdf(
        content=document.write_pdf(),
        pages=len(document.pages),
        signature_box=find_signature_box(document),
    )


def processes_for(parts: int, *, setting: int, cpus: int, threads: int) -> int:
    """How many processes lay out `parts` parts: `setting` (REPORT_PDF_PROCESSES; 0: one
    per CPU this process may use), never more than the parts. One when this process runs
    other threads: a child made with fork() has only the thread that made it, and a lock
    another thread held (in fontconfig, in cairo) would stay locked there."""
    if threads > 1 or not hasattr(os, "fork"):
        return 1
    return max(1, min(setting or cpus, parts))


def _processes_wanted(parts: int) -> int:
    return processes_for(
        parts,
        setting=settings.REPORT_PDF_PROCESSES,
        cpus=len(os.sched_getaffinity(0)),
        threads=threading.active_count(),
    )


class _Child:
    """One part laid out in a child process made with fork(): the child has the parent's
    WeasyPrint, fonts and settings already loaded, lays out its HTML, writes the page count
    and the PDF into a pipe and ends with os._exit (none of the parent's clean-up runs there:
    its database connections and open files stay the parent's). Not multiprocessing: a
    Celery worker's pool processes are daemonic, and multiprocessing refuses them children."""

    def __init__(self, html: str):
        self.html = html
        read_end, write_end = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child
            status = 1
            try:
                os.close(read_end)
                rendered = _render_one(html)
                with os.fdopen(write_end, "wb") as pipe:
                    pipe.write(b"%d\n" % rendered.pages + rendered.content)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        self._pipe = os.fdopen(read_end, "rb")

    def result(self) -> RenderedPdf:
        """The child's part; laid out here instead when the child failed (killed, out of
        memory…): a part is never lost, and an error in the HTML is raised here with its
        own traceback."""
        try:
            with self._pipe:
                data = self._pipe.read()
            _pid, status = os.waitpid(self.pid, 0)
            self.pid = 0
            pages, _newline, content = data.partition(b"\n")
            if os.waitstatus_to_exitcode(status) == 0 and pages.isdigit() and content:
                return RenderedPdf(content=content, pages=int(pages))
        finally:
            self.stop()
        logger.warning("A part of the PDF failed in its own process; laid out again here.")
        return _render_one(self.html)

    def stop(self) -> None:
        """End the child if it still runs (the job stopped early: its time limit, an
        error in another part)."""
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.pid = 0


def join_pdfs(parts: list[RenderedPdf]) -> bytes:
    """One PDF of the parts' pages in order, with the first part's document information
    (title, author) and language; the bookmarks of every part are kept."""
    writer = PdfWriter()
    readers = [PdfReader(io.BytesIO(part.content)) for part in parts]
    for reader in readers:
        writer.append(reader)
    first = readers[0]
    if first.metadata:
        writer.add_metadata(first.metadata)
    if "/Lang" in first.root_object:
        writer.root_object[NameObject("/Lang")] = first.root_object["/Lang"]
    # pypdf writes no date and no file identifier: the same parts give the same bytes.
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def render_pdf(html: str, processes: int | None = None) -> RenderedPdf:
    """Lay out `html` and return the PDF. Deterministic: the same HTML gives the same bytes
    (no creation date is written), so a regenerated report has the same checksum.

    A document cut into parts (PART_BREAK: the monthly report's appendices) is laid out part
    by part, each a document of its own with its own page numbers, then joined (join_pdfs).
    With `processes` (default: _processes_wanted) above one, the last parts are laid out in
    child processes while this one lays out the first ones: at 20,000 tasks the task list
    (the last appendix) is the longest part, and a layout uses one CPU (issue 18,
    bench/README.md). The bytes are the same either way."""
    parts = split_parts(html)
    if len(parts) == 1:
        return _render_one(html)
    processes = _processes_wanted(len(parts)) if processes is None else processes
    here = max(1, len(parts) - (processes - 1))
    children = [_Child(part) for part in parts[here:]]
    try:
        rendered = [_render_one(part) for part in parts[:here]]
        rendered += [child.result() for child in children]
    finally:
        for child in children:
            child.stop()
    return RenderedPdf(
        content=join_pdfs(rendered),
        pages=sum(part.pages for part in rendered),
        signature_box=rendered[0].signature_box,
        processes=1 + len(children),
    )
